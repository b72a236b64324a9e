"""The sandbox exchange: a deterministic simulated market served in the REST dialects of Binance, Coinbase
Exchange and Kraken on 127.0.0.1, with fault injection. Everything it serves is SIMULATED data."""
