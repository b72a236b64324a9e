-- noqa: disable=LT02
-- (Jinja macro file: LT02 would judge the indentation of Jinja control flow as SQL layout.)
{#- Reader-safe writes of a lake table's Parquet files, shared by the `lake_partitioned` and `gold_versioned`
    materializations. The file moves happen in the DuckDB functions `schemahub_lake_swap` / `schemahub_lake_prune`
    that the dbt-duckdb plugin `schemahub.lake_swap` registers (profiles.yml `plugins:`); that module's
    docstring explains the local and S3 strategies and why S3 overwrites keys in place. -#}


{% macro lake_staging_dir(path) %}
{#- The staging folder of a local table folder: a hidden sibling, outside every reader's `<path>/*...` glob. -#}
    {%- set parts = path.rstrip('/').split('/') -%}
    {{- return((parts[:-1] + ['.' ~ parts[-1] ~ '.staging']) | join('/')) -}}
{% endmacro %}


{% macro lake_replace_files(location, select_sql, partition_cols, prune, staging=none) %}
{#- Write `select_sql` as `<location>/<col>=<value>/data_0.parquet` (one file per partition). The partitions of
    the result replace their live files with no moment where a reader finds them missing or half-written; with
    `prune`, every other live file under `location` is deleted afterwards (a full build). `staging` (local
    only) defaults to `lake_staging_dir(location)`; it must lie outside the readers' glob of the table. -#}
    {%- set copy_options -%}
        format parquet,
        compression zstd,
        partition_by ({{ partition_cols | join(', ') }}),
        filename_pattern 'data_{i}'
    {%- endset -%}
    {%- if '://' in location -%}
        {#- Object store: PUT onto the same keys (atomic per object), then delete what the build did not write. -#}
        {%- do run_query(
            "copy (" ~ select_sql ~ ") to '" ~ location ~ "' (" ~ copy_options ~ ", overwrite_or_ignore true)") -%}
        {%- if prune -%}
            {#- the partition folders the COPY wrote, named as DuckDB names them (`col=value`; the lake's
                partition columns are dates, whose text form needs no escaping) -#}
            {%- set folder_parts = [] -%}
            {%- for col in partition_cols -%}
                {%- do folder_parts.append("'" ~ col ~ "=' || cast(" ~ col ~ " as varchar)") -%}
            {%- endfor -%}
            {%- set pruned = run_query(
                "select schemahub_lake_prune('" ~ location ~ "', (select coalesce(list(distinct "
                ~ folder_parts | join(" || '/' || ") ~ "), []::varchar[]) from (" ~ select_sql ~ ")), true)") -%}
            {{- log(location ~ ': ' ~ pruned.columns[0].values()[0], info=false) -}}
        {%- endif -%}
    {%- else -%}
        {%- set staging_dir = staging or lake_staging_dir(location) -%}
        {%- do lake_ensure_dir(location) -%}
        {%- do lake_ensure_dir(staging_dir) -%}
        {%- do run_query(
            "copy (" ~ select_sql ~ ") to '" ~ staging_dir ~ "' (" ~ copy_options ~ ", overwrite true)") -%}
        {%- set swapped = run_query(
            "select schemahub_lake_swap('" ~ staging_dir ~ "', '" ~ location ~ "', " ~ ('true' if prune else 'false') ~ ")") -%}
        {{- log(location ~ ': ' ~ swapped.columns[0].values()[0], info=false) -}}
    {%- endif -%}
{% endmacro %}
