{% test not_empty(model) %}
{#- Fails when the relation has no rows at all (a source or model that should never be empty). -#}
select 1 as no_rows
where not exists (select 1 from {{ model }})
{% endtest %}
