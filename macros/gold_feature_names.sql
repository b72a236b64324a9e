{#-
    The model features of features_2s, in the order of training_sets.features / feature_names.
    Price levels (price, mid_price, weighted_mid, xv_mid_price) are left out: they are not stationary and a
    tree fitted on one price level does not carry over to another. Cross-venue features (xv_*) come last,
    so a baseline without them drops the tail named by gold_xv_feature_names().
-#}
{% macro gold_single_venue_feature_names() %}
    {{ return([
        'ret_1s', 'ret_5s', 'ret_10s', 'ret_30s', 'ret_60s',
        'volume_1s', 'volume_5s', 'volume_10s', 'volume_30s',
        'vol_imbalance_1s', 'vol_imbalance_5s', 'vol_imbalance_10s',
        'spread_bp', 'ob_imbalance', 'bid_strength', 'ask_strength', 'bid_ask_ratio', 'micro_dev_bp',
        'trade_intensity_1s', 'trade_intensity_5s', 'avg_trade_size_1s', 'avg_trade_size_5s',
        'dollar_volume_1s', 'dollar_volume_5s',
        'vwap_dev_1s', 'vwap_dev_5s', 'vwap_dev_10s', 'price_volatility', 'momentum', 'acceleration',
        'volume_momentum', 'vol_adj_ret_1s', 'vol_adj_ret_5s', 'volume_change_5s', 'dollar_intensity',
        'trade_size_trend', 'spread_adj_imbalance', 'mid_last_diff',
        'hour_sin', 'hour_cos', 'minute_sin', 'minute_cos', 'is_us_hours', 'is_asia_hours', 'is_europe_hours',
        'price_volume_int', 'spread_momentum_int', 'vol_imbalance_int', 'volatility_intensity_int',
        'completeness', 'data_age_ms', 'gap_indicator',
    ]) }}
{% endmacro %}


{% macro gold_xv_feature_names() %}
    {{ return(['xv_mid_dev_bp', 'xv_leader_basis_bp', 'xv_leader_ret_2s', 'xv_leader_ret_10s', 'xv_venue_count']) }}
{% endmacro %}


{% macro gold_feature_names() %}
    {{ return(gold_single_venue_feature_names() + gold_xv_feature_names()) }}
{% endmacro %}
