{{ config(partition_by='partition_date') }}

{#- Every unified trade, enriched: size category from seeds/trade_size_thresholds.csv (per base asset,
    notional in the quote currency), distance from the prevailing mid (the latest order-book snapshot of
    the same exchange and symbol at or before the trade, as-of join; a one-day lookback finds the book that
    was live at midnight), a per-day sequence number and the ingest latency. -#}

with

trades as (
    select *
    from {{ ref('trades_unified') }}
    where {{ lake_date_filter('trade_date') }}
),

books as (
    select
        exchange,
        symbol,
        snapshot_ts,
        mid_price
    from {{ ref('orderbook_snapshots') }}
    where
        {{ lake_date_filter('cast(partition_date as date)', 1) }}
        and mid_price is not null
),

thresholds as (
    select * from {{ ref('trade_size_thresholds') }}
),

default_thresholds as (
    select
        medium_min_notional,
        large_min_notional
    from thresholds
    where base = '*'
),

timed as (
    select
        *,
        epoch_ms(trade_ts) as trade_ms
    from trades
),

with_mid as (
    select
        timed.*,
        books.mid_price as prevailing_mid_price,
        books.snapshot_ts as mid_snapshot_ts
    from timed
    asof left join books
        on
            timed.exchange = books.exchange
            and timed.symbol = books.symbol
            and timed.trade_ms >= books.snapshot_ts
),

sized as (
    select
        with_mid.*,
        coalesce(own.medium_min_notional, fallback.medium_min_notional) as medium_min_notional,
        coalesce(own.large_min_notional, fallback.large_min_notional) as large_min_notional
    from with_mid
    left join thresholds as own on with_mid.base = own.base
    cross join default_thresholds as fallback
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        trade_id,
        price,
        quantity,
        notional,
        trade_ms as timestamp,  -- noqa: RF04
        side = 'SELL' as is_buyer_maker,
        side,
        case
            when notional >= large_min_notional then 'large'
            when notional >= medium_min_notional then 'medium'
            else 'small'
        end as trade_size_category,
        price - prevailing_mid_price as price_level_distance,
        (price - prevailing_mid_price) / prevailing_mid_price * 10000 as price_level_distance_bp,
        prevailing_mid_price,
        trade_ms - mid_snapshot_ts as mid_age_ms,
        row_number() over (
            partition by exchange, symbol, trade_date
            order by trade_ts, trade_id
        ) as sequence_number,
        {{ source_channel('source') }} as source,  -- noqa: RF04
        source as source_detail,
        epoch_ms(coalesce(recv_ts, ingest_ts)) - trade_ms as ingest_latency_ms,
        {{ created_ts_ms() }} as created_ts,
        strftime(trade_date, '%Y-%m-%d') as partition_date
    from sized
)

select * from final
