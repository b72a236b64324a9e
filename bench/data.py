"""Simulated market straight into bronze (no HTTP) at a benchmark size: `python -m bench.data LAKE DAYS`.

SIMULATED DATA (sandbox.market). Days start at 2024-01-01 00:00 UTC so every size is a whole number of UTC
dates (the incremental benchmark adds or rebuilds whole dates, the unit of the silver/gold partitions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SEED = 7


def window(days: float, offset_days: float = 0.0) -> tuple[dt.datetime, dt.datetime]:
    start = START + dt.timedelta(days=offset_days)
    return start, start + dt.timedelta(days=days)


def generate(lake: Path, days: float, offset_days: float = 0.0, progress: bool = True) -> dict[str, int]:
    """Write trades, klines and 1 s depth snapshots of every venue and asset; returns trade counts."""
    from sandbox.bronze import write_bronze
    from sandbox.market import Market
    from schemahub.storage import Lake

    lake.mkdir(parents=True, exist_ok=True)
    start, end = window(days, offset_days)
    market = Market(SEED, start, end)
    write_bronze(market, Lake(str(lake)), progress=progress)
    counts = {f"{v}.{a}": len(market.tape(v, a).t_ns)
              for v in ("binance", "coinbase", "kraken") for a in market.assets}
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("lake")
    ap.add_argument("days", type=float)
    ap.add_argument("--offset-days", type=float, default=0.0)
    ap.add_argument("--counts-json", help="write the trade counts here")
    args = ap.parse_args()
    os.environ["LAKE_ROOT"] = str(Path(args.lake).resolve())
    counts = generate(Path(args.lake), args.days, args.offset_days)
    if args.counts_json:
        Path(args.counts_json).write_text(json.dumps(counts))


if __name__ == "__main__":
    main()
