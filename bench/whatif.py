"""Before/after measurements of changes proposed OUTSIDE bench/ (applied here only by patching, in this process).

`python -m bench.whatif WORK --hours H --out whatif.json`

1. `ingest.connectors.base.raw_json`: today it rebuilds each record's JSON text value by value in Python
   (recursion + one json.dumps per scalar). Proposed: one `json.dumps(value, separators=(",", ":"))` call with a
   `default` that emits each Decimal as a marked string whose quotes are then removed, producing the same text
   (checked here record by record on every page before timing).
2. models/gold/features_2s.sql: the left joins to `xv_mids` and `leader` carry `and grid.quote in (...)`, a
   condition on the LEFT side only, in their ON clause. DuckDB cannot use it as a join key, falls back to a
   BLOCKWISE_NL_JOIN (every grid row against every xv_mids row: quadratic in the number of seconds). Proposed:
   `on xv_mids.base = (case when grid.quote in (...) then grid.base end) and grid.sec = xv_mids.sec` (a NULL
   key never matches, so rows outside the quotes still get NULL, exactly as before) -> hash joins.
   `python -m bench.whatif WORK --features-join MANIFEST DB` times both forms of the compiled SQL in one DuckDB
   session (the DuckDB file must hold the silver views, e.g. the bench's warehouse after a build) and checks
   they return the same rows (every column but created_ts).
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


JOIN_PATTERN = r"grid\.base = (xv_mids|leader)\.base\s+and grid\.sec = \1\.sec\s+and grid\.quote in (\[[^\]]*\]|\([^)]*\))"


def hash_joinable(sql: str) -> tuple[str, int]:
    import re

    return re.subn(JOIN_PATTERN, lambda m: f"{m.group(1)}.base = (case when grid.quote in {m.group(2)} then "
                   f"grid.base end)\n            and grid.sec = {m.group(1)}.sec", sql)


def features_join(manifest: Path, db: Path) -> dict[str, Any]:
    from schemahub import duck

    nodes = json.loads(manifest.read_text())["nodes"].values()
    sql = next(n["compiled_code"] for n in nodes if n["resource_type"] == "model" and n["name"] == "features_2s")
    new, n = hash_joinable(sql)
    if n != 2:
        raise SystemExit(f"expected the 2 joins of features_2s in {manifest}, found {n}")
    con = duck.connect(str(db))
    times: dict[str, list[float]] = {"before": [], "after": []}
    for name, q in (("before", sql), ("after", new), ("after", new), ("before", sql)):
        t0 = time.perf_counter()
        con.execute(f"create or replace temp table f2s_{name} as {q}")
        times[name].append(time.perf_counter() - t0)
    cols = [r[0] for r in con.execute("describe f2s_before").fetchall() if r[0] != "created_ts"]
    sel = ", ".join(f'"{c}"' for c in cols)
    rows = con.execute("select count(*) from f2s_before").fetchone()[0]
    diff = sum(con.execute(f"select count(*) from (select {sel} from {a} except all select {sel} from {b})")
               .fetchone()[0] for a, b in (("f2s_before", "f2s_after"), ("f2s_after", "f2s_before")))
    con.close()
    return {"rows": rows, "rows_differing": diff, "before_s": times["before"], "after_s": times["after"],
            "speedup_min": min(times["before"]) / min(times["after"])}


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
    ap.add_argument("--features-join", nargs=2, type=Path, metavar=("MANIFEST", "DB"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = features_join(*args.features_join) if args.features_join else run(args.work, args.hours)
    res["seconds"] = time.perf_counter() - t0
    args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
