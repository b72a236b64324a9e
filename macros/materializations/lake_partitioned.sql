{#-
    `lake_partitioned`: a dbt-duckdb external Parquet table partitioned by date, with a rebuild of only the
    dates in [var('start_date'), var('end_date')]. dbt-duckdb has no incremental external materialization
    (duckdb/dbt-duckdb#74), so this one:
      1. builds the model into a temp table;
      2. refuses a null partition value (the all-NULL `__HIVE_DEFAULT_PARTITION__` row dbt-duckdb's `external`
         writes for an empty result can never appear: an empty result writes nothing);
      3. writes it as `<location>/<partition>=<value>/data_0.parquet` (PARTITION_BY) through
         `lake_replace_files` (macros/lake_files.sql), reader-safe: the new files are complete before any old
         one goes away (local disk: COPY to a staging folder beside the table, then an atomic rename per file;
         S3: COPY onto the same keys, each PUT replacing its object atomically). With a date window only the
         partitions present in the result are replaced and other dates stay; without one (a full build), live
         files the build did not write (dates that vanished) are deleted AFTER the new files are in place.
         DuckDB 1.5 writes one file per partition (`data_0`) whatever the thread count, so a rebuilt day never
         keeps a stale sibling file; a date of the window for which the model now returns no row at all keeps
         its earlier files (bronze is append-only, so this needs bronze files removed: run a full build);
      4. points the view `<model>` at `read_parquet('<location>/*/*.parquet', hive_partitioning)` with the
         model's own column order and types (or an empty typed view while no file exists yet).
    Config: partition_by (column, required), location (default `<external_root>/<layer>/<model name>`, where
    layer is the model's folder under models/). Missing local directories are created first (lake_ensure_dir).
-#}

{% materialization lake_partitioned, adapter='duckdb' %}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set partition_cols = [partition_by] if partition_by is string else partition_by -%}
    {%- set location = lake_location(this, model) -%}
    {%- set full_build = not lake_window_is_set() -%}

    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set temp_relation = make_intermediate_relation(this.incorporate(type='table'), suffix='__lake_tmp') -%}
    {{ drop_relation_if_exists(load_cached_relation(temp_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('create_table') -%}
        {{ create_table_as(False, temp_relation, compiled_code) }}
    {%- endcall %}

    {%- set columns = adapter.get_columns_in_relation(temp_relation) -%}
    {%- set column_names = columns | map(attribute='column') | list -%}
    {%- for col in partition_cols if col not in column_names -%}
        {{ exceptions.raise_compiler_error(this.name ~ ": partition column '" ~ col ~ "' is not a column of the model") }}
    {%- endfor -%}

    {%- set stats = run_query(
        'select count(*), count(*) filter (where ' ~ (partition_cols | join(' is null or ')) ~ ' is null) from '
        ~ temp_relation) -%}
    {%- set row_count = stats.columns[0].values()[0] -%}
    {%- if stats.columns[1].values()[0] > 0 -%}
        {{ exceptions.raise_compiler_error(
            this.name ~ ": " ~ stats.columns[1].values()[0] ~ " row(s) with a null partition column ("
            ~ partition_cols | join(', ') ~ "); refusing to write __HIVE_DEFAULT_PARTITION__") }}
    {%- endif -%}

    {% if row_count > 0 or full_build %}
        {% do lake_replace_files(location, 'select * from ' ~ temp_relation, partition_cols, prune=full_build) %}
    {% endif %}

    {%- set glob = location ~ ('/*' * partition_cols | length) ~ '/*.parquet' -%}
    {%- set hive_types = [] -%}
    {%- for col in columns if col.column in partition_cols -%}
        {%- do hive_types.append("'" ~ col.column ~ "': " ~ col.dtype) -%}
    {%- endfor -%}

    {% if existing_relation is not none and existing_relation.type != 'view' %}
        {{ drop_relation_if_exists(existing_relation) }}
    {% endif %}
    {% call statement('main') -%}
        create or replace view {{ target_relation }} as
        {{ lake_view_sql(glob, columns, hive_types) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(temp_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
