{#-
    `gold_versioned`: an external Parquet snapshot kept per version, for gold.training_sets.

    Layout: `<location>/<version_column>=<version>/partition_date=<YYYY-MM-DD>/data_0.parquet`.
    A build replaces exactly one version's directory (`<version_column>=<version>`), so v1.0 and v1.1 live side
    by side and a rebuilt version never keeps a stale day; the replacement is reader-safe (lake_replace_files in
    macros/lake_files.sql: new files complete before any old one is removed, no moment with an empty folder).
    A training set is one snapshot over the whole labelled range (its split boundaries and class weights are
    fitted on its own training window), so it is always rebuilt whole; the `start_date`/`end_date` window does not apply to it.
    Like silver's `lake_partitioned` (macros/lake_partitioned.sql): an empty result writes nothing (never the
    all-NULL `__HIVE_DEFAULT_PARTITION__` row) and a null partition value is an error.
    Config: version_column (required, a column holding one value), partition_by (default partition_date),
    location (default `<external_root>/gold/<model name>`; missing local folders are created).
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
        {#- reader-safe (macros/lake_files.sql): the version's new files are complete before any old one goes;
            local disk stages under `.<table>.staging/<version_column>=<version>`, outside the readers' glob -#}
        {% do lake_replace_files(
            location ~ '/' ~ version_column ~ '=' ~ version,
            'select * exclude (' ~ version_column ~ ') from ' ~ temp_relation,
            [partition_by],
            prune=true,
            staging=lake_staging_dir(location) ~ '/' ~ version_column ~ '=' ~ version) %}
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
