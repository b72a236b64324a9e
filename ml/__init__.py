"""The 10-second-ahead BTC model: walk-forward LightGBM on gold, baselines, leak canaries, registry, report."""
