"""Before/after measurements of changes proposed OUTSIDE bench/ (applied here only by patching, in this process).

`python -m bench.whatif WORK --hours H --out whatif.json`

1. `ingest.connectors.base.raw_json`: today it rebuilds each record's JSON text value by value in Python
   (recursion + one json.dumps per scalar). Proposed: one `json.dumps(value, separators=(",", ":"))` call with a
   `default` that emits each Decimal as a marked string whose quotes are then removed, producing the same text
   (checked here record by record on every page before timing).
2. `ingest.dumps.ingest_dump`: pass 1 (check) and pass 2 (write) both re-read and re-convert the CSV. Proposed:
   keep pass 1's converted tables when the dump is small enough (e.g. under 5 M rows) and write those.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

_MARK = "\\u0001dec"  # how json.dumps escapes the "\x01dec" prefix the default hook adds


def fast_raw_json(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    text = json.dumps(value, separators=(",", ":"), default=_dec)
    if _MARK not in text:
        return text
    return text.replace('"' + _MARK, "").replace(_MARK + '"', "")


def _dec(value: Any) -> str:
    if isinstance(value, Decimal):
        return "\x01dec" + str(value) + "\x01dec"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def run(work: Path, hours: float) -> dict[str, Any]:
    import ingest.connectors.base as base
    from bench import landing
    from bench.data import START
    from ingest.http import decode_json
    from sandbox.market import Market
    from sandbox.specs import market_for

    market = Market(7, START, START + dt.timedelta(hours=hours), assets=("BTC",))
    out: dict[str, Any] = {"raw_json": {}, "window_hours": hours}
    original = base.raw_json
    for venue in ("binance", "coinbase", "kraken"):
        symbol = market_for(venue, "BTC").symbol
        bodies, _, n = landing._bodies(market, venue, "BTC")
        for body in bodies:  # same text, record by record
            data = decode_json(body)
            items = data["result"][symbol] if venue == "kraken" else data
            for item in items:
                if fast_raw_json(item) != original(item):
                    raise SystemExit(f"{venue}: fast_raw_json differs on {item!r}")
        landing.land_pages(venue, symbol, bodies[:1], work / f"warm_{venue}")
        before = landing.land_pages(venue, symbol, bodies, work / f"before_{venue}")
        # the connectors imported raw_json by name: patch it where they look it up
        mods = [m for m in _connector_modules() if getattr(m, "raw_json", None) is original]
        for m in mods:
            m.raw_json = fast_raw_json
        try:
            after = landing.land_pages(venue, symbol, bodies, work / f"after_{venue}")
        finally:
            for m in mods:
                m.raw_json = original
        out["raw_json"][venue] = {"records": n, "before_s": before, "after_s": after,
                                  "before_rec_per_s": n / before, "after_rec_per_s": n / after}
    return out


def _connector_modules() -> list[Any]:
    import ingest.connectors.base as base
    import ingest.connectors.binance as binance
    import ingest.connectors.coinbase as coinbase
    import ingest.connectors.kraken as kraken

    return [base, binance, coinbase, kraken]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work", type=Path)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run(args.work, args.hours)
    res["seconds"] = time.perf_counter() - t0
    args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
