{#-
    `gold_versioned`: an external Parquet snapshot kept per version, for gold.training_sets.

    Layout: `<location>/<version_column>=<version>/partition_date=<YYYY-MM-DD>/data_0.parquet`.
    A build replaces exactly one version's directory (OVERWRITE on `<version_column>=<version>`), so v1.0 and
    v1.1 live side by side and a rebuilt version never keeps a stale day. A training set is one snapshot over
    the whole labelled range (its split boundaries and class weights are fitted on its own training window), so
    it is always rebuilt whole; the `start_date`/`end_date` window does not apply to it.
    Like silver's `lake_partitioned` (macros/lake_partitioned.sql): an empty result writes nothing (never the
    all-NULL `__HIVE_DEFAULT_PARTITION__` row) and a null partition value is an error.
    Config: version_column (required, a column holding one value), partition_by (default partition_date),
    location (default `<external_root>/gold/<model name>`; `<LAKE_ROOT>/gold/` must exist locally).
-#}
{% materialization gold_versioned, adapter="duckdb" %}
    {%- set version_column = config.require('version_column') -%}
    {%- set partition_by = config.get('partition_by', 'partition_date') -%}
    {%- set location = config.get('location') or (target.external_root ~ '/gold/' ~ this.identifier) -%}

    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set temp_relation = make_intermediate_relation(this.incorporate(type='table'), suffix='__gold_tmp') -%}
    {{ drop_relation_if_exists(load_cached_relation(temp_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('create_table') -%}
        {{ create_table_as(False, temp_relation, compiled_code) }}
    {%- endcall %}

    {%- set columns = adapter.get_columns_in_relation(temp_relation) -%}
    {%- set stats = run_query(
        'select count(*), count(*) filter (where ' ~ partition_by ~ ' is null or ' ~ version_column
        ~ ' is null), count(distinct ' ~ version_column ~ '), any_value(' ~ version_column ~ ') from '
        ~ temp_relation) -%}
    {%- set row_count = stats.columns[0].values()[0] -%}
    {%- if stats.columns[1].values()[0] > 0 -%}
        {{ exceptions.raise_compiler_error(this.name ~ ': ' ~ stats.columns[1].values()[0]
            ~ ' row(s) with a null ' ~ partition_by ~ ' or ' ~ version_column ~ '; nothing written') }}
    {%- endif -%}
    {%- if stats.columns[2].values()[0] > 1 -%}
        {{ exceptions.raise_compiler_error(this.name ~ ': one build must hold one ' ~ version_column) }}
    {%- endif -%}

    {% if row_count > 0 %}
        {%- set version = stats.columns[3].values()[0] -%}
        {#- create `<location>` itself when missing (DuckDB creates one directory level per COPY) -#}
        {% call statement('make_location') -%}
            copy (select '{{ version }}' as {{ version_column }}, 1 as placeholder where false)
            to '{{ location }}' (format parquet, partition_by ({{ version_column }}), overwrite_or_ignore true)
        {%- endcall %}
        {% call statement('write_version') -%}
            copy (select * exclude ({{ version_column }}) from {{ temp_relation }})
            to '{{ location }}/{{ version_column }}={{ version }}' (
                format parquet,
                compression zstd,
                partition_by ({{ partition_by }}),
                overwrite true,
                filename_pattern 'data_{i}'
            )
        {%- endcall %}
    {% else %}
        {{ log(this.name ~ ': no rows; nothing written to ' ~ location, info=True) }}
    {% endif %}

    {%- set glob = location ~ '/*/*/*.parquet' -%}
    {% if existing_relation is not none and existing_relation.type != 'view' %}
        {{ drop_relation_if_exists(existing_relation) }}
    {% endif %}
    {% call statement('main') -%}
        create or replace view {{ target_relation }} as
        {{ lake_view_sql(glob, columns, ["'" ~ version_column ~ "': varchar", "'" ~ partition_by ~ "': varchar"]) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(temp_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
