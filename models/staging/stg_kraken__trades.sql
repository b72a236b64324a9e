{{ apply_mapping('raw_kraken_trades') }}
