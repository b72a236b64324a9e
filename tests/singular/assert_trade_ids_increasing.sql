-- Trade ids increase with trade time per exchange and symbol: in trade-id order, time never goes back.
with

ordered as (
    select
        exchange,
        symbol,
        trade_id,
        trade_ts,
        lag(trade_id) over (partition by exchange, symbol order by trade_id) as previous_trade_id,
        lag(trade_ts) over (partition by exchange, symbol order by trade_id) as previous_trade_ts
    from {{ ref('trades_unified') }}
)

select * from ordered
where trade_ts < previous_trade_ts
