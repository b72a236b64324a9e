-- Every bar is internally consistent: low <= open, close, vwap <= high; buy + sell = totals;
-- an empty minute is flat and carries no volume.
with

bars as (
    select * from {{ ref('bars_1m') }}
),

violations as (
    select
        exchange,
        symbol,
        open_time,
        case
            when low_price > least(open_price, close_price) then 'low above open/close'
            when high_price < greatest(open_price, close_price) then 'high below open/close'
            when vwap < low_price * (1 - 1e-9) or vwap > high_price * (1 + 1e-9) then 'vwap outside [low, high]'
            when buy_trade_count + sell_trade_count != trade_count then 'buy + sell counts != trade_count'
            when abs(buy_volume + sell_volume - volume) > 1e-9 * greatest(volume, 1) then 'buy + sell volume != volume'
            when abs(buy_notional + sell_notional - notional) > 1e-6 * greatest(notional, 1) then 'buy + sell notional'
            when trade_count = 0 and (volume != 0 or high_price != low_price) then 'empty minute not flat'
            when trade_count > 0 and volume <= 0 then 'trades without volume'
        end as problem
    from bars
)

select * from violations
where problem is not null
