"""`schemahub compact`: merge small bronze files per partition into large ones (atomic, idempotent)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compact", help="merge a bronze partition's small files into large ones (atomic, idempotent)",
        description="Merge the small Parquet files of bronze partitions (table/symbol/date) into large ones. "
                    "The merged file is complete before any source is removed; re-running is a no-op.")
    p.add_argument("--table", help="bronze table, e.g. raw_binance_trades (default: every table)")
    p.add_argument("--symbol", help="venue symbol, e.g. BTCUSDT (default: every symbol)")
    p.add_argument("--date", help="UTC date YYYY-MM-DD (default: every date)")
    p.add_argument("--target-rows", type=int, default=2_000_000,
                   help="files below this many rows are merged until a group reaches it (default 2,000,000)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from tqdm import tqdm

    from ingest.bronze.tables import table
    from ingest.compact import CompactError, compact, partitions
    from schemahub.storage import Lake

    if args.table:
        try:
            table(args.table)
        except KeyError as exc:
            raise CompactError(str(exc.args[0])) from None
    if args.date:
        try:
            dt.date.fromisoformat(args.date)
        except ValueError:
            raise CompactError(f"bad --date {args.date!r}: expected YYYY-MM-DD") from None
    lake = Lake.from_env()
    n = len(partitions(lake, args.table, args.symbol, args.date))
    with tqdm(total=n, unit=" partitions", desc="compact", disable=None) as bar:
        results = compact(lake, args.table, args.symbol, args.date, target_rows=args.target_rows,
                          dry_run=args.dry_run, progress=bar)
    changed = [r for r in results if r.merged or r.recovered]
    for r in changed:
        verb = "would merge" if args.dry_run else "merged"
        note = " (finished an interrupted compaction first)" if r.recovered else ""
        print(f"{r.table} symbol={r.symbol} date={r.date}: {verb} {r.files_before} -> {r.files_after} files, "
              f"{r.rows} rows{note}")
    print(f"compact: {len(results)} partition(s) checked, {sum(1 for r in results if r.merged)} "
          f"{'to compact' if args.dry_run else 'compacted'}, lake {lake.root}")
    return 0
