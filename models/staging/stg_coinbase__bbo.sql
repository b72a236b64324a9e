{{ apply_mapping('raw_coinbase_bbo') }}
