"""A small synthetic lake in the silver/gold contract layout, for the replay tests.

One latent price random walk with a volatility burst; Binance trades follow it at once, Coinbase 80 ms later,
Kraken 250 ms later (so the measured lead-lag has a known answer). Bronze lineage names the sandbox URL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from schemahub.storage import Lake

LAGS_MS = {"BINANCE": 0, "COINBASE": 80, "KRAKEN": 250}
SYMBOLS = {"BINANCE": ("BTCUSDT", "BTC-USDT"), "COINBASE": ("BTC-USD", "BTC-USD"), "KRAKEN": ("XBTUSD", "BTC-USD")}
START = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
SPIKE = datetime(2026, 11, 21, 12, 1, 30, tzinfo=UTC)


def make_lake(lake: Lake, minutes: int = 3, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    step_ms = 10
    n = minutes * 60_000 // step_ms
    t_ms = int(START.timestamp() * 1000) + np.arange(n) * step_ms
    spike_ms = int(SPIKE.timestamp() * 1000)
    vol = np.where(np.abs(t_ms - spike_ms) < 6000, 6e-4, 4e-5)
    latent = 90_000 * np.exp(np.cumsum(rng.normal(0, 1, n) * vol))
    day = START.date()
    trades, books, feats = [], [], []
    for venue, lag in LAGS_MS.items():
        sym, canon = SYMBOLS[venue]
        price = np.concatenate([np.full(lag // step_ms, latent[0]), latent[: n - lag // step_ms]])
        half_spread = {"BINANCE": 0.5, "COINBASE": 2.0, "KRAKEN": 4.0}[venue] * (1 + 4 * (vol > 1e-4))
        rate = {"BINANCE": 0.5, "COINBASE": 0.3, "KRAKEN": 0.15}[venue]
        hit = rng.random(n) < rate
        side = np.where(rng.random(n) < 0.5, "BUY", "SELL")
        tp = price + np.where(side == "BUY", half_spread, -half_spread)
        idx = np.nonzero(hit)[0]
        trades.append(pa.table({
            "exchange": [venue] * len(idx), "symbol": [sym] * len(idx), "canonical_symbol": [canon] * len(idx),
            "base": ["BTC"] * len(idx), "quote": [canon.split("-")[1]] * len(idx),
            "trade_id": [str(i) for i in range(len(idx))], "side": side[idx].tolist(),
            "price": tp[idx], "quantity": rng.exponential(0.05, len(idx)),
            "notional": tp[idx] * 0.05,
            "trade_ts": pa.array((t_ms[idx] * 1000).astype("int64"), pa.timestamp("us", tz="UTC")),
            "source": [f"{venue.lower()}.rest.trades"] * len(idx),
        }))
        bi = np.arange(0, n, 10)  # a book every 100 ms
        books.append(pa.table({
            "exchange": [venue] * len(bi), "symbol": [sym] * len(bi), "canonical_symbol": [canon] * len(bi),
            "base": ["BTC"] * len(bi), "snapshot_ts": t_ms[bi].astype("int64"),
            "best_bid_price": price[bi] - half_spread[bi], "best_ask_price": price[bi] + half_spread[bi],
            "mid_price": price[bi], "spread_bp": 2 * half_spread[bi] / price[bi] * 1e4,
        }))
        fi = np.arange(0, n, 200)  # every 2 s
        ret5 = np.full(len(fi), np.nan)
        ret5[3:] = np.log(price[fi[3:]] / price[fi[3:] - 500])
        feats.append(pa.table({
            "exchange": [venue] * len(fi), "symbol": [sym] * len(fi), "base": ["BTC"] * len(fi),
            "feature_ts": (t_ms[fi] // 1000).astype("int64"), "feature_ts_ms": t_ms[fi].astype("int64"),
            "mid_price": price[fi], "ret_5s": ret5, "price_volatility": vol[fi],
        }))
    lake.write_parquet(pa.concat_tables(trades), "silver", "trades_unified", f"trade_date={day}", "data_0.parquet")
    lake.write_parquet(pa.concat_tables(books), "silver", "orderbook_snapshots", f"partition_date={day}",
                       "data_0.parquet")
    lake.write_parquet(pa.concat_tables(feats), "gold", "features_2s", f"partition_date={day}", "data_0.parquet")
    lineage = pa.table({
        "id": [1], "price": ["90000.0"], "_source": ["binance.rest.historicalTrades"],
        "_source_uri": ["http://127.0.0.1:8765/binance/api/v3/historicalTrades?symbol=BTCUSDT"],
    })
    lake.write_parquet(lineage, "bronze", "raw_binance_trades", "symbol=BTCUSDT", f"date={day}", "x.parquet")
