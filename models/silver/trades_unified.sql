{{ config(partition_by='trade_date') }}

{#- One row per venue trade from every staging model listed in var('trade_staging_models'), whose mapping
    already gave it the unified names; deduplicated on (exchange, symbol, trade_id), keeping the earliest
    ingested copy. Only the dates of [start_date, end_date] are built (all dates when unset). -#}

with

{% for staging_model in var('trade_staging_models') %}
{{ staging_model }} as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        cast(trade_id as bigint) as trade_id,
        side,
        price,
        quantity,
        trade_ts,
        ingest_ts,
        recv_ts,
        source
    from {{ ref(staging_model) }}
    where {{ lake_date_filter('bronze_date') }}
),
{% endfor %}

unioned as (
    {% for staging_model in var('trade_staging_models') %}
        select * from {{ staging_model }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

deduplicated as (
    select *
    from unioned
    qualify row_number() over (
        partition by exchange, symbol, trade_id
        order by ingest_ts, source
    ) = 1
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        trade_id,
        side,
        price,
        quantity,
        price * quantity as notional,
        trade_ts,
        ingest_ts,
        recv_ts,
        source,
        cast(timezone('UTC', trade_ts) as date) as trade_date
    from deduplicated
    where {{ lake_date_filter("cast(timezone('UTC', trade_ts) as date)") }}
)

select * from final
