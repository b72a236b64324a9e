{{ config(partition_by='partition_date') }}

{#- One row per order-book snapshot from every staging model of var('depth_staging_models'): best bid/ask,
    spread, the top 10 levels per side with their value, totals, imbalance and the micro-price. -#}

with

unioned as (
    {{ union_staging(var('depth_staging_models'), [
        ['exchange', 'varchar'], ['symbol', 'varchar'], ['canonical_symbol', 'varchar'], ['base', 'varchar'],
        ['quote', 'varchar'], ['event_ts', 'timestamp with time zone'], ['recv_ts', 'timestamp with time zone'],
        ['ingest_ts', 'timestamp with time zone'], ['last_update_id', 'bigint'],
        ['bids', 'struct(price double, quantity double)[]'], ['asks', 'struct(price double, quantity double)[]'],
        ['source', 'varchar'],
    ], 'bronze_date', 1) }}
),

timed as (
    select
        *,
        epoch_ms(coalesce(event_ts, recv_ts)) as snapshot_ts,
        timezone('UTC', coalesce(event_ts, recv_ts)) as snapshot_at_utc
    from unioned
    where coalesce(event_ts, recv_ts) is not null
),

deduplicated as (
    select *
    from timed
    qualify row_number() over (
        partition by exchange, symbol, snapshot_ts
        order by last_update_id desc nulls last, ingest_ts desc
    ) = 1
),

levels as (
    select
        *,
        {{ top_levels('bids', descending=true) }} as bid_levels,
        {{ top_levels('asks', descending=false) }} as ask_levels,
        len(list_filter(bids, lvl -> lvl.quantity > 0)) as bid_levels_count,
        len(list_filter(asks, lvl -> lvl.quantity > 0)) as ask_levels_count
    from deduplicated
),

best as (
    select
        *,
        bid_levels[1].price as best_bid_price,
        bid_levels[1].quantity as best_bid_qty,
        ask_levels[1].price as best_ask_price,
        ask_levels[1].quantity as best_ask_qty,
        coalesce(list_sum(list_transform(bid_levels, lvl -> lvl.value)), 0) as total_bid_value,
        coalesce(list_sum(list_transform(ask_levels, lvl -> lvl.value)), 0) as total_ask_value
    from levels
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        snapshot_ts,
        recv_ts,
        last_update_id,
        best_bid_price,
        best_bid_qty,
        best_ask_price,
        best_ask_qty,
        (best_bid_price + best_ask_price) / 2 as mid_price,
        best_ask_price - best_bid_price as spread,
        (best_ask_price - best_bid_price) / ((best_bid_price + best_ask_price) / 2) * 10000 as spread_bp,
        bid_levels,
        ask_levels,
        total_bid_value,
        total_ask_value,
        case
            when total_bid_value + total_ask_value > 0
                then (total_bid_value - total_ask_value) / (total_bid_value + total_ask_value)
        end as order_book_imbalance,
        case
            when best_bid_qty + best_ask_qty > 0
                then (best_bid_price * best_ask_qty + best_ask_price * best_bid_qty) / (best_bid_qty + best_ask_qty)
        end as weighted_mid_price,
        source,
        cast(bid_levels_count + ask_levels_count as integer) as levels_count,
        cast(bid_levels_count as integer) as bid_levels_count,
        cast(ask_levels_count as integer) as ask_levels_count,
        {{ created_ts_ms() }} as created_ts,
        strftime(snapshot_at_utc, '%Y-%m-%d') as partition_date,
        cast(hour(snapshot_at_utc) as integer) as partition_hour
    from best
    where {{ lake_date_filter('cast(snapshot_at_utc as date)') }}
)

select * from final
