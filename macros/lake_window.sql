-- noqa: disable=LT02
-- (Jinja macro file: LT02 would judge the indentation of Jinja control flow as SQL layout.)
{#- Helpers of the `lake_partitioned` materialization (macros/materializations/lake_partitioned.sql):
    the [start_date, end_date] build window and the output location. -#}


{% macro lake_window_is_set() %}
    {{- return(var('start_date', none) is not none or var('end_date', none) is not none) -}}
{% endmacro %}


{% macro lake_date_filter(date_expr, lookback_days=0) %}
{#- `true`, or the predicate keeping [start_date - lookback_days, end_date] for a date expression. -#}
    {%- set start = var('start_date', none) -%}
    {%- set end = var('end_date', none) -%}
    {%- if start is none and end is none -%}
        true
    {%- else -%}
        (
            true
            {%- if start is not none %}
                and {{ date_expr }} >= cast('{{ start }}' as date) - {{ lookback_days | int }}
            {%- endif %}
            {%- if end is not none %}
                and {{ date_expr }} <= cast('{{ end }}' as date)
            {%- endif %}
        )
    {%- endif -%}
{% endmacro %}


{% macro lake_location(relation, model_node) %}
    {%- set layer = model_node.fqn[1] if model_node.fqn | length > 2 else 'silver' -%}
    {{- return(config.get('location') or (target.external_root ~ '/' ~ layer ~ '/' ~ relation.identifier)) -}}
{% endmacro %}


{% macro lake_ensure_dir(path) %}
{#- Create a local directory and its missing parents (DuckDB's partitioned COPY creates one level only,
    duckdb/dbt-duckdb#337). An empty partitioned COPY with OVERWRITE_OR_IGNORE creates the directory and
    writes no file; existing directories and their files are left as they are. Object stores need nothing. -#}
    {%- if '://' not in path -%}
        {%- set parts = path.split('/') -%}
        {%- for i in range(1, parts | length + 1) -%}
            {%- set prefix = parts[:i] | join('/') -%}
            {%- if prefix not in ['', '.', '..'] and parts[i - 1] not in ['', '.', '..'] -%}
                {%- do run_query(
                    "copy (select 1 as lake_dir_part, 1 as lake_dir_value where false) to '" ~ prefix
                    ~ "' (format parquet, partition_by (lake_dir_part), overwrite_or_ignore true)") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
