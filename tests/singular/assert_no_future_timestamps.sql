-- No event lies in the future (5 minutes of clock skew allowed): trades, book snapshots and bars.
with

future_trades as (
    select
        'trades_unified' as relation,
        exchange,
        symbol,
        epoch_ms(trade_ts) as event_ms
    from {{ ref('trades_unified') }}
),

future_books as (
    select
        'orderbook_snapshots' as relation,
        exchange,
        symbol,
        snapshot_ts as event_ms
    from {{ ref('orderbook_snapshots') }}
),

future_bars as (
    select
        'bars_1m' as relation,
        exchange,
        symbol,
        open_time as event_ms
    from {{ ref('bars_1m') }}
),

events as (
    select * from future_trades
    union all
    select * from future_books
    union all
    select * from future_bars
)

select * from events
where event_ms > epoch_ms(now()) + 5 * 60 * 1000
