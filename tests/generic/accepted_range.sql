{% test accepted_range(model, column_name, min_value=None, max_value=None, inclusive=True) %}
{#- Fails for every non-null value of the column outside [min_value, max_value] (or the open range). -#}
select {{ column_name }}
from {{ model }}
where
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
            or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
            or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
    )
{% endtest %}
