-- noqa: disable=LT02
-- (Jinja macro file: LT02 would judge the indentation of Jinja control flow as SQL layout.)
{#-
    The SchemaHub mapping engine: ONE macro turns a bronze table into a staging relation, driven by the
    declarative mapping file config/mappings/<venue>_<dataset>.yaml (SchemaHub mapping format), read when
    the model runs:

      source: raw_<venue>_<dataset>      bronze table (source `bronze`)
      target_table: trades_unified        where the rows go next (documentation + discovery)
      mappings: {native_column: target}   rename; every native column that is used must be listed
      constants: {target: value}          literal columns, e.g. exchange: binance
      transforms: {target: name}          from_ms | from_us | ms_or_us | from_seconds | iso8601 | to_double |
                                          levels | l2_changes | upper (none = as stored)
      side: {column: c, rule: r, taker: {raw value: BUY|SELL}}   the taker-side rule (see mapping_side)
      symbols: true                       join seeds/symbol_map for canonical_symbol, base, quote (default)

    The lineage columns of every bronze table are always carried: source, ingest_ts, recv_ts, source_uri,
    source_checksum, raw_payload, bronze_date. Bad values never become NULL silently: a value a transform
    cannot parse, an unknown side value or an unmapped symbol stops the query with an error naming the
    table, column and value. `var('mapping_overrides')` ({file stem: {key: replacement}}) replaces top-level
    keys of a mapping; a unit test uses it to show that changing the YAML changes the output.
-#}

{% macro mapping_transform(expr, transform, where) %}
    {%- set bad = "error('" ~ where ~ ": cannot apply " ~ transform ~ " to ' || cast(" ~ expr ~ " as varchar))" -%}
    {%- if transform is none or transform == 'none' -%}
        {{ expr }}
    {%- elif transform == 'to_double' -%}
        case when {{ expr }} is null then null else coalesce(try_cast({{ expr }} as double), {{ bad }}) end
    {%- elif transform == 'from_ms' -%}
        timezone('UTC', make_timestamp(cast({{ expr }} as bigint) * 1000))
    {%- elif transform == 'from_us' -%}
        timezone('UTC', make_timestamp(cast({{ expr }} as bigint)))
    {%- elif transform == 'ms_or_us' -%}
        {#- Binance: ms before 2025-01-01 in dumps and always from REST, µs in dumps from 2025-01-01; per value.
            Any epoch below 1e14 is ms (1e14 ms is the year 5138), anything above is µs (1e14 µs is 1973). -#}
        timezone('UTC', make_timestamp(
            case
                when cast({{ expr }} as bigint) < 100000000000000 then cast({{ expr }} as bigint) * 1000
                else cast({{ expr }} as bigint)
            end
        ))
    {%- elif transform == 'from_seconds' -%}
        {#- epoch seconds, integer or decimal text (Kraken keeps up to 7 decimals): exact decimal, rounded to µs -#}
        case
            when {{ expr }} is null then null
            else timezone('UTC', make_timestamp(cast(round(
                coalesce(try_cast({{ expr }} as decimal(38, 9)), {{ bad }}) * 1000000
            ) as bigint)))
        end
    {%- elif transform == 'iso8601' -%}
        case
            when {{ expr }} is null then null
            else coalesce(try_cast({{ expr }} as timestamp with time zone), {{ bad }})
        end
    {%- elif transform == 'levels' -%}
        {#- [[price, qty, ...venue extras], ...] as text -> list of struct(price, quantity) -#}
        list_transform(
            {{ expr }},
            lvl -> {'price': cast(lvl[1] as double), 'quantity': cast(lvl[2] as double)}
        )
    {%- elif transform == 'l2_changes' -%}
        {#- Coinbase l2update [[side, price, size], ...] -> list of struct(side, price, quantity) -#}
        list_transform(
            {{ expr }},
            chg -> {'side': upper(chg[1]), 'price': cast(chg[2] as double), 'quantity': cast(chg[3] as double)}
        )
    {%- elif transform == 'upper' -%}
        upper({{ expr }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("mapping " ~ where ~ ": unknown transform '" ~ transform ~ "'") }}
    {%- endif -%}
{% endmacro %}


{% macro mapping_side(side, where) %}
{#- The taker's side, BUY or SELL, from the venue's own field through the `taker` value map, e.g.
      Binance  {column: isBuyerMaker, rule: buyer_is_maker, taker: {'true': SELL, 'false': BUY}}
      Coinbase {column: side, rule: maker_side, taker: {buy: SELL, sell: BUY}}   (side is the MAKER's)
      Kraken   {column: side, rule: taker_side, taker: {b: BUY, s: SELL}}
    A value outside the map (or null) stops the query with an error naming the table and value. -#}
    {%- if side.taker is not mapping or side.taker | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "mapping " ~ where ~ ": side needs a `taker` map of raw value -> BUY/SELL") }}
    {%- endif -%}
    {%- set raw = 'lower(cast("' ~ side.column ~ '" as varchar))' -%}
    case {{ raw }}
    {%- for value, taker in side.taker.items() %}
        {%- if taker not in ['BUY', 'SELL'] -%}
            {{ exceptions.raise_compiler_error("mapping " ~ where ~ ": taker side must be BUY or SELL, got " ~ taker) }}
        {%- endif %}
        when '{{ (value | string) | lower }}' then '{{ taker }}'
    {%- endfor %}
        else error('{{ where }}: unknown {{ side.column }} value ' || coalesce({{ raw }}, 'NULL') || ' for the side rule')
    end
{% endmacro %}


{% macro mapping_path(source_table) %}
{#- config/mappings/<venue>_<dataset>.yaml for bronze table raw_<venue>_<dataset>, under the project root
    (env SCHEMAHUB_HOME, which the Makefile sets; else the current directory, dbt's project dir). -#}
    {%- set stem = source_table | replace('raw_', '', 1) -%}
    {{- return(env_var('SCHEMAHUB_HOME', '.') ~ '/config/mappings/' ~ stem ~ '.yaml') -}}
{% endmacro %}


{% macro mapping_for(source_table) %}
{#- The mapping of a bronze table, read from its YAML file when the model runs (so `dbt build` and unit tests
    always apply the file as it is now), with `var('mapping_overrides')[<file stem>]` replacing top-level keys. -#}
    {%- set path = mapping_path(source_table) -%}
    {%- set found = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ exceptions.raise_compiler_error("bronze table " ~ source_table ~ ": no mapping file " ~ path) }}
    {%- endif -%}
    {%- set text = run_query("select content from read_text('" ~ path ~ "')").columns[0].values()[0] -%}
    {%- set loaded = fromyaml(text) -%}
    {%- if loaded is not mapping -%}
        {{ exceptions.raise_compiler_error(path ~ ": not a YAML mapping") }}
    {%- endif -%}
    {%- set merged = {} -%}
    {%- do merged.update(loaded) -%}
    {%- do merged.update(var('mapping_overrides', {}).get(source_table | replace('raw_', '', 1), {})) -%}
    {%- for key in ['source', 'mappings'] if key not in merged -%}
        {{ exceptions.raise_compiler_error(path ~ ": mapping has no `" ~ key ~ "`") }}
    {%- endfor -%}
    {%- if merged.mappings is not mapping -%}
        {{ exceptions.raise_compiler_error(path ~ ": `mappings` must be a map of native column -> target column") }}
    {%- endif -%}
    {{ return(merged) }}
{% endmacro %}


{% macro apply_mapping(source_table) %}
    {#- The bronze table is named in the one-line model too: dbt records the dependency while parsing,
        before the yml (and so the mapping) is attached to the model. -#}
    {%- set bronze = source('bronze', source_table) -%}
    {%- set symbol_map = ref('symbol_map') -%}
    {%- if not execute -%}
select * from {{ bronze }}
    {%- else -%}
    {%- set m = mapping_for(source_table) -%}
    {%- if m.source != source_table -%}
        {{ exceptions.raise_compiler_error(
            mapping_path(source_table) ~ ": source " ~ m.source ~ " != the model's bronze table " ~ source_table) }}
    {%- endif -%}
    {%- set transforms = m.get('transforms') or {} -%}
    {%- set constants = m.get('constants') or {} -%}
    {%- set lineage = {
        '_source': 'source', '_source_ingest_ts': 'ingest_ts', '_recv_ts': 'recv_ts', '_source_uri': 'source_uri',
        '_source_checksum': 'source_checksum', '_raw_payload': 'raw_payload', 'date': 'bronze_date'} -%}
    {%- for target in transforms if target not in m.mappings.values() -%}
        {{ exceptions.raise_compiler_error(
            "mapping " ~ m.source ~ ": transform for '" ~ target ~ "', which no mapping produces") }}
    {%- endfor -%}
with

source as (
    select * from {{ bronze }}
),

mapped as (
    select
        ---------- constants
        {%- for target, value in constants.items() %}
        '{{ value }}' as {{ target }},
        {%- endfor %}
        ---------- mapped venue fields
        {%- for native, target in m.mappings.items() %}
        {{ mapping_transform('"' ~ native ~ '"', transforms.get(target), m.source ~ '.' ~ native) }} as {{ target }},
        {%- endfor %}
        {%- if m.get('side') %}
        ---------- taker side
        {{ mapping_side(m.side, m.source) }} as side,
        {%- endif %}
        ---------- lineage
        {%- for native, target in lineage.items() %}
        "{{ native }}" as {{ target }}{{ "," if not loop.last }}
        {%- endfor %}
    from source
),

{%- if m.get('symbols', true) %}

symbols as (
    select * from {{ symbol_map }}
),

final as (
    select
        mapped.*,
        case
            when symbols.venue_symbol is null
                then error(
                    '{{ m.source }}: symbol ' || mapped.symbol || ' of venue ' || mapped.exchange
                    || ' is not in seeds/symbol_map.csv'
                )
            else symbols.canonical_symbol
        end as canonical_symbol,
        symbols.base,
        symbols.quote
    from mapped
    left join symbols
        on mapped.exchange = symbols.venue and mapped.symbol = symbols.venue_symbol
)
{%- else %}

final as (
    select * from mapped
)
{%- endif %}

select * from final
    {%- endif %}
{% endmacro %}
