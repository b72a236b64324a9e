-- Bars built from trades reconcile with the venue's own 1-minute klines wherever bronze holds both, for
-- interior minutes (strictly inside a UTC day's trading span, so a minute whose trades were only partly
-- ingested at either end is not compared).
with

bars as (
    select
        *,
        min(open_time) over (partition by exchange, symbol, partition_date) as first_open_time,
        max(open_time) over (partition by exchange, symbol, partition_date) as last_open_time
    from {{ ref('bars_1m') }}
),

binance_klines as (
    select
        exchange,
        symbol,
        epoch_ms(open_time) as open_time,
        open_price,
        high_price,
        low_price,
        close_price,
        volume,
        trade_count
    from {{ ref('stg_binance__klines') }}
    where kline_interval = '1m'
),

kraken_klines as (
    select
        exchange,
        symbol,
        epoch_ms(open_time) as open_time,
        open_price,
        high_price,
        low_price,
        close_price,
        volume,
        trade_count
    from {{ ref('stg_kraken__klines') }}
    where interval_minutes = 1
),

coinbase_klines as (
    select
        exchange,
        symbol,
        epoch_ms(open_time) as open_time,
        open_price,
        high_price,
        low_price,
        close_price,
        volume,
        cast(null as bigint) as trade_count
    from {{ ref('stg_coinbase__klines') }}
    where interval_seconds = 60
),

klines as (
    select * from binance_klines
    union all
    select * from kraken_klines
    union all
    select * from coinbase_klines
),

compared as (
    select
        bars.exchange,
        bars.symbol,
        bars.open_time,
        bars.open_price,
        klines.open_price as venue_open,
        bars.high_price,
        klines.high_price as venue_high,
        bars.low_price,
        klines.low_price as venue_low,
        bars.close_price,
        klines.close_price as venue_close,
        bars.volume,
        klines.volume as venue_volume,
        bars.trade_count,
        klines.trade_count as venue_trade_count
    from bars
    inner join klines
        on
            bars.exchange = klines.exchange
            and bars.symbol = klines.symbol
            and bars.open_time = klines.open_time
    where bars.open_time > bars.first_open_time and bars.open_time < bars.last_open_time
)

select * from compared
where
    abs(open_price - venue_open) > 1e-9 * venue_open
    or abs(high_price - venue_high) > 1e-9 * venue_high
    or abs(low_price - venue_low) > 1e-9 * venue_low
    or abs(close_price - venue_close) > 1e-9 * venue_close
    or abs(volume - venue_volume) > 1e-8 * greatest(venue_volume, 1)
    or trade_count != coalesce(venue_trade_count, trade_count)
