{{ apply_mapping('raw_coinbase_klines') }}
