{{ apply_mapping('raw_binance_trades') }}
