{#-
    The view a lake materialization leaves in the warehouse: its columns read from the Parquet under `glob`
    (hive partition columns typed by `hive_types`, a list of "'name': type" strings), or, while no file exists
    yet, a typed empty relation. Shared by lake_partitioned and gold_versioned.
-#}
{% macro lake_view_sql(glob, columns, hive_types) -%}
    {%- set n_files = run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0] -%}
    {% if n_files > 0 -%}
        select
        {%- for col in columns %}
            "{{ col.column }}"{{ "," if not loop.last }}
        {%- endfor %}
        from read_parquet(
            '{{ glob }}',
            hive_partitioning = true,
            hive_types = { {{- hive_types | join(', ') -}} },
            union_by_name = true
        )
    {%- else -%}
        select
        {%- for col in columns %}
            cast(null as {{ col.dtype }}) as "{{ col.column }}"{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif %}
{%- endmacro %}
