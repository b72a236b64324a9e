"""Sub-commands of `schemahub` contributed by the publish package: `publish` and `snapshots`."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from schemahub.cli import SchemaHubError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's sub-commands to the `schemahub` parser."""
    p = sub.add_parser(
        "publish",
        help="publish raw and unified trades (and gold) as Iceberg v2 tables",
        description="Append new days of the lake to Iceberg tables through the configured catalog (SQLite "
                    "SqlCatalog beside the lake by default; see publish/README.md). One snapshot per table "
                    "and run; days already published with the same files are skipped.",
    )
    p.add_argument("--tables", default=None,
                   help="comma-separated tables (default: raw_binance_trades,raw_coinbase_trades,"
                        "raw_kraken_trades,trades_unified); any bronze table or gold model also works")
    p.add_argument("--gold", action="store_true", help="also publish every gold model (partition_date folders)")
    p.add_argument("--dates", default=None,
                   help="only these days: YYYY-MM-DD, FROM:TO (inclusive) or a comma list of both")
    p.add_argument("--dry-run", action="store_true", help="list the days that would be published, write nothing")
    p.add_argument("--verify", action="store_true",
                   help="afterwards, check that DuckDB's iceberg_scan and pyiceberg both read exactly the lake's rows "
                        "(exit 1 if not)")
    p.set_defaults(func=cmd_publish)

    s = sub.add_parser("snapshots", help="list the snapshots of a published Iceberg table (time travel)")
    s.add_argument("table", help="e.g. trades_unified or raw_binance_trades")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_snapshots)


def parse_dates(text: str) -> set[dt.date]:
    """`2024-01-01`, `2024-01-01:2024-01-03` (inclusive), or a comma list of these."""
    out: set[dt.date] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            if ":" in part:
                a, b = (dt.date.fromisoformat(x.strip()) for x in part.split(":", 1))
                if b < a:
                    raise SchemaHubError(f"--dates {part!r}: end before start")
                out |= {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}
            else:
                out.add(dt.date.fromisoformat(part))
        except ValueError as exc:
            raise SchemaHubError(f"--dates {part!r}: expected YYYY-MM-DD or FROM:TO ({exc})") from exc
    return out


def cmd_publish(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from publish.catalog import CatalogSettings
    from publish.publisher import publish
    from publish.sources import DEFAULT_TABLES

    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else list(DEFAULT_TABLES)
    settings = CatalogSettings.from_env()
    dates = parse_dates(args.dates) if args.dates else None
    results = publish(tables, gold=args.gold, dates=dates, dry_run=args.dry_run, settings=settings)
    console = Console()
    console.print(f"Iceberg: {settings.describe()}", soft_wrap=True)
    out = Table()
    for col in ("table", "days", "rows", "snapshot", "attempts", "result"):
        out.add_column(col)
    for r in results:
        days = f"{r.days[0]}..{r.days[-1]} ({len(r.days)})" if len(r.days) > 1 else ",".join(r.days)
        out.add_row(r.table, days, str(r.rows), str(r.snapshot_id or ""), str(r.attempts or ""), r.note)
    console.print(out)
    if not args.verify or args.dry_run:
        return 0
    from publish.sources import source_for
    from publish.verify import verify_source
    from schemahub.storage import Lake

    lake = Lake.from_env()
    checks = [verify_source(source_for(r.table, lake), lake=lake, settings=settings, dates=dates) for r in results
              if r.metadata_location]
    check_table = Table(title="Iceberg vs lake Parquet (row count and row checksum)")
    for col in ("table", "lake rows", "iceberg_scan rows", "pyiceberg rows", "same rows"):
        check_table.add_column(col)
    for c in checks:
        check_table.add_row(c.table, str(c.lake_rows), str(c.duckdb_rows), str(c.pyiceberg_rows),
                            "yes" if c.ok else "NO")
    console.print(check_table)
    bad = [c.table for c in checks if not c.ok]
    if bad:
        raise SchemaHubError(f"Iceberg tables differ from the lake: {', '.join(bad)}")
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from publish.snapshots import iceberg_scan_sql, list_snapshots

    location, snaps = list_snapshots(args.table)
    if args.json:
        rows = [{**s.__dict__, "committed_at": s.committed_at.isoformat()} for s in snaps]
        print(json.dumps({"table": args.table, "metadata_location": location, "snapshots": rows}, indent=2))
        return 0
    out = Table(title=f"{args.table}: {len(snaps)} snapshot(s)")
    for col in ("snapshot_id", "committed_at (UTC)", "operation", "+rows", "-rows", "total", "schema", "days",
                "exchanges"):
        out.add_column(col)
    for s in snaps:
        out.add_row(str(s.snapshot_id), s.committed_at.strftime("%Y-%m-%d %H:%M:%S"), s.operation,
                    str(s.added_records), str(s.deleted_records), str(s.total_records), str(s.schema_id),
                    s.days if len(s.days) < 40 else s.days[:37] + "...", s.exchanges)
    console = Console()
    console.print(out)
    console.print(f"metadata: {location}")
    if snaps:
        console.print(f"DuckDB, latest:    select count(*) from {iceberg_scan_sql(location)};", soft_wrap=True)
        console.print(f"DuckDB, as of {snaps[0].snapshot_id}: select count(*) from "
                      f"{iceberg_scan_sql(location, snaps[0].snapshot_id)};", soft_wrap=True)
    return 0
