{{ apply_mapping('raw_binance_aggtrades') }}
