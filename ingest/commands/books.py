"""`schemahub books` (REST depth polling) and `schemahub import-recording` (websocket recordings -> bronze)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "books", help="poll REST order-book depth every --interval for --duration into raw_<venue>_depth",
        description="Poll REST depth (top levels) of each venue and symbol on a fixed clock through the shared "
                    "HTTP client; rows carry the receive time and the venue's own time where it sends one.")
    p.add_argument("--venue", default="binance,coinbase,kraken", help="comma-separated venues")
    p.add_argument("--symbols", help="venue:SYMBOL list (e.g. binance:BTCUSDT,coinbase:BTC-USD,kraken:XBTUSD), "
                                     "or plain symbols with one venue; default: each venue's default symbols")
    p.add_argument("--interval", default="1s", help="poll interval (500ms, 1s, 5s, ...)")
    p.add_argument("--duration", default="60s", help="how long to poll (60s, 5m, 1h)")
    p.add_argument("--levels", type=int, default=25,
                   help="depth levels to ask for (Binance limit, Kraken count; Coinbase level 2 is the whole book)")
    p.add_argument("--batch-rows", type=int, default=2_000, help="rows buffered before a bronze write")
    p.set_defaults(func=run_books)

    r = sub.add_parser(
        "import-recording", help="websocket recordings -> bronze trades, bbo, depth updates, book snapshots, gaps",
        description="Read recordings ('<recv_ns> <json>' lines, or cryptofeed '<ts>: <json>' captures with their "
                    "http lines), rebuild each book by the venue's rules (Binance U/u, Coinbase sequence, Kraken "
                    "CRC32) and write trades, best bid/ask, depth updates, book snapshots every "
                    "--snapshot-interval and an explicit raw_book_gaps row for every gap.")
    r.add_argument("files", nargs="+", metavar="FILE", help="recording files or folders of them (.gz/.zst are read "
                                                            "too); files of one venue are merged by receive time")
    r.add_argument("--venue", default="auto", choices=("auto", "binance", "coinbase", "kraken"))
    r.add_argument("--snapshot-interval", default="1s", help="book snapshot period of the rebuilt book")
    r.add_argument("--depth", type=int, default=25, help="levels per side in the book snapshots")
    r.add_argument("--batch-rows", type=int, default=50_000, help="rows buffered before a bronze write")
    r.set_defaults(func=run_import)


def run_books(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.books import BooksError, parse_duration, parse_targets, poll_books
    from ingest.bronze.writer import BronzeWriter
    from ingest.http import HttpClient

    interval = parse_duration(args.interval, "--interval")
    duration = parse_duration(args.duration, "--duration")
    if args.levels <= 0 or args.batch_rows <= 0:
        raise BooksError("--levels and --batch-rows must be positive")
    targets = parse_targets(args.venue, args.symbols)
    expected = int(duration / interval) * len(targets)
    with HttpClient() as client, tqdm(total=expected, unit=" polls", desc="books", disable=None) as bar:
        summary = poll_books(client, targets, interval_s=interval, duration_s=duration, writer=BronzeWriter(),
                             levels=args.levels, batch_rows=args.batch_rows, progress=bar)
    for key in sorted(summary.polls):
        print(f"{key}: {summary.polls[key]} polls")
    for venue, n in sorted(summary.late_ticks.items()):
        if n:
            print(f"{venue}: {n} tick(s) skipped (the venue's rate limit or retries made it fall behind)",
                  file=sys.stderr)
    rows = ", ".join(f"{t} {n}" for t, n in sorted(summary.rows.items()))
    print(f"books: {sum(summary.polls.values())} polls, {summary.files} file(s) written ({rows or 'no rows'})")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ingest.books import parse_duration
    from ingest.recordings.importer import import_recordings

    interval_ns = int(parse_duration(args.snapshot_interval, "--snapshot-interval") * 1_000_000_000)
    if args.depth <= 0 or args.batch_rows <= 0:
        from ingest.recordings.lines import RecordingError

        raise RecordingError("--depth and --batch-rows must be positive")
    summary = import_recordings(args.files, venue=args.venue, snapshot_interval_ns=interval_ns, depth=args.depth,
                                batch_rows=args.batch_rows, progress=sys.stderr.isatty())
    for venue, files in summary.files.items():
        counts = summary.counts.get(venue, {})
        interesting = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if not k.startswith("raw_"))
        print(f"{venue}: {len(files)} file(s); {interesting}")
    for table, n in sorted(summary.rows.items()):
        print(f"  {table}: {n} rows")
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"import-recording: {sum(summary.rows.values())} rows in {summary.written_files} file(s); "
          f"{summary.gaps} gap record(s)")
    return 0
