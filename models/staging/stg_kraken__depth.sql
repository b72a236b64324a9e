{{ apply_mapping('raw_kraken_depth') }}
