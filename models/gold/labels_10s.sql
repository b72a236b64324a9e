{#-
    One label row per features_2s row (same exchange, symbol, feature_ts). The target is the same venue's MID
    (not the last trade: bid-ask bounce) known at feature_ts + 10 s; the path statistics cover (t, t + 10 s].
    Market context (market_regime, liquidity_state, spread_state) uses only data at or before feature_ts, so it
    can be used to stratify predictions. Every band, edge and threshold is a documented constant
    (macros/gold_params.sql, models/gold/_gold__docs.md): nothing is fitted, so nothing leaks across splits.
-#}
{%- set p = gold_params() -%}
{%- set h = p.label_horizon_s -%}
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
        and trade_ts < to_timestamp({{ gold_window_hi() }} + {{ p.lookahead_s }})
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
        and snapshot_ts < ({{ gold_window_hi() }} + {{ p.lookahead_s }}) * 1000
),

{{ gold_venue_seconds('trades', 'books', p.lookback_s, p.lookahead_s) }},

windows as (
    select
        *,
        -- trailing context, known at t
        {{ gold_trailing('sum', 'mid_ret_sq', 60) }} as sq_ret_sum_60s,
        {{ gold_trailing('count', 'mid_ret_1s', 60) }} as ret_count_60s,
        ln(mid_ff / lag(mid_ff, 60) over by_sec) as ret_60s,
        -- the future, (t, t + h]
        {%- for n in p.label_horizons_s %}
            lead(mid_ff, {{ n }}) over by_sec as mid_ahead_{{ n }}s,
        {%- endfor %}
        lead(book_known_age_ms, {{ h }}) over by_sec as target_book_age_ms,
        {{ gold_forward('max', 'max_mid', h) }} as path_max_mid,
        {{ gold_forward('min', 'min_mid', h) }} as path_min_mid,
        {{ gold_forward('sum', 'mid_ret_sq', h) }} as path_sq_ret_sum,
        {{ gold_forward('sum', 'volume', h) }} as path_volume,
        {{ gold_forward('sum', 'trade_count', h) }} as path_trade_count,
        {{ gold_forward('count', 'sec', h) }} as path_seconds,
        {{ gold_forward('sum', 'cast(event_sec is not null as integer)', h) }} as path_event_seconds,
        {{ gold_forward('max', 'sec - coalesce(last_event_sec, sec - ' ~ (p.asof_horizon_s + 1) ~ ')', h) }}
            as path_max_silence
    from venue_seconds
    window by_sec as (partition by exchange, symbol order by sec)
),

grid as (
    select
        *,
        case when ret_count_60s = 60 then sqrt(sq_ret_sum_60s) end as trailing_vol_60s
    from windows
    where
        sec % {{ p.grid_step_s }} = 0
        and sec >= {{ gold_window_lo() }}
        and sec < {{ gold_window_hi() }}
),

labelled as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        sec as feature_ts,
        sec + {{ h }} as target_ts,
        sec * 1000 as feature_ts_ms,
        (sec + {{ h }}) * 1000 as target_ts_ms,
        make_timestamp(sec * 1000000) as feature_at,
        mid_ff as current_price,
        mid_ahead_{{ h }}s as target_price,
        mid_ahead_{{ h }}s - mid_ff as price_change,
        ln(mid_ahead_{{ h }}s / mid_ff) as return_10s,
        {%- for n in p.label_horizons_s if n != h %}
            ln(mid_ahead_{{ n }}s / mid_ff) as return_{{ n }}s,
        {%- endfor %}
        -- path statistics only over a window fully covered by data (else unknown, null)
        case when path_seconds = {{ h }} then greatest(mid_ff, path_max_mid) end as max_price_10s,
        case when path_seconds = {{ h }} then least(mid_ff, path_min_mid) end as min_price_10s,
        case when path_seconds = {{ h }} then sqrt(path_sq_ret_sum) end as volatility_10s,
        case when path_seconds = {{ h }} then path_volume end as volume_10s,
        case when path_seconds = {{ h }} then cast(path_trade_count as integer) end as trade_count_10s,
        (book_best_ask_price - book_best_bid_price) / 2 as half_spread,
        trailing_vol_60s * sqrt({{ h }} / 60.0) as trailing_sigma_10s,
        trailing_vol_60s,
        ret_60s,
        book_spread_bp as spread_bp,
        book_total_bid_value + book_total_ask_value as book_value,
        coalesce(book_known_age_ms <= {{ p.max_book_age_s * 1000 }}, false) as current_book_fresh,
        coalesce(target_book_age_ms <= {{ p.max_book_age_s * 1000 }}, false) as target_book_fresh,
        coalesce(path_event_seconds, 0) / {{ h }}.0 as path_event_share,
        coalesce(path_seconds, 0) < {{ h }}
        or path_max_silence >= {{ p.gap_threshold_s }}
        or coalesce(target_book_age_ms > {{ p.max_book_age_s * 1000 }}, true) as gap_in_window
    from grid
),

classified as (
    select
        *,
        abs(return_10s) as return_10s_abs,
        case
            when return_10s is null then null
            when abs(return_10s) < {{ p.flat_band_bp }} / 10000.0 then 0
            when return_10s > 0 then 1
            else -1
        end as direction,
        case when return_10s is not null then cast(return_10s > 0 as integer) end as direction_binary,
        case
            when return_10s is null then null
            {%- for edge in p.magnitude_edges_bp %}
                when abs(return_10s) < {{ edge }} / 10000.0 then {{ loop.index0 }}
            {%- endfor %}
            else {{ p.magnitude_edges_bp | length }}
        end as magnitude_bucket,
        case
            when volatility_10s is null then null
            {%- for edge in p.volatility_edges_bp %}
                when volatility_10s < {{ edge }} / 10000.0 then {{ loop.index0 }}
            {%- endfor %}
            else {{ p.volatility_edges_bp | length }}
        end as volatility_bucket,
        max_price_10s - min_price_10s as price_range_10s,
        price_change / nullif(half_spread, 0) as price_target_scaled,
        return_10s / nullif(trailing_sigma_10s, 0) as return_z,
        return_10s as log_return_target,
        current_price is not null and target_price is not null and current_book_fresh and not gap_in_window
            as is_valid,
        (
            cast(current_book_fresh as integer)
            + cast(target_book_fresh as integer)
            + path_event_share
            + cast(not gap_in_window as integer)
        ) / 4.0 as data_quality_score,
        coalesce(
            abs(return_10s) > {{ p.outlier_abs_bp }} / 10000.0
            or abs(return_10s / nullif(trailing_sigma_10s, 0)) > {{ p.outlier_sigma }},
            false
        ) as outlier_flag,
        case
            when trailing_vol_60s is null then null
            when trailing_vol_60s > {{ p.regime_volatile_bp }} / 10000.0 then 'volatile'
            when trailing_vol_60s > 0 and abs(ret_60s) > {{ p.regime_trend_ratio }} * trailing_vol_60s
                then 'trending'
            when trailing_vol_60s < {{ p.regime_ranging_bp }} / 10000.0 then 'ranging'
            else 'normal'
        end as market_regime,
        case
            when book_value is null then null
            when book_value >= {{ p.liquidity_high_value }} then 'high'
            when book_value >= {{ p.liquidity_medium_value }} then 'medium'
            else 'low'
        end as liquidity_state,
        case
            when spread_bp is null then null
            when spread_bp < {{ p.spread_tight_bp }} then 'tight'
            when spread_bp < {{ p.spread_wide_bp }} then 'normal'
            else 'wide'
        end as spread_state
    from labelled
),

final as (
    select
        exchange,
        symbol,
        canonical_symbol,
        base,
        feature_ts,
        target_ts,
        feature_ts_ms,
        target_ts_ms,
        current_price,
        target_price,
        price_change,
        return_10s,
        return_10s_abs,
        direction,
        direction_binary,
        magnitude_bucket,
        volatility_bucket,
        max_price_10s,
        min_price_10s,
        price_range_10s,
        volatility_10s,
        volume_10s,
        trade_count_10s,
        price_target_scaled,
        greatest(least(return_z, {{ p.scaled_clip }}), -{{ p.scaled_clip }}) as return_target_scaled,
        log_return_target,
        return_5s,
        return_15s,
        return_30s,
        is_valid,
        gap_in_window,
        data_quality_score,
        outlier_flag,
        market_regime,
        liquidity_state,
        spread_state,
        epoch_ms(current_timestamp) as created_ts,
        '{{ var("etl_version") }}' as etl_version,
        strftime(feature_at, '%Y-%m-%d') as partition_date
    from classified
)

select * from final
