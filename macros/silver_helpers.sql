-- noqa: disable=LT02
-- (Jinja macro file: LT02 would judge the indentation of Jinja control flow as SQL layout.)
{% macro created_ts_ms() %}
{#- ETL processing time of this dbt invocation, epoch ms (the same for every row a run writes). -#}
    {%- if run_started_at is defined -%}
        {{- return('cast(' ~ ((run_started_at.timestamp() * 1000) | int) ~ ' as bigint)') -}}
    {%- else -%}
        {{- return('cast(0 as bigint)') -}}
    {%- endif -%}
{% endmacro %}


{% macro source_channel(source_col) %}
{#- The channel part of a bronze `_source` (venue.channel.endpoint): rest | ws | dump | recording | ... -#}
    split_part({{ source_col }}, '.', 2)
{% endmacro %}


{% macro staging_columns(staging_model) %}
{#- The columns a staging model produces, from its mapping file: constants, mapped targets, side, lineage and,
    when symbols are mapped, canonical_symbol/base/quote (stg_<venue>__<dataset> reads raw_<venue>_<dataset>). -#}
    {%- set source_table = 'raw_' ~ staging_model | replace('stg_', '', 1) | replace('__', '_') -%}
    {%- set m = mapping_for(source_table) -%}
    {%- set cols = (m.get('constants') or {}).keys() | list + m.mappings.values() | list
        + ['source', 'ingest_ts', 'recv_ts', 'source_uri', 'source_checksum', 'raw_payload', 'bronze_date'] -%}
    {%- if m.get('side') -%}
        {%- do cols.append('side') -%}
    {%- endif -%}
    {%- if m.get('symbols', true) -%}
        {%- do cols.extend(['canonical_symbol', 'base', 'quote']) -%}
    {%- endif -%}
    {{ return(cols | map('lower') | list) }}
{% endmacro %}


{% macro staging_column(staging_model, column_name, data_type) %}
{#- A column of a staging model cast to `data_type`, or a typed NULL when that venue's mapping does not
    produce it (e.g. Kraken books carry no update id). Decided from the mapping file, not the catalog, so a
    unit test's fixture behaves like the real model. -#}
    {%- if execute and column_name | lower in staging_columns(staging_model) -%}
        cast({{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{% endmacro %}


{% macro top_levels(levels_expr, descending, depth=10) %}
{#- A book side as list<struct(price, quantity)> -> its best `depth` non-empty levels, best first, as
    list<struct(price, quantity, value)> with value = price * quantity. -#}
    list_transform(
        list_slice(
            list_sort(
                list_filter({{ levels_expr }}, lvl -> lvl.quantity > 0),
                '{{ "DESC" if descending else "ASC" }}'
            ),
            1,
            {{ depth }}
        ),
        lvl -> {'price': lvl.price, 'quantity': lvl.quantity, 'value': lvl.price * lvl.quantity}
    )
{% endmacro %}


{% macro union_staging(models, columns, date_column, lookback_days=0) %}
{#- `union all` of staging models with the same typed column list [[name, type], ...]; a column a venue's
    mapping does not produce becomes a typed NULL. Rows are limited to the build window on `date_column`. -#}
    {%- for staging_model in models %}
        {%- set rel = ref(staging_model) %}
select
    {%- for col in columns %}
    {{ staging_column(staging_model, col[0], col[1]) }} as {{ col[0] }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ rel }}
where {{ lake_date_filter(date_column, lookback_days) }}
        {%- if not loop.last %}
union all
        {%- endif %}
    {%- endfor %}
{% endmacro %}


{% macro levels_all_positive(levels_expr) %}
{#- true when every level of a list<struct(price, quantity, ...)> has a positive price and quantity. -#}
    coalesce(list_bool_and(list_transform({{ levels_expr }}, lvl -> lvl.price > 0 and lvl.quantity > 0)), true)
{% endmacro %}
