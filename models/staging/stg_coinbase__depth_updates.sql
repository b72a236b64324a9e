{{ apply_mapping('raw_coinbase_depth_updates') }}
