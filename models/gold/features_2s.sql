{#-
    One row per (exchange, symbol) every 2 s (UTC, even epoch seconds) from the venue's first to its last event,
    every value computed only from data at or before feature_ts: trades with trade_ts <= feature_ts, books
    known (stamped and received) at or before feature_ts. Windows are (feature_ts - w, feature_ts].
    Definitions and constants: models/gold/_gold__docs.md and macros/gold_params.sql.
-#}
{%- set p = gold_params() -%}
{{ config(materialized='lake_partitioned', partition_by='partition_date') }}

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
        trade_ts,
        source
    from {{ ref('trades_unified') }}
    where
        trade_ts >= to_timestamp({{ gold_window_lo() }} - {{ p.lookback_s }})
        and trade_ts < to_timestamp({{ gold_window_hi() }})
),

books as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        snapshot_ts,
        recv_ts,
        best_bid_price,
        best_bid_qty,
        best_ask_price,
        best_ask_qty,
        mid_price,
        spread_bp,
        total_bid_value,
        total_ask_value,
        order_book_imbalance,
        weighted_mid_price,
        source
    from {{ ref('orderbook_snapshots') }}
    where
        snapshot_ts >= ({{ gold_window_lo() }} - {{ p.lookback_s }}) * 1000
        and snapshot_ts < {{ gold_window_hi() }} * 1000
),

{{ gold_venue_seconds('trades', 'books', p.lookback_s, 0) }},

trailing_windows as (
    select
        *,
        {%- for n in [1, 2, 5, 10, 30, 60] %}
            ln(mid_ff / lag(mid_ff, {{ n }}) over by_sec) as ret_{{ n }}s,
        {%- endfor %}
        {%- for n in [1, 5, 10, 30, 60] %}
            {{ gold_trailing('sum', 'volume', n) }} as volume_{{ n }}s,
            {{ gold_trailing('sum', 'notional', n) }} as notional_{{ n }}s,
            {{ gold_trailing('sum', 'trade_count', n) }} as trade_count_{{ n }}s,
            {{ gold_trailing('sum', 'buy_volume - sell_volume', n) }} as net_volume_{{ n }}s,
        {%- endfor %}
        {{ gold_trailing('sum', 'mid_ret_sq', 60) }} as sq_ret_sum_60s,
        {{ gold_trailing('count', 'mid_ret_1s', 60) }} as ret_count_60s,
        {{ gold_trailing('bool_or', 'has_stream', 60) }} as has_stream_60s,
        {{ gold_trailing('bool_or', 'has_rest', 60) }} as has_rest_60s,
        {{ gold_trailing('max', 'sec - coalesce(last_event_sec, sec - ' ~ (p.asof_horizon_s + 1) ~ ')', 10) }}
            as max_silence_10s
    from venue_seconds
    window by_sec as (partition by exchange, symbol order by sec)
),

lagged as (
    select
        *,
        lag(ret_10s, 10) over by_sec as ret_10s_10s_ago,
        lag(volume_5s, 5) over by_sec as volume_5s_5s_ago
    from trailing_windows
    window by_sec as (partition by exchange, symbol order by sec)
),

grid as (
    select *
    from lagged
    where
        sec % {{ p.grid_step_s }} = 0
        and sec >= {{ gold_window_lo() }}
        and sec < {{ gold_window_hi() }}
),

xv_mids as (
    select
        base,
        sec,
        median(mid_ff) as xv_mid_price,
        count(*) as xv_venue_count
    from grid
    where
        quote in {{ gold_sql_list(p.xv_quotes) }}
        and mid_ff is not null
        and book_known_age_ms <= {{ p.max_book_age_s * 1000 }}
    group by base, sec
),

leader as (
    select
        base,
        sec,
        avg(mid_ff) as leader_mid,
        avg(ret_2s) as leader_ret_2s,
        avg(ret_10s) as leader_ret_10s
    from grid
    where
        exchange = '{{ p.leader_exchange }}'
        and quote = '{{ p.leader_quote }}'
        and mid_ff is not null
        and book_known_age_ms <= {{ p.max_book_age_s * 1000 }}
    group by base, sec
),

features as (
    select
        grid.exchange,
        grid.symbol,
        grid.canonical_symbol,
        grid.base,
        grid.quote,
        grid.sec as feature_ts,
        grid.sec * 1000 as feature_ts_ms,
        make_timestamp(grid.sec * 1000000) as feature_at,

        ---------- price
        grid.price_ff as price,
        grid.mid_ff as mid_price,
        grid.ret_1s,
        grid.ret_5s,
        grid.ret_10s,
        grid.ret_30s,
        grid.ret_60s,

        ---------- volume
        grid.volume_1s,
        grid.volume_5s,
        grid.volume_10s,
        grid.volume_30s,
        {%- for n in [1, 5, 10] %}
            grid.net_volume_{{ n }}s / nullif(grid.volume_{{ n }}s, 0) as vol_imbalance_{{ n }}s,
        {%- endfor %}

        ---------- order book (latest book known at feature_ts)
        grid.book_spread_bp as spread_bp,
        grid.book_ob_imbalance as ob_imbalance,
        grid.book_best_bid_qty / nullif(grid.book_best_bid_qty + grid.book_best_ask_qty, 0)
            as bid_strength,
        grid.book_best_ask_qty / nullif(grid.book_best_bid_qty + grid.book_best_ask_qty, 0)
            as ask_strength,
        grid.book_total_bid_value / nullif(grid.book_total_ask_value, 0) as bid_ask_ratio,
        grid.book_weighted_mid as weighted_mid,
        (grid.book_weighted_mid - grid.mid_ff) / grid.mid_ff * 10000 as micro_dev_bp,

        ---------- trade flow
        grid.trade_count_1s / 1.0 as trade_intensity_1s,
        grid.trade_count_5s / 5.0 as trade_intensity_5s,
        grid.volume_1s / nullif(grid.trade_count_1s, 0) as avg_trade_size_1s,
        grid.volume_5s / nullif(grid.trade_count_5s, 0) as avg_trade_size_5s,
        grid.notional_1s as dollar_volume_1s,
        grid.notional_5s as dollar_volume_5s,

        ---------- technical
        {%- for n in [1, 5, 10] %}
            ln(grid.mid_ff / (grid.notional_{{ n }}s / nullif(grid.volume_{{ n }}s, 0))) as vwap_dev_{{ n }}s,
        {%- endfor %}
        case when grid.ret_count_60s = 60 then sqrt(grid.sq_ret_sum_60s) end as price_volatility,
        grid.ret_10s / 10.0 as momentum,
        (grid.ret_10s - grid.ret_10s_10s_ago) / 10.0 as acceleration,

        ---------- advanced
        grid.volume_5s / nullif(grid.volume_30s / 6.0, 0) as volume_momentum,
        grid.volume_5s_5s_ago,
        (grid.volume_5s - grid.volume_5s_5s_ago) / nullif(grid.volume_5s + grid.volume_5s_5s_ago, 0)
            as volume_change_5s,
        grid.notional_10s / 10.0 as dollar_intensity,
        ln(
            (grid.volume_5s / nullif(grid.trade_count_5s, 0))
            / (grid.volume_60s / nullif(grid.trade_count_60s, 0))
        ) as trade_size_trend,
        grid.book_ob_imbalance / (1 + grid.book_spread_bp) as spread_adj_imbalance,
        (grid.price_ff - grid.mid_ff) / grid.mid_ff * 10000 as mid_last_diff,

        ---------- temporal (UTC)
        extract(hour from make_timestamp(grid.sec * 1000000)) as utc_hour,
        extract(minute from make_timestamp(grid.sec * 1000000)) as utc_minute,

        ---------- data quality inputs
        grid.sec * 1000 - grid.book_ts_ms as data_age_ms,
        grid.sec * 1000 - grid.last_trade_ms_ff as trade_age_ms,
        grid.book_known_age_ms,
        grid.max_silence_10s,
        grid.has_stream_60s,
        grid.has_rest_60s,
        grid.trade_count_60s,

        ---------- cross-venue (xv_*): other venues of the same base asset, USD-like quotes pooled
        xv_mids.xv_mid_price,
        (grid.mid_ff - xv_mids.xv_mid_price) / xv_mids.xv_mid_price * 10000 as xv_mid_dev_bp,
        coalesce(xv_mids.xv_venue_count, 0) as xv_venue_count,
        (grid.mid_ff - leader.leader_mid) / leader.leader_mid * 10000 as xv_leader_basis_bp,
        leader.leader_ret_2s as xv_leader_ret_2s,
        leader.leader_ret_10s as xv_leader_ret_10s
    from grid
    -- The quote condition sits inside the equi-join key (a non-pooled quote gets a null key and no match):
    -- as a separate `and grid.quote in (...)` in ON, DuckDB fell back to a nested-loop join (14x slower).
    left join xv_mids
        on
            xv_mids.base = (case when grid.quote in {{ gold_sql_list(p.xv_quotes) }} then grid.base end)
            and grid.sec = xv_mids.sec
    left join leader
        on
            leader.base = (case when grid.quote in {{ gold_sql_list(p.xv_quotes) }} then grid.base end)
            and grid.sec = leader.sec
),

enriched as (
    select
        *,
        ret_1s / nullif(price_volatility, 0) as vol_adj_ret_1s,
        ret_5s / nullif(price_volatility, 0) as vol_adj_ret_5s,
        sin(2 * pi() * utc_hour / 24) as hour_sin,
        cos(2 * pi() * utc_hour / 24) as hour_cos,
        sin(2 * pi() * utc_minute / 60) as minute_sin,
        cos(2 * pi() * utc_minute / 60) as minute_cos,
        cast(utc_hour >= {{ p.us_hours[0] }} and utc_hour < {{ p.us_hours[1] }} as integer) as is_us_hours,
        cast(utc_hour >= {{ p.asia_hours[0] }} and utc_hour < {{ p.asia_hours[1] }} as integer) as is_asia_hours,
        cast(utc_hour >= {{ p.europe_hours[0] }} and utc_hour < {{ p.europe_hours[1] }} as integer)
            as is_europe_hours,
        ret_5s * ln(1 + volume_5s) as price_volume_int,
        spread_bp * momentum as spread_momentum_int,
        vol_imbalance_5s * ob_imbalance as vol_imbalance_int,
        price_volatility * trade_intensity_5s as volatility_intensity_int,
        (
            cast(mid_price is not null as integer)
            + cast(price is not null as integer)
            + cast(spread_bp is not null as integer)
            + cast(ob_imbalance is not null as integer)
            + cast(ret_60s is not null as integer)
            + cast(price_volatility is not null as integer)
            + cast(coalesce(book_known_age_ms <= {{ p.max_book_age_s * 1000 }}, false) as integer)
            + cast(trade_count_60s > 0 as integer)
        ) / 8.0 as completeness,
        mid_price is null
        or max_silence_10s >= {{ p.gap_threshold_s }}
        or coalesce(book_known_age_ms > {{ p.max_book_age_s * 1000 }}, true) as gap_indicator
    from features
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        quote,
        feature_ts,
        feature_ts_ms,
        feature_at,
        price,
        mid_price,
        ret_1s,
        ret_5s,
        ret_10s,
        ret_30s,
        ret_60s,
        volume_1s,
        volume_5s,
        volume_10s,
        volume_30s,
        vol_imbalance_1s,
        vol_imbalance_5s,
        vol_imbalance_10s,
        spread_bp,
        ob_imbalance,
        bid_strength,
        ask_strength,
        bid_ask_ratio,
        weighted_mid,
        micro_dev_bp,
        trade_intensity_1s,
        trade_intensity_5s,
        avg_trade_size_1s,
        avg_trade_size_5s,
        dollar_volume_1s,
        dollar_volume_5s,
        vwap_dev_1s,
        vwap_dev_5s,
        vwap_dev_10s,
        price_volatility,
        momentum,
        acceleration,
        volume_momentum,
        vol_adj_ret_1s,
        vol_adj_ret_5s,
        volume_change_5s,
        dollar_intensity,
        trade_size_trend,
        spread_adj_imbalance,
        mid_last_diff,
        hour_sin,
        hour_cos,
        minute_sin,
        minute_cos,
        is_us_hours,
        is_asia_hours,
        is_europe_hours,
        price_volume_int,
        spread_momentum_int,
        vol_imbalance_int,
        volatility_intensity_int,
        completeness,
        cast(data_age_ms as integer) as data_age_ms,
        cast(trade_age_ms as bigint) as trade_age_ms,
        gap_indicator,
        case
            when gap_indicator or completeness < {{ p.quality_threshold }} then 'degraded'
            when has_stream_60s and has_rest_60s then 'mixed'
            when has_stream_60s then 'sbe'
            else 'rest'
        end as source_quality,
        xv_mid_price,
        xv_mid_dev_bp,
        xv_venue_count,
        xv_leader_basis_bp,
        xv_leader_ret_2s,
        xv_leader_ret_10s,
        epoch_ms(current_timestamp) as created_ts,
        '{{ var("etl_version") }}' as etl_version,
        strftime(feature_at, '%Y-%m-%d') as partition_date
    from enriched
)

select * from final
