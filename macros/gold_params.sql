{#-
    Every constant the gold layer uses, in one place (documented in models/gold/_gold__docs.md).
    Nothing here is fitted on data: the label buckets, bands and regime rules are fixed constants, so no
    statistic of the validation or test period can leak into them. Override any of them for one build with
    `--vars '{gold_params: {flat_band_bp: 1.0}}'`.
-#}
{% macro gold_params() %}
    {%- set params = {
        'grid_step_s': 2,
        'feature_windows_s': [1, 5, 10, 30, 60],
        'label_horizons_s': [5, 10, 15, 30],
        'label_horizon_s': 10,
        'asof_horizon_s': 600,
        'lookback_s': 720,
        'lookahead_s': 60,
        'max_book_age_s': 5,
        'gap_threshold_s': 5,
        'flat_band_bp': 0.5,
        'magnitude_edges_bp': [0.5, 1.0, 2.0, 5.0],
        'volatility_edges_bp': [0.5, 1.0, 2.0, 4.0],
        'scaled_clip': 5.0,
        'outlier_abs_bp': 50.0,
        'outlier_sigma': 10.0,
        'regime_volatile_bp': 15.0,
        'regime_ranging_bp': 2.0,
        'regime_trend_ratio': 2.0,
        'liquidity_high_value': 1000000.0,
        'liquidity_medium_value': 100000.0,
        'spread_tight_bp': 1.0,
        'spread_wide_bp': 5.0,
        'us_hours': [13, 21],
        'europe_hours': [7, 16],
        'asia_hours': [0, 8],
        'leader_exchange': 'binance',
        'leader_quote': 'USDT',
        'xv_quotes': ['USD', 'USDT', 'USDC'],
        'quality_threshold': 0.8,
        'train_fraction': 0.7,
        'val_fraction': 0.15,
        'purge_gap_s': 300,
        'n_folds': 5,
    } -%}
    {%- set overrides = var('gold_params', {}) -%}
    {%- if overrides is mapping -%}
        {%- do params.update(overrides) -%}
    {%- endif -%}
    {{ return(params) }}
{% endmacro %}


{#- Epoch seconds of the first second of the build window (start_date 00:00 UTC), or 0 without a window. -#}
{% macro gold_window_lo() -%}
    {%- if var('start_date', none) is not none -%}
        cast(epoch(date '{{ var("start_date") }}') as bigint)
    {%- else -%}
        cast(0 as bigint)
    {%- endif -%}
{%- endmacro %}


{#- Epoch seconds just after the build window (end_date + 1 day, 00:00 UTC), or far in the future. -#}
{% macro gold_window_hi() -%}
    {%- if var('end_date', none) is not none -%}
        cast(epoch(date '{{ var("end_date") }}' + interval 1 day) as bigint)
    {%- else -%}
        cast(99999999999 as bigint)
    {%- endif -%}
{%- endmacro %}


{#- The listed SQL expression as a DuckDB list literal of strings, e.g. ['USD', 'USDT']. -#}
{% macro gold_sql_list(values) -%}
    [{%- for v in values -%}'{{ v }}'{{ ', ' if not loop.last }}{%- endfor -%}]
{%- endmacro %}


{#- True when a `source` value (venue.channel.endpoint) came from a stream (websocket, recording, SBE), false for
    request/response origins (rest, dump). The channel comes from silver's `source_channel` macro. -#}
{% macro gold_source_is_stream(column) -%}
    ({{ source_channel(column) }} in ('ws', 'recording', 'sbe', 'stream'))
{%- endmacro %}
