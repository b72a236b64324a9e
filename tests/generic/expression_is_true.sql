{% test expression_is_true(model, expression, column_name=None, where_clause=None) %}
{#- Fails for every row where `expression` is not true (false or null). Under a column, `expression` may
    start with an operator and is applied to that column, e.g. `>= 0`. -#}
select *
from {{ model }}
where
    not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)
    {%- if where_clause %}
        and ({{ where_clause }})
    {%- endif %}
{% endtest %}
