"""Bronze landing rate: REST pages (decode + parse + bronze write) and Binance dump zips (verify + parse/check
+ write), each against the pyarrow floor of reading the same records and writing them with no logic.

`python -m bench.landing WORK --hours H --out landing.json` (a child process of bench.run).

SIMULATED DATA: the pages are the sandbox's venue-native records (`sandbox.bronze.trade_records`, the same code
that serves REST pages) cut into 1000-trade bodies; the dump is the sandbox's own Binance dump CSV and zip.
The engine path timed is the one `schemahub backfill` and `schemahub dumps` run, minus the network:
`decode_json` -> `parse_trades` -> `Page.bronze_rows` -> `BronzeWriter.to_arrow` -> `BronzeWriter.write` every
100 000 rows (ingest.trades.DEFAULT_BATCH); for dumps `sha256_file` + `ingest.dumps.land_zip`, the code behind
`ingest_dump` (pass 1 checks every line and writes nothing; pass 2 writes pass 1's checked tables when they fit in
memory, else reads the zip again). The floor reads the same records with pyarrow (newline-delimited JSON for
pages, CSV from the same zip for dumps) and writes one zstd Parquet file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

PAGE = 1000


def _bodies(market: Any, venue: str, asset: str) -> tuple[list[str], bytes, int]:
    """(REST page bodies as the venue sends them, the same records as NDJSON, record count)."""
    from sandbox.bronze import trade_records
    from sandbox.specs import market_for

    n = len(market.tape(venue, asset).t_ns)
    recs = trade_records(market, venue, asset, 0, n)
    raws = [r["_raw_payload"] for r in recs]
    bodies = []
    spec = market_for(venue, asset)
    for i in range(0, n, PAGE):
        chunk = raws[i:i + PAGE]
        if venue == "kraken":
            last = recs[min(i + PAGE, n) - 1]["time"].replace(".", "")
            rows = ",".join(chunk)
            bodies.append(f'{{"error":[],"result":{{"{spec.symbol}":[{rows}],"last":"{last}"}}}}')
        else:
            bodies.append("[" + ",".join(chunk) + "]")
    if venue == "kraken":  # rows are arrays: give the floor objects with the same fields
        names = ("price", "volume", "time", "side", "ordertype", "misc", "trade_id")
        nd = "\n".join(json.dumps(dict(zip(names, json.loads(r), strict=True))) for r in raws)
    else:
        nd = "\n".join(raws)
    return bodies, nd.encode(), n


def land_pages(venue: str, symbol: str, bodies: list[str], lake: Path) -> float:
    from ingest.bronze.writer import BronzeWriter
    from ingest.connectors import binance, coinbase, kraken
    from ingest.connectors.base import Page
    from ingest.http import decode_json
    from ingest.trades import DEFAULT_BATCH
    from schemahub.storage import Lake

    writer = BronzeWriter(Lake(str(lake)))
    table = f"raw_{venue}_trades"
    t0 = time.perf_counter()
    buf: list[dict[str, Any]] = []
    now = dt.datetime.now(dt.UTC)
    for k, body in enumerate(bodies):
        data = decode_json(body)
        if venue == "binance":
            records = binance.parse_trades(data, symbol)
        elif venue == "coinbase":
            records = coinbase.parse_trades(data, symbol)
        else:
            records = kraken.parse_trades(data, symbol).trades
        page = Page(records, f"{venue}.rest.trades", f"http://bench/{venue}/{symbol}?page={k}", now)
        buf += page.bronze_rows()
        if len(buf) >= DEFAULT_BATCH or k == len(bodies) - 1:
            arrow = writer.to_arrow(table, buf, source=f"{venue}.rest.trades", ingest_ts=now)
            writer.write(table, symbol, arrow)
            buf = []
    return time.perf_counter() - t0


def floor_json(nd: bytes, out: Path) -> float:
    t0 = time.perf_counter()
    tbl = pajson.read_json(pa.BufferReader(nd))
    pq.write_table(tbl, out, compression="zstd")
    return time.perf_counter() - t0


def land_dump(zip_path: Path, symbol: str, date: str, lake: Path) -> tuple[float, int]:
    from ingest.bronze.writer import BronzeWriter
    from ingest.dumps import DumpFile, land_zip, sha256_file
    from schemahub.storage import Lake

    writer = BronzeWriter(Lake(str(lake)))
    dump = DumpFile(symbol, "trades", "daily", date)
    t0 = time.perf_counter()
    checksum = sha256_file(zip_path)
    uri = f"file://{zip_path}"
    rows = land_zip(writer, zip_path, dump, uri=uri, checksum=checksum).rows
    return time.perf_counter() - t0, rows


def floor_csv(zip_path: Path, out: Path) -> float:
    t0 = time.perf_counter()
    with zipfile.ZipFile(zip_path) as zf, zf.open(zf.namelist()[0]) as raw:
        tbl = pacsv.read_csv(raw, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    pq.write_table(tbl, out, compression="zstd")
    return time.perf_counter() - t0


def make_dump(market: Any, work: Path) -> tuple[Path, str, str]:
    """The sandbox's Binance trades dump of the market's first UTC day (BTCUSDT), as a zip file."""
    from sandbox.specs import market_for
    from sandbox.venues.binance_dumps import BinanceDumps, _zip

    spec = market_for("binance", "BTC")
    day = dt.datetime.fromtimestamp(market.start_ns / 1e9, dt.UTC).date()
    lo = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()) * 10**9
    csv = BinanceDumps()._csv(market, spec, "trades", None, lo, lo + 86400 * 10**9, False)
    name = f"{spec.symbol}-trades-{day.isoformat()}"
    path = work / f"{name}.zip"
    path.write_bytes(_zip(name + ".csv", csv))
    return path, spec.symbol, day.isoformat()


def run(work: Path, hours: float, repeats: int = 3) -> dict[str, Any]:
    from bench.data import START
    from sandbox.market import Market
    from sandbox.specs import market_for

    work.mkdir(parents=True, exist_ok=True)
    market = Market(7, START, START + dt.timedelta(hours=hours), assets=("BTC",))
    out: dict[str, Any] = {"rest": {}, "window_hours": hours, "repeats": repeats, "timing": "min of repeats"}
    for venue in ("binance", "coinbase", "kraken"):
        symbol = market_for(venue, "BTC").symbol
        bodies, nd, n = _bodies(market, venue, "BTC")
        # warm-up on one page (imports, first-call costs) so the timed run measures the steady rate
        land_pages(venue, symbol, bodies[:1], work / f"warmup_{venue}")
        floor_json(nd[:nd.find(b"\n") if b"\n" in nd else len(nd)], work / f"warmup_{venue}.parquet")
        engine_runs, floor_runs = [], []
        for k in range(repeats):  # interleaved; the minimum is the least disturbed run on a shared machine
            engine_runs.append(land_pages(venue, symbol, bodies, work / f"lake_rest_{venue}_{k}"))
            floor_runs.append(floor_json(nd, work / f"floor_{venue}_{k}.parquet"))
        secs, fl = min(engine_runs), min(floor_runs)
        out["rest"][venue] = {"records": n, "pages": len(bodies), "seconds": secs, "floor_seconds": fl,
                              "engine_runs_s": engine_runs, "floor_runs_s": floor_runs,
                              "records_per_s": n / secs, "floor_records_per_s": n / fl, "ratio": secs / fl}
    zip_path, symbol, date = make_dump(market, work)
    land_dump(zip_path, symbol, date, work / "warmup_dump")
    floor_csv(zip_path, work / "warmup_dump.parquet")
    engine_runs, floor_runs = [], []
    for k in range(repeats):
        secs, rows = land_dump(zip_path, symbol, date, work / f"lake_dump_{k}")
        engine_runs.append(secs)
        floor_runs.append(floor_csv(zip_path, work / f"floor_dump_{k}.parquet"))
    secs, fl = min(engine_runs), min(floor_runs)
    out["dump"] = {"records": rows, "zip_bytes": zip_path.stat().st_size, "seconds": secs, "floor_seconds": fl,
                   "engine_runs_s": engine_runs, "floor_runs_s": floor_runs,
                   "records_per_s": rows / secs, "floor_records_per_s": rows / fl, "ratio": secs / fl}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work", type=Path)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.write_text(json.dumps(run(args.work, args.hours, args.repeats), indent=1))


if __name__ == "__main__":
    main()
