"""`schemahub dumps`: Binance bulk archives (data.binance.vision or `SCHEMAHUB_BINANCE_DUMPS_URL`) into bronze."""

from __future__ import annotations

import argparse
import sys

from schemahub.cli import SchemaHubError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dumps", help="Binance bulk dumps (trades, aggTrades, klines zips) into bronze, checksum-verified",
        description="Download Binance spot dump zips with their .CHECKSUM, refuse a sha256 mismatch, and write "
                    "the rows to raw_binance_trades / raw_binance_aggtrades / raw_binance_klines.")
    p.add_argument("--symbol", required=True, help="Binance spot symbol, e.g. BTCUSDT (repeat or comma-separate)",
                   action="append")
    p.add_argument("--kind", required=True, choices=("trades", "aggTrades", "klines"))
    p.add_argument("--interval", help="kline interval (klines only), e.g. 1m; monthly-only: 3d 1w 1mo")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--daily", metavar="DATE[..DATE]", help="daily files, e.g. 2024-12-30..2025-01-02")
    when.add_argument("--monthly", metavar="YYYY-MM[..YYYY-MM]", help="monthly files, e.g. 2024-11..2025-01")
    p.add_argument("--on-missing", choices=("skip", "fail"), default="skip",
                   help="a 404 (no file for that period): say so and continue (skip, default) or stop (fail)")
    p.add_argument("--batch-rows", type=int, default=500_000, help="rows per bronze file write (bounded memory)")
    p.add_argument("--base-url", help="dump site (default: config.binance_dumps_url())")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.bronze.writer import BronzeWriter
    from ingest.dumps import DumpFile, DumpMissing, ingest_dump, period_range
    from ingest.http import HttpClient
    from schemahub import config

    if args.kind != "klines" and args.interval:
        raise SchemaHubError(f"--interval applies to klines only, not {args.kind}")
    if args.batch_rows <= 0:
        raise SchemaHubError("--batch-rows must be positive")
    period = "daily" if args.daily else "monthly"
    dates = period_range(args.daily or args.monthly, period)
    symbols = [s.strip().upper() for arg in args.symbol for s in arg.split(",") if s.strip()]
    plan = [DumpFile(sym, args.kind, period, d, args.interval) for sym in symbols for d in dates]
    base = (args.base_url or config.binance_dumps_url()).rstrip("/")
    writer = BronzeWriter()
    total_rows, missing = 0, []
    with HttpClient() as client, tqdm(total=None, unit=" rows", desc="dumps", disable=None) as bar:
        for dump in plan:
            bar.set_postfix_str(dump.name)
            try:
                res = ingest_dump(client, writer, dump, base, batch_rows=args.batch_rows, progress=bar)
            except DumpMissing as exc:
                if args.on_missing == "fail":
                    raise
                missing.append(dump.name)
                print(f"missing: {exc} (skipped)", file=sys.stderr)
                continue
            total_rows += res.rows
            units = ", ".join(f"{v} {k}" for k, v in sorted(res.time_units.items()) if v)
            print(f"{dump.name}: {res.rows} rows -> {res.dump.table} ({len(res.files)} file(s); time units: "
                  f"{units or 'none'}; sha256 {res.checksum})")
    print(f"dumps: {len(plan) - len(missing)} file(s), {total_rows} rows written; {len(missing)} missing")
    return 0
