"""What a user would otherwise write: bars_1m and the core of features_2s in plain pandas, from silver Parquet.

`python -m bench.pandas_impl LAKE OUT --model bars_1m|features_2s` (a child process of bench.run, timed with
its peak memory). Straightforward on purpose (read everything, groupby/resample/rolling, write Parquet per
date), not tuned.

bars_1m: every column family of models/silver/bars_1m.sql that needs the trades (OHLC, volume, notional,
counts, buy/sell splits, vwap, gap filling of empty minutes inside each day's span with the previous close).
features_2s: a SUBSET of models/gold/features_2s.sql: per (exchange, symbol) second, trade volume / notional /
count / net volume, the last book (as of the second) mid, spread and imbalance, log returns over 1-60 s,
trailing sums over 1-30 s, the 60 s realised volatility, sampled every 2 s: 25 of its 70 columns (no
cross-venue, leader, session or quality columns). So this pandas side does LESS work than the dbt model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def _read(lake: Path, model: str, columns: list[str]) -> pd.DataFrame:
    return pq.read_table(lake / "silver" / model, columns=columns, partitioning="hive").to_pandas()


def _write(df: pd.DataFrame, out: Path, date_col: str) -> None:
    pq.write_to_dataset(pa.Table.from_pandas(df, preserve_index=False), out, partition_cols=[date_col],
                        compression="zstd", existing_data_behavior="delete_matching")


def bars_1m(lake: Path, out: Path) -> int:
    t = _read(lake, "trades_unified", ["exchange", "symbol", "trade_id", "side", "price", "quantity", "notional",
                                       "trade_ts"])
    t["price"] = t["price"].astype(float)
    t["quantity"] = t["quantity"].astype(float)
    t["notional"] = t["notional"].astype(float)
    t = t.sort_values(["exchange", "symbol", "trade_ts", "trade_id"])
    t["minute"] = t["trade_ts"].dt.floor("1min")
    buy = t["side"] == "BUY"
    t["buy_q"], t["sell_q"] = t["quantity"].where(buy, 0.0), t["quantity"].where(~buy, 0.0)
    t["buy_n"], t["sell_n"] = t["notional"].where(buy, 0.0), t["notional"].where(~buy, 0.0)
    t["is_buy"] = buy.astype(int)
    g = t.groupby(["exchange", "symbol", "minute"], sort=True)
    bars = g.agg(open_price=("price", "first"), high_price=("price", "max"), low_price=("price", "min"),
                 close_price=("price", "last"), volume=("quantity", "sum"), notional=("notional", "sum"),
                 trade_count=("price", "size"), buy_trade_count=("is_buy", "sum"), buy_volume=("buy_q", "sum"),
                 sell_volume=("sell_q", "sum"), buy_notional=("buy_n", "sum"), sell_notional=("sell_n", "sum"))
    bars["sell_trade_count"] = bars["trade_count"] - bars["buy_trade_count"]
    filled = []
    for (ex, sym), b in bars.groupby(level=[0, 1]):
        b = b.droplevel([0, 1])
        for _, day in b.groupby(b.index.normalize()):
            spine = pd.date_range(day.index.min(), day.index.max(), freq="1min")
            d = day.reindex(spine)
            close = d["close_price"].ffill()
            for c in ("open_price", "high_price", "low_price", "close_price"):
                d[c] = d[c].fillna(close)
            d = d.fillna({c: 0 for c in d.columns})
            d["exchange"], d["symbol"] = ex, sym
            filled.append(d)
    res = pd.concat(filled).rename_axis("open_ts").reset_index()
    res["vwap"] = np.where(res["volume"] > 0, res["notional"] / res["volume"].where(res["volume"] > 0),
                           res["close_price"])
    res["volume_imbalance"] = ((res["buy_volume"] - res["sell_volume"]) / res["volume"]).where(res["volume"] > 0, 0)
    res["price_change"] = res["close_price"] - res["open_price"]
    res["partition_date"] = res["open_ts"].dt.strftime("%Y-%m-%d")
    _write(res, out, "partition_date")
    return len(res)


def features_2s(lake: Path, out: Path) -> int:
    t = _read(lake, "trades_unified", ["exchange", "symbol", "side", "quantity", "notional", "trade_ts"])
    t["quantity"] = t["quantity"].astype(float)
    t["notional"] = t["notional"].astype(float)
    t["sec"] = t["trade_ts"].dt.ceil("1s")  # window (sec - 1, sec]
    t["net"] = np.where(t["side"] == "BUY", t["quantity"], -t["quantity"])
    per_sec = t.groupby(["exchange", "symbol", "sec"]).agg(volume=("quantity", "sum"),
                                                            notional=("notional", "sum"),
                                                            trade_count=("quantity", "size"), net=("net", "sum"))
    b = _read(lake, "orderbook_snapshots", ["exchange", "symbol", "snapshot_ts", "mid_price", "spread_bp",
                                            "order_book_imbalance"])
    b["ts"] = pd.to_datetime(b["snapshot_ts"], unit="ms", utc=True)
    frames = []
    for (ex, sym), s in per_sec.groupby(level=[0, 1]):
        s = s.droplevel([0, 1])
        grid = pd.date_range(s.index.min(), s.index.max(), freq="1s")
        s = s.reindex(grid, fill_value=0)
        books = b[(b["exchange"] == ex) & (b["symbol"] == sym)].sort_values("ts")
        asof = pd.merge_asof(pd.DataFrame({"ts": grid}), books[["ts", "mid_price", "spread_bp",
                                                                "order_book_imbalance"]], on="ts")
        f = pd.DataFrame(index=grid)
        mid = asof["mid_price"].astype(float).to_numpy()
        f["mid_price"], f["spread_bp"] = mid, asof["spread_bp"].to_numpy()
        f["ob_imbalance"] = asof["order_book_imbalance"].to_numpy()
        logmid = np.log(f["mid_price"])
        for n in (1, 5, 10, 30, 60):
            f[f"ret_{n}s"] = logmid - logmid.shift(n)
        for n in (1, 5, 10, 30):
            roll = s.rolling(n, min_periods=1).sum()
            f[f"volume_{n}s"] = roll["volume"]
            f[f"trade_count_{n}s"] = roll["trade_count"]
            if n <= 10:
                f[f"vol_imbalance_{n}s"] = roll["net"] / roll["volume"].replace(0, np.nan)
        f["price_volatility"] = np.sqrt((f["ret_1s"] ** 2).rolling(60, min_periods=60).sum())
        f = f[f.index.second % 2 == 0]
        f["exchange"], f["symbol"] = ex, sym
        frames.append(f)
    res = pd.concat(frames).rename_axis("feature_at").reset_index()
    res["partition_date"] = res["feature_at"].dt.strftime("%Y-%m-%d")
    _write(res, out, "partition_date")
    return len(res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("lake", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--model", choices=("bars_1m", "features_2s"), required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = (bars_1m if args.model == "bars_1m" else features_2s)(args.lake, args.out)
    print(f"{args.model}: {rows} rows in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
    # On the 10 M-trade lake the interpreter's teardown once aborted ("terminate called without an active
    # exception", exit -6) AFTER the result was written and printed: a native thread pool torn down at exit.
    # The work is complete here, so leave without the teardown (flushing first).
    sys.stdout.flush()
    os._exit(0)
