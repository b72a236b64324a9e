{{ apply_mapping('raw_binance_depth') }}
