"""Simulated market straight into bronze (no HTTP) at a benchmark size: `python -m bench.data LAKE DAYS`.

SIMULATED DATA (sandbox.market). Days start at 2024-01-01 00:00 UTC so every size is a whole number of UTC
dates (the incremental benchmark adds or rebuilds whole dates, the unit of the silver/gold partitions).

The window is generated one UTC day at a time (one `Market` per day, written and released before the next), so
peak memory is about one day's worth whatever the size. Each day continues the previous one (`Market(..., after=
previous.carry())`): trade, order, Binance update and Coinbase sequence ids go on strictly increasing across
midnight and latent prices go on from where they were. The first day is a standalone market, so a one-day window
is exactly `Market(SEED, start, end)`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
SEED = 7
DAY = dt.timedelta(days=1)


def window(days: float, offset_days: float = 0.0) -> tuple[dt.datetime, dt.datetime]:
    start = START + dt.timedelta(days=offset_days)
    return start, start + dt.timedelta(days=days)


def day_windows(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut at every UTC midnight."""
    out = []
    lo = start
    while lo < end:
        midnight = dt.datetime.combine(lo.date(), dt.time(), tzinfo=dt.UTC) + DAY
        hi = min(midnight, end)
        out.append((lo, hi))
        lo = hi
    return out


def generate(lake: Path, days: float, offset_days: float = 0.0, progress: bool = True) -> dict[str, int]:
    """Write trades, klines and 1 s depth snapshots of every venue and asset, day by day; returns trade counts
    per `venue.asset`."""
    from tqdm import tqdm

    from sandbox.bronze import write_bronze
    from sandbox.market import Market
    from sandbox.specs import VENUES
    from schemahub.storage import Lake

    lake.mkdir(parents=True, exist_ok=True)
    start, end = window(days, offset_days)
    counts: dict[str, int] = {}
    carry = None
    for lo, hi in tqdm(day_windows(start, end), desc="simulated days", unit="day", disable=not progress):
        market = Market(SEED, lo, hi, after=carry)
        write_bronze(market, Lake(str(lake)))
        for v in VENUES:
            for a in market.assets:
                counts[f"{v}.{a}"] = counts.get(f"{v}.{a}", 0) + len(market.tape(v, a).t_ns)
        carry = market.carry()
        del market  # release the day (its tapes and books) before building the next
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
