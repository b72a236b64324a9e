-- Prices and quantities are strictly positive in every trade and every stored book level.
with

trades as (
    select
        'trades_unified' as relation,
        exchange,
        symbol,
        cast(trade_id as varchar) as row_key
    from {{ ref('trades_unified') }}
    where not (price > 0 and quantity > 0)
),

books as (
    select
        'orderbook_snapshots' as relation,
        exchange,
        symbol,
        cast(snapshot_ts as varchar) as row_key
    from {{ ref('orderbook_snapshots') }}
    where
        not {{ levels_all_positive('bid_levels') }}
        or not {{ levels_all_positive('ask_levels') }}
),

violations as (
    select * from trades
    union all
    select * from books
)

select * from violations
