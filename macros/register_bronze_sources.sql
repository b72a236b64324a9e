-- noqa: disable=LT02
-- (Jinja macro file: LT02 would judge the indentation of Jinja control flow as SQL layout.)
{% macro bronze_glob(table_name) %}
    {{- return(target.external_root ~ '/bronze/' ~ table_name ~ '/*/*/*.parquet') -}}
{% endmacro %}


{% macro bronze_relation_sql(source_node, has_files) %}
{#- The SQL of one bronze view: the declared columns read from the table's Parquet files (hive columns symbol
    and date from the path), or, when the table has no file yet, an empty relation with the same typed columns. -#}
    {%- set cols = source_node.columns.values() | list -%}
    {%- if cols | length == 0 -%}
        {{ exceptions.raise_compiler_error("source bronze." ~ source_node.name ~ " declares no columns") }}
    {%- endif -%}
    {%- if has_files -%}
        select
        {%- for col in cols %}
            cast("{{ col.name }}" as {{ col.data_type }}) as "{{ col.name }}"{{ "," if not loop.last }}
        {%- endfor %}
        from read_parquet(
            '{{ bronze_glob(source_node.name) }}',
            hive_partitioning = true,
            hive_types = {'symbol': varchar, 'date': date},
            union_by_name = true
        )
    {%- else -%}
        select
        {%- for col in cols %}
            cast(null as {{ col.data_type }}) as "{{ col.name }}"{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif -%}
{% endmacro %}


{% macro register_bronze_sources() %}
{#- on-run-start: (re)create one view `bronze.<table>` per bronze source, decided at run time: a table whose
    glob matches no file yet becomes an empty relation typed from the source's declared columns, so a lake
    that has not ingested every dataset still builds. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- do run_query('create schema if not exists bronze') -%}
    {#- one glob over every bronze table (one listing instead of one per table), counted per table folder -#}
    {%- set counted = run_query(
        "select regexp_extract(file, '/bronze/([^/]+)/[^/]+/[^/]+/[^/]+$', 1) as table_name, count(*) as n_files "
        ~ "from glob('" ~ bronze_glob('*') ~ "') group by 1") -%}
    {%- set files_per_table = {} -%}
    {%- for row in counted.rows -%}
        {%- do files_per_table.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set views = [] -%}
    {%- set registered = [] -%}
    {%- for node in graph.sources.values() if node.source_name == 'bronze' -%}
        {%- set n_files = files_per_table.get(node.name, 0) -%}
        {%- do views.append('create or replace view bronze."' ~ node.name ~ '" as '
            ~ bronze_relation_sql(node, n_files > 0)) -%}
        {%- do registered.append(node.name ~ ':' ~ n_files) -%}
    {%- endfor -%}
    {%- do run_query(views | join(';\n')) -%}
    {%- do log('bronze views (table:files): ' ~ registered | join(', '), info=true) -%}
    {{ return('select 1 as bronze_sources_registered') }}
{% endmacro %}
