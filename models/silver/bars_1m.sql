{{ config(partition_by='partition_date') }}

{#- One-minute bars per exchange and symbol from trades_unified (the taker side decides buy/sell).
    A minute without trades inside the span of a UTC day's trades (first to last trade minute of that day,
    per exchange and symbol) is a bar too: trade_count 0, volume 0, OHLC and vwap = the previous close,
    gap_seconds 60, completeness_score 0, source_mix 'none'. Minutes before a day's first trade or after its
    last one have no bar: no price is ever invented from nothing. -#}

{%- set gap_us = var('bar_gap_threshold_seconds') * 1000000 %}

with

trades as (
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
        notional,
        source,
        trade_date,
        epoch_us(trade_ts) as trade_us,
        (epoch_us(trade_ts) // 60000000) * 60000 as open_time
    from {{ ref('trades_unified') }}
    where {{ lake_date_filter('trade_date') }}
),

trade_gaps as (
    select
        *,
        trade_us - coalesce(
            lag(trade_us) over (partition by exchange, symbol, open_time order by trade_us, trade_id),
            open_time * 1000
        ) as gap_before_us
    from trades
),

traded_minutes as (
    select
        exchange,
        symbol,
        open_time,
        any_value(canonical_symbol) as canonical_symbol,
        any_value(base) as base,
        any_value(quote) as quote,  -- noqa: RF04
        any_value(trade_date) as trade_date,
        first(price order by trade_us, trade_id) as open_price,
        max(price) as high_price,
        min(price) as low_price,
        last(price order by trade_us, trade_id) as close_price,
        sum(quantity) as volume,
        sum(notional) as notional,
        count(*) as trade_count,
        count(*) filter (where side = 'BUY') as buy_trade_count,
        count(*) filter (where side = 'SELL') as sell_trade_count,
        coalesce(sum(quantity) filter (where side = 'BUY'), 0) as buy_volume,
        coalesce(sum(quantity) filter (where side = 'SELL'), 0) as sell_volume,
        coalesce(sum(notional) filter (where side = 'BUY'), 0) as buy_notional,
        coalesce(sum(notional) filter (where side = 'SELL'), 0) as sell_notional,
        coalesce(sum(gap_before_us) filter (where gap_before_us > {{ gap_us }}), 0)
        + case
            when (open_time + 60000) * 1000 - max(trade_us) > {{ gap_us }}
                then (open_time + 60000) * 1000 - max(trade_us)
            else 0
        end as gap_us,
        case
            when count(distinct {{ source_channel('source') }}) = 1 then any_value({{ source_channel('source') }})
            else 'mixed'
        end as source_mix
    from trade_gaps
    group by exchange, symbol, open_time
),

day_spans as (
    select
        exchange,
        symbol,
        trade_date,
        any_value(canonical_symbol) as canonical_symbol,
        any_value(base) as base,
        any_value(quote) as quote,  -- noqa: RF04
        min(open_time) as first_open_time,
        max(open_time) as last_open_time
    from traded_minutes
    group by exchange, symbol, trade_date
),

minute_spine as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        trade_date,
        unnest(generate_series(first_open_time, last_open_time, 60000)) as open_time
    from day_spans
),

filled as (
    select
        minute_spine.exchange,
        minute_spine.symbol,
        minute_spine.canonical_symbol,
        minute_spine.base,
        minute_spine.quote,
        minute_spine.trade_date,
        minute_spine.open_time,
        traded_minutes.open_price,
        traded_minutes.high_price,
        traded_minutes.low_price,
        traded_minutes.close_price,
        traded_minutes.volume,
        traded_minutes.notional,
        traded_minutes.trade_count,
        traded_minutes.buy_trade_count,
        traded_minutes.sell_trade_count,
        traded_minutes.buy_volume,
        traded_minutes.sell_volume,
        traded_minutes.buy_notional,
        traded_minutes.sell_notional,
        traded_minutes.gap_us,
        traded_minutes.source_mix,
        last_value(traded_minutes.close_price ignore nulls) over (
            partition by minute_spine.exchange, minute_spine.symbol, minute_spine.trade_date
            order by minute_spine.open_time
            rows between unbounded preceding and current row
        ) as carried_close
    from minute_spine
    left join traded_minutes
        on
            minute_spine.exchange = traded_minutes.exchange
            and minute_spine.symbol = traded_minutes.symbol
            and minute_spine.open_time = traded_minutes.open_time
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        cast(open_time as bigint) as open_time,
        cast(open_time + 59999 as bigint) as close_time,
        coalesce(open_price, carried_close) as open_price,
        coalesce(high_price, carried_close) as high_price,
        coalesce(low_price, carried_close) as low_price,
        coalesce(close_price, carried_close) as close_price,
        coalesce(volume, 0) as volume,
        coalesce(notional, 0) as notional,
        cast(coalesce(trade_count, 0) as integer) as trade_count,
        cast(coalesce(buy_trade_count, 0) as integer) as buy_trade_count,
        cast(coalesce(sell_trade_count, 0) as integer) as sell_trade_count,
        coalesce(buy_volume, 0) as buy_volume,
        coalesce(sell_volume, 0) as sell_volume,
        coalesce(buy_notional, 0) as buy_notional,
        coalesce(sell_notional, 0) as sell_notional,
        case when volume > 0 then notional / volume else carried_close end as vwap,
        case when volume > 0 then (buy_volume - sell_volume) / volume else 0 end as volume_imbalance,
        coalesce(high_price - low_price, 0) as price_range,
        coalesce(close_price - open_price, 0) as price_change,
        coalesce((close_price - open_price) / open_price * 100, 0) as price_change_pct,
        cast(1 - least(coalesce(gap_us, 60000000), 60000000) / 60000000 as double) as completeness_score,
        coalesce(source_mix, 'none') as source_mix,
        cast(least(coalesce(gap_us, 60000000), 60000000) // 1000000 as integer) as gap_seconds,
        {{ created_ts_ms() }} as created_ts,
        strftime(trade_date, '%Y-%m-%d') as partition_date
    from filled
)

select * from final
