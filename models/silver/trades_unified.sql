{{ config(partition_by='trade_date') }}

{#- One row per venue trade from every staging model listed in var('trade_staging_models'), whose mapping
    already gave it the unified names; deduplicated on (exchange, symbol, trade_id), keeping the earliest
    ingested copy. Only the dates of [start_date, end_date] are built (all dates when unset). -#}

with

unioned as (
    {{ union_staging(var('trade_staging_models'), [
        ['exchange', 'varchar'], ['symbol', 'varchar'], ['canonical_symbol', 'varchar'], ['base', 'varchar'],
        ['quote', 'varchar'], ['trade_id', 'bigint'], ['side', 'varchar'], ['price', 'double'],
        ['quantity', 'double'], ['trade_ts', 'timestamp with time zone'],
        ['ingest_ts', 'timestamp with time zone'], ['recv_ts', 'timestamp with time zone'], ['source', 'varchar'],
    ], 'bronze_date') }}
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
