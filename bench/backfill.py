"""Backfill throughput against each venue's rate-limit ceiling, with the sandbox enforcing the real limits.

`python -m bench.backfill WORK --seconds 25 --out backfill.json` (a child process of bench.run).

The sandbox (`schemahub sandbox`, its own process so it does not share our GIL) serves a SIMULATED BTC market
over 2024-01-01 with the venues' real limits (sandbox/limits.py). For each venue in turn, one
`schemahub backfill`-equivalent job (`ingest.trades.TradeRunner`, the code behind the command, writing bronze
and checkpoints) runs for `--seconds` wall seconds and is then stopped. Throttle answers are counted where the
client classifies them (`ingest.http.classify`): 429, 418 and Kraken's "Too many requests" envelope.

Ceilings (trades/s) = pages per second the venue allows x 1000 trades per page:
Binance 6000 weight/min / weight 25 per historicalTrades page = 4 pages/s; Coinbase 10 requests/s;
Kraken ~1 request/s. The client deliberately stays under them (ingest/ratelimit.py: 95 % of Binance's weight,
9.5 of Coinbase's 10 req/s, 1 req/s on Kraken), so the client's own budget is reported too.

Two rates per venue: over the whole run, and in the steady state. Binance meters weight in FIXED minute windows
(like the real `X-MBX-USED-WEIGHT-1M`), so a short run that straddles a window edge can spend two budgets in a
little over one minute and look faster than the ceiling: its steady rate counts only the trades of pages answered
inside whole server windows (the run lasts at least `BINANCE_MIN_S` so that there are two). Token buckets
(Coinbase, Kraken) start full, so their steady rate leaves out the first `BUCKET_SKIP_S` seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

PAGE = 1000
CEILING_PAGES_PER_S = {"binance": 6000 / 60 / 25, "coinbase": 10.0, "kraken": 1.0}
SYMBOLS = {"binance": "BTCUSDT", "coinbase": "BTC-USD", "kraken": "XBTUSD"}
WINDOW = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
BINANCE_WINDOW_S = 60.0
BINANCE_MIN_S = 150.0  # always holds two whole minute windows
BUCKET_SKIP_S = 5.0


def steady_rate(venue: str, pages: list[tuple[float, int]], t0: float, t1: float) -> tuple[float | None, float]:
    """(trades/s, seconds measured) over the steady part of a run: `pages` = (wall time answered, trades)."""
    if venue == "binance":
        lo = (t0 // BINANCE_WINDOW_S + 1) * BINANCE_WINDOW_S
        hi = (t1 // BINANCE_WINDOW_S) * BINANCE_WINDOW_S
    else:
        lo, hi = t0 + BUCKET_SKIP_S, t1
    if hi - lo <= 0:
        return None, 0.0
    return sum(n for t, n in pages if lo <= t < hi) / (hi - lo), hi - lo


class _Stop(Exception):
    """Raised from the progress callback when the time is up (stops the walk without an ingest error)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = open(work / "sandbox.log", "w")  # noqa: SIM115 (lives as long as the server)
    argv = [sys.executable, "-m", "schemahub.cli", "sandbox", "--port", str(port), "--seed", "7",
            "--start", WINDOW[0].isoformat(), "--end", WINDOW[1].isoformat(), "--symbols", "BTC"]
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"sandbox exited {server.returncode}: see {work / 'sandbox.log'}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("sandbox did not start listening within 120 s")


WARMUP_PATHS = {"binance": "/api/v3/aggTrades?symbol=BTCUSDT&startTime=1704067200000&limit=1",
                "coinbase": "/products/BTC-USD/trades?limit=1", "kraken": "/0/public/Trades?pair=XBTUSD&count=1"}


def warm_up(venue: str, url: str) -> float:
    """One small request, so the sandbox simulates the venue's tape before the clock starts (the simulator's
    start-up is not the ingest engine's cost); then a pause that lets every token bucket refill."""
    import httpx

    t0 = time.perf_counter()
    httpx.get(f"{url}/{venue}{WARMUP_PATHS[venue]}", timeout=300).raise_for_status()
    secs = time.perf_counter() - t0
    time.sleep(3)
    return secs


def run_venue(venue: str, url: str, work: Path, seconds: float, limits: Any = None) -> dict[str, Any]:
    import ingest.http as http
    from ingest.bronze.writer import BronzeWriter
    from ingest.checkpoints import CheckpointStore
    from ingest.trades import TradeJob, TradeRunner
    from schemahub.storage import Lake

    throttles: Counter[str] = Counter()
    original = http.classify

    def counting(v: str, resp: Any, ctx: Any) -> Any:
        try:
            return original(v, resp, ctx)
        except http.RateLimitedError as exc:
            throttles[f"{type(exc).__name__}:{resp.status_code}"] += 1
            raise

    http.classify = counting
    trades = 0
    t0 = time.perf_counter()
    wall0 = time.time()
    first_trade_at: float | None = None
    pages: list[tuple[float, int]] = []
    if venue == "binance":
        seconds = max(seconds, BINANCE_MIN_S)

    def progress(fresh: int, _: float) -> None:
        nonlocal trades, first_trade_at
        trades += fresh
        pages.append((time.time(), fresh))
        if fresh and first_trade_at is None:
            first_trade_at = time.perf_counter()
        if time.perf_counter() - t0 >= seconds:
            raise _Stop

    client = http.HttpClient(base_urls={venue: f"{url}/{venue}"}, limits={venue: limits} if limits else None)
    job = TradeJob(venue, SYMBOLS[venue], "backfill", since=WINDOW[0], until=WINDOW[1], resume=False)
    runner = TradeRunner(job, client, BronzeWriter(Lake(str(work / "lake"))),
                         CheckpointStore.local(work / "state"), progress=progress)
    error = None
    try:
        runner.run()
    except _Stop:
        pass
    except Exception as exc:  # recorded in the result; the other venues still run
        error = f"{type(exc).__name__}: {exc}"
    finally:
        http.classify = original
        client.close()
    elapsed = time.perf_counter() - t0
    steady, steady_s = steady_rate(venue, pages, wall0, wall0 + elapsed)
    limits = client.limits(venue)
    budget_pages = (limits.weight_budget / 60 / 25) if limits.weight_budget else limits.requests_per_second
    ceiling = CEILING_PAGES_PER_S[venue] * PAGE
    rate = trades / elapsed
    return {
        "symbol": SYMBOLS[venue], "seconds": elapsed, "trades": trades, "pages": runner.result.pages,
        "requests": client.stats.requests, "by_status": {str(k): v for k, v in client.stats.by_status.items()},
        "throttles": dict(throttles), "retries": client.stats.retries,
        "trades_per_s": rate, "ceiling_trades_per_s": ceiling, "share_of_ceiling": rate / ceiling,
        "steady_trades_per_s": steady, "steady_seconds": steady_s,
        "steady_share_of_ceiling": None if steady is None else steady / ceiling,
        "client_budget_trades_per_s": budget_pages * PAGE,
        "seconds_to_first_trade": None if first_trade_at is None else first_trade_at - t0,
        "error": error,
    }


def run(work: Path, seconds: float, venues: tuple[str, ...]) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    os.environ.pop("SCHEMAHUB_RATE_SCALE", None)
    server, url = start_sandbox(work)
    try:
        out: dict[str, Any] = {"seconds_per_venue": seconds, "venues": {}}
        for venue in venues:
            warm = warm_up(venue, url)
            out["venues"][venue] = {**run_venue(venue, url, work / venue, seconds), "sandbox_warmup_s": warm}
        from ingest.ratelimit import DEFAULT_LIMITS

        out["client_limits"] = {v: repr(DEFAULT_LIMITS[v]) for v in venues}
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work", type=Path)
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--venues", default="binance,coinbase,kraken")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    res = run(args.work, args.seconds, tuple(args.venues.split(",")))
    args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
