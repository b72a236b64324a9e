{#-
    The SchemaHub mapping engine: ONE macro turns a bronze table into a staging relation, driven by the
    declarative mapping stored in the model's yml (`config.meta.mapping`, SchemaHub mapping format):

      source: raw_<venue>_<dataset>      bronze table (source `bronze`)
      target_table: trades_unified        where the rows go next (documentation + discovery)
      mappings: {native_column: target}   rename; every native column that is used must be listed
      constants: {target: value}          literal columns, e.g. exchange: binance
      transforms: {target: name}          from_ms | from_us | ms_or_us | from_seconds | iso8601 | to_double |
                                          to_bigint | levels | l2_changes | upper | lower (none = as stored)
      side: {column: c, rule: r, taker: {raw value: BUY|SELL}}   the taker-side rule (see mapping_side)
      symbols: true                       join seeds/symbol_map for canonical_symbol, base, quote (default)

    The lineage columns of every bronze table are always carried: source, ingest_ts, recv_ts, source_uri,
    source_checksum, raw_payload, bronze_date. Bad values never become NULL silently: a value a transform
    cannot parse, an unknown side value or an unmapped symbol stops the query with an error naming the
    table, column and value. `var('mapping_overrides')` ({model name: {key: replacement}}) replaces top-level
    keys of a model's mapping; unit tests use it to show that changing the YAML changes the output.
-#}

{% macro mapping_transform(expr, transform, where) %}
    {%- set bad = "error('" ~ where ~ ": cannot apply " ~ transform ~ " to ' || cast(" ~ expr ~ " as varchar))" -%}
    {%- if transform is none or transform == 'none' -%}
        {{ expr }}
    {%- elif transform == 'to_double' -%}
        case when {{ expr }} is null then null else coalesce(try_cast({{ expr }} as double), {{ bad }}) end
    {%- elif transform == 'to_bigint' -%}
        case when {{ expr }} is null then null else coalesce(try_cast({{ expr }} as bigint), {{ bad }}) end
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
    {%- elif transform == 'lower' -%}
        lower({{ expr }})
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
        {{ exceptions.raise_compiler_error("mapping " ~ where ~ ": side needs a `taker` map of raw value -> BUY/SELL") }}
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


{% macro mapping_for(model_name, mapping) %}
{#- The mapping of a model: its yml `meta.mapping`, with `var('mapping_overrides')[model_name]` replacing keys. -#}
    {%- set merged = {} -%}
    {%- do merged.update(mapping or {}) -%}
    {%- do merged.update(var('mapping_overrides', {}).get(model_name, {})) -%}
    {%- for key in ['source', 'mappings'] if key not in merged -%}
        {{ exceptions.raise_compiler_error("model " ~ model_name ~ ": mapping has no `" ~ key ~ "` (meta.mapping in its yml)") }}
    {%- endfor -%}
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
    {%- set meta = config.get('meta') or model.get('meta') or {} -%}
    {%- set m = mapping_for(model.name, meta.get('mapping')) -%}
    {%- if m.source != source_table -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.name ~ ": mapping source " ~ m.source ~ " != the model's bronze table " ~ source_table) }}
    {%- endif -%}
    {%- set transforms = m.get('transforms') or {} -%}
    {%- set constants = m.get('constants') or {} -%}
    {%- set lineage = {
        '_source': 'source', '_source_ingest_ts': 'ingest_ts', '_recv_ts': 'recv_ts', '_source_uri': 'source_uri',
        '_source_checksum': 'source_checksum', '_raw_payload': 'raw_payload', 'date': 'bronze_date'} -%}
    {%- for target in transforms if target not in m.mappings.values() -%}
        {{ exceptions.raise_compiler_error("mapping " ~ m.source ~ ": transform for '" ~ target ~ "', which no mapping produces") }}
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
