-- Prices and quantities are strictly positive in every trade and every book level.
with

trades as (
    select
        'trades_unified' as relation,
        exchange,
        symbol,
        cast(trade_id as varchar) as row_key,
        price,
        quantity
    from {{ ref('trades_unified') }}
),

book_levels as (
    select
        'orderbook_snapshots' as relation,
        exchange,
        symbol,
        cast(snapshot_ts as varchar) as row_key,
        lvl.price,
        lvl.quantity
    from {{ ref('orderbook_snapshots') }},
        unnest(list_concat(bid_levels, ask_levels)) as levels (lvl)
),

checked as (
    select * from trades
    union all
    select * from book_levels
)

select * from checked
where not (price > 0 and quantity > 0)
