"""`schemahub ingest` (watermarked microbatches) and `schemahub backfill` (bounded windows, resumable).

    schemahub ingest [binance coinbase kraken] [PRODUCT ...] [--skip-checkpoint] [--after ID] [--before ID]
    schemahub backfill [VENUES] [PRODUCTS] --since 2025-01-01 [--until ...] --workers 4 --resume [--dry-run]
    schemahub klines [VENUES] [PRODUCTS] --interval 1m --since ... [--until ...]

Both write bronze trades (`raw_<venue>_trades`) under LAKE_ROOT (or --s3-bucket/--s3-prefix) and exit non-zero
when any product failed, after finishing the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ingest.commands.common import add_lake_args, apply_lake_args, parse_when, resolve_targets
from schemahub.cli import SchemaHubError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="fetch new trades since each product's watermark into bronze",
                       description="Fetch new trades since each product's watermark (cold start: only the last "
                                   "--cutoff-minutes) into bronze raw_<venue>_trades.")
    p.add_argument("targets", nargs="*", metavar="VENUE|PRODUCT",
                   help="venues (binance coinbase kraken) and/or products; default: every seed product")
    add_lake_args(p)
    p.add_argument("--limit", type=int, default=1000, help="trades per request (1..1000, default 1000)")
    p.add_argument("--before", type=int, default=None, help="only trades with id < BEFORE (no watermark update)")
    p.add_argument("--after", type=int, default=None, help="only trades with id > AFTER, instead of the watermark "
                                                           "(no watermark update)")
    p.add_argument("--skip-checkpoint", action="store_true",
                   help="ignore the watermark: fetch the latest --cutoff-minutes fresh (watermark untouched)")
    p.add_argument("--cutoff-minutes", type=float, default=45.0,
                   help="cold start: fetch back only this far (default 45)")
    p.add_argument("--checkpoint-s3", action="store_true",
                   help="keep watermarks in the lake (<lake>/_state); default: in the lake when it is on S3, "
                        "else in state/")
    p.add_argument("--batch-size", type=int, default=100_000, help="rows buffered before a bronze flush")
    p.add_argument("--workers", type=int, default=1, help="products fetched concurrently")
    p.set_defaults(func=run_ingest)

    b = sub.add_parser("backfill", help="bulk historical trades for a time window, resumable",
                       description="Backfill trades of a time window [--since, --until) for every named or seed "
                                   "product, with checkpoints, --resume, --workers and a progress bar.")
    b.add_argument("targets", nargs="*", metavar="VENUE|PRODUCT",
                   help="venues (binance coinbase kraken) and/or products; default: every seed product")
    add_lake_args(b)
    b.add_argument("--since", default=None, help="window start, ISO date/time UTC (default: --until minus 1 day)")
    b.add_argument("--until", default=None, help="window end (exclusive), ISO date/time UTC (default: now)")
    b.add_argument("--chunk-size", type=int, default=1000, help="trades per API request (1..1000)")
    b.add_argument("--batch-size", type=int, default=100_000,
                   help="rows buffered per product before a bronze flush + checkpoint (bounds memory)")
    b.add_argument("--workers", type=int, default=1, help="products backfilled concurrently (threads)")
    b.add_argument("--resume", action="store_true", help="continue from existing checkpoints")
    b.add_argument("--checkpoint-s3", action="store_true",
                   help="store checkpoints in the lake (<lake>/_state/...) instead of local state/")
    b.add_argument("--dry-run", action="store_true", help="print the plan; fetch and write nothing")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=run_backfill)

    k = sub.add_parser("klines", help="klines / candles / OHLC of a time window into bronze (for reconciliation)",
                       description="Fetch closed bars (Binance klines, Coinbase candles, Kraken OHLC) of "
                                   "[--since, --until) into bronze raw_<venue>_klines; one interval per table.")
    k.add_argument("targets", nargs="*", metavar="VENUE|PRODUCT",
                   help="venues (binance coinbase kraken) and/or products; default: every seed product")
    add_lake_args(k)
    k.add_argument("--interval", default="1m", help="bar length: 1m 5m 15m 1h 1d ... (default 1m)")
    k.add_argument("--since", default=None, help="window start, ISO date/time UTC (default: --until minus 6 h)")
    k.add_argument("--until", default=None, help="window end (exclusive), ISO date/time UTC (default: now)")
    k.set_defaults(func=run_klines)


def _check_sizes(page: int, batch: int, workers: int, page_flag: str) -> None:
    if not 1 <= page <= 1000:
        raise SchemaHubError(f"{page_flag} must be within 1..1000 (the venues' page limit), got {page}")
    if batch < 1:
        raise SchemaHubError(f"--batch-size must be >= 1, got {batch}")
    if workers < 1:
        raise SchemaHubError(f"--workers must be >= 1, got {workers}")


def _store(in_lake: bool) -> Any:
    from ingest.checkpoints import CheckpointStore

    return CheckpointStore.in_lake() if in_lake else CheckpointStore.local()


def _run_jobs(jobs: list[Any], workers: int, make_runner: Any) -> list[Any]:
    """Run TradeJobs (threads when workers > 1); every job runs even when others fail."""
    from ingest.bronze.writer import BronzeError
    from ingest.errors import IngestError
    from ingest.trades import JobResult

    results: list[Any] = []

    def one(job: Any) -> Any:
        runner = make_runner(job)
        try:
            return runner.run()
        except (IngestError, SchemaHubError, BronzeError, OSError) as exc:  # OSError: lake storage
            res = runner.result if isinstance(runner.result, JobResult) else JobResult(job.venue, job.symbol)
            res.error = str(exc)
            return res

    if workers <= 1 or len(jobs) <= 1:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backfill") as pool:
        futures = [pool.submit(one, j) for j in jobs]
        for f in as_completed(futures):
            results.append(f.result())
    order = {(j.venue, j.symbol): i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[(r.venue, r.symbol)])


def _report(results: list[Any], title: str, columns: tuple[str, ...], counts: tuple[str, ...]) -> int:
    """Print one row per product (the `counts` attributes, then its status); fail naming every failed product."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in (*columns, "status"):
        table.add_column(col)
    for r in results:
        status = f"[red]FAILED: {r.error}[/red]" if r.error else (r.note or "ok")
        table.add_row(r.venue, r.symbol, *(str(getattr(r, c)) for c in counts), status)
    Console(file=sys.stdout, width=160).print(table)
    failed = [r for r in results if r.error]
    if failed:
        raise SchemaHubError(f"{len(failed)} of {len(results)} product(s) failed: "
                             + "; ".join(f"{r.venue} {r.symbol}: {r.error}" for r in failed))
    return 0


TRADE_COLUMNS = ("venue", "symbol", "new trades", "dup/covered dropped", "files", "pages")
TRADE_COUNTS = ("trades", "dropped", "files", "pages")


def _report_trades(results: list[Any], what: str, elapsed: float) -> int:
    return _report(results, f"{what}: {sum(r.trades for r in results)} trades in {elapsed:.1f}s",
                   TRADE_COLUMNS, TRADE_COUNTS)


# -- ingest ----------------------------------------------------------------------------------------------
def run_ingest(args: argparse.Namespace) -> int:
    from ingest.bronze.writer import BronzeWriter
    from ingest.http import HttpClient
    from ingest.trades import TradeJob, TradeRunner
    from schemahub.storage import Lake

    _check_sizes(args.limit, args.batch_size, args.workers, "--limit")
    if args.cutoff_minutes <= 0:
        raise SchemaHubError(f"--cutoff-minutes must be > 0, got {args.cutoff_minutes}")
    apply_lake_args(args)
    pairs = resolve_targets(args.targets, args.seed_path)
    lake = Lake.from_env()
    store = _store(args.checkpoint_s3 or lake.is_s3)
    writer = BronzeWriter(lake)
    jobs = [TradeJob(v, s, "ingest", after_id=args.after, before_id=args.before, page_size=args.limit,
                     batch_size=args.batch_size, skip_checkpoint=args.skip_checkpoint,
                     cutoff=dt.timedelta(minutes=args.cutoff_minutes)) for v, s in pairs]
    t0 = time.monotonic()
    with HttpClient() as client:
        results = _run_jobs(jobs, args.workers, lambda j: TradeRunner(j, client, writer, store))
    return _report_trades(results, f"ingest into {lake.root}", time.monotonic() - t0)


# -- backfill --------------------------------------------------------------------------------------------
def run_backfill(args: argparse.Namespace) -> int:
    from ingest.bronze.writer import BronzeWriter
    from ingest.trades import TradeJob
    from schemahub.storage import Lake

    _check_sizes(args.chunk_size, args.batch_size, args.workers, "--chunk-size")
    until = parse_when(args.until, "--until") if args.until else dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = parse_when(args.since, "--since") if args.since else until - dt.timedelta(days=1)
    if since >= until:
        raise SchemaHubError(f"--since {since.isoformat()} must be before --until {until.isoformat()}")
    if until > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1):
        raise SchemaHubError(f"--until {until.isoformat()} is in the future")
    apply_lake_args(args)
    pairs = resolve_targets(args.targets, args.seed_path)
    lake = Lake.from_env()
    store = _store(args.checkpoint_s3)
    explicit = bool(args.since or args.until)
    jobs = [TradeJob(v, s, "backfill", since=since, until=until, page_size=args.chunk_size,
                     batch_size=args.batch_size, resume=args.resume, window_explicit=explicit) for v, s in pairs]
    if args.dry_run:
        return _plan(jobs, store, BronzeWriter(lake), lake, args)
    return _backfill(jobs, store, BronzeWriter(lake), lake, args)


def _plan(jobs: list[Any], store: Any, writer: Any, lake: Any, args: argparse.Namespace) -> int:
    """The dry-run: what each product would do, from checkpoints and bronze listings only (no venue calls)."""
    from rich.console import Console
    from rich.table import Table

    from ingest.connectors import connector_class

    table = Table(title=f"backfill plan (dry run: nothing fetched or written) -> {lake.root}")
    for col in ("venue", "symbol", "bronze table", "window (UTC)", "checkpoint", "starts from", "bronze has"):
        table.add_column(col)
    for j in jobs:
        conn = connector_class(j.venue)
        where = store.location("backfill", j.venue, "trades", j.symbol)
        cp = store.load("backfill", j.venue, "trades", j.symbol)
        window = f"{j.since:%Y-%m-%d %H:%M} .. {j.until:%Y-%m-%d %H:%M}"
        if cp is None or not j.resume:
            state = "none" if cp is None else "ignored (no --resume)"
            start = "window start" if j.venue != "coinbase" else "window end, walking back"
        elif cp.done:
            state, start = "done", "nothing to do"
        else:
            state, start = f"{cp.trades_processed} trades", f"cursor {cp.cursor}"
            if cp.window:
                window = f"{cp.window['since']} .. {cp.window['until']}"
        ranges = writer.covered_ranges(conn.trades_table, j.symbol)
        has = f"{len(ranges)} file(s), ids {ranges[0][0]}..{ranges[-1][1]}" if ranges else "nothing"
        table.add_row(j.venue, j.symbol, conn.trades_table, window, f"{state}\n{where}", start, has)
    console = Console(file=sys.stdout, width=200)
    console.print(table)
    console.print(f"{len(jobs)} product(s), {args.workers} worker(s), {args.chunk_size} trades/request, "
                  f"flush every {args.batch_size} rows; checkpoints in {store.describe()}")
    return 0


class _Progress:
    """One tqdm bar for all workers: window-seconds covered (ETA), trades and trades/s in the postfix."""

    def __init__(self, total_s: float, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=round(total_s), unit="s", unit_scale=True, desc="backfill (market time)",
                        disable=not enabled, dynamic_ncols=True, file=sys.stderr)
        self.lock = threading.Lock()
        self.trades = 0
        self.t0 = time.monotonic()

    def __call__(self, trades: int, seconds: float) -> None:
        with self.lock:
            self.trades += trades
            self.bar.update(seconds)
            rate = self.trades / max(1e-9, time.monotonic() - self.t0)
            self.bar.set_postfix(trades=self.trades, trades_per_s=f"{rate:,.0f}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _backfill(jobs: list[Any], store: Any, writer: Any, lake: Any, args: argparse.Namespace) -> int:
    from ingest.http import HttpClient
    from ingest.trades import TradeRunner

    total = sum((j.until - j.since).total_seconds() for j in jobs)
    progress = _Progress(total, enabled=not args.no_progress)
    t0 = time.monotonic()
    try:
        with HttpClient() as client:
            results = _run_jobs(jobs, args.workers,
                                lambda j: TradeRunner(j, client, writer, store, progress=progress))
    finally:
        progress.close()
    return _report_trades(results, f"backfill into {lake.root}", time.monotonic() - t0)


# -- klines ----------------------------------------------------------------------------------------------
def run_klines(args: argparse.Namespace) -> int:

    from ingest.bronze.writer import BronzeError, BronzeWriter
    from ingest.errors import IngestError
    from ingest.http import HttpClient
    from ingest.klines import KlineRunner
    from schemahub.storage import Lake

    until = parse_when(args.until, "--until") if args.until else dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = parse_when(args.since, "--since") if args.since else until - dt.timedelta(hours=6)
    if since >= until:
        raise SchemaHubError(f"--since {since.isoformat()} must be before --until {until.isoformat()}")
    apply_lake_args(args)
    pairs = resolve_targets(args.targets, args.seed_path)
    lake = Lake.from_env()
    writer = BronzeWriter(lake)
    results = []
    with HttpClient() as client:
        for venue, symbol in pairs:
            runner = KlineRunner(venue, symbol, args.interval, since, until, client, writer)
            try:
                results.append(runner.run())
            except (IngestError, BronzeError) as exc:
                runner.result.error = str(exc)
                results.append(runner.result)
    return _report(results, f"klines {args.interval} {since:%Y-%m-%d %H:%M} .. {until:%Y-%m-%d %H:%M} -> {lake.root}",
                   ("venue", "symbol", "new bars", "already held", "files", "requests"),
                   ("bars", "dropped", "files", "pages"))
