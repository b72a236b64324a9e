{% test no_hive_default_partition(model, column_name) %}
{#- Fails when the partition column is null: dbt-duckdb writes an all-null row (stored under
    `__HIVE_DEFAULT_PARTITION__`) for an empty result, and no SchemaHub output may ever hold one. -#}
select *
from {{ model }}
where {{ column_name }} is null
{% endtest %}
