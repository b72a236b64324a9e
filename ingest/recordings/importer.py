"""`import-recording`: websocket recordings -> bronze (trades, bbo, depth updates, rebuilt book snapshots, gaps).

Files of one venue are merged by receive time (a Binance capture keeps its REST snapshots in a separate http
file), fed to that venue's rebuilder, and the rows written through the bronze writer in bounded batches.

Nothing half-written: the whole input is first rebuilt once without writing (a malformed line anywhere stops the
import before any file is written), then rebuilt again and written. Rebuilding is deterministic, so both passes
see the same rows, and the writer's deterministic file names make a re-import overwrite instead of duplicate.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.recordings.base import Rebuilder, Row
from ingest.recordings.batches import PendingRows
from ingest.recordings.binance import BinanceRebuilder
from ingest.recordings.coinbase import CoinbaseRebuilder
from ingest.recordings.kraken import KrakenRebuilder
from ingest.recordings.lines import RawLine, RecordingError, read_lines

REBUILDERS: dict[str, type[Rebuilder]] = {
    "binance": BinanceRebuilder, "coinbase": CoinbaseRebuilder, "kraken": KrakenRebuilder,
}
DETECT_LINES = 200


def _venue_of_line(line: RawLine) -> str | None:
    if line.url:
        for venue, host in (("binance", "binance"), ("coinbase", "coinbase"), ("kraken", "kraken")):
            if host in line.url:
                return venue
    try:
        msg = json.loads(line.text)
    except ValueError:
        return None
    if isinstance(msg, list):
        return "kraken" if len(msg) >= 4 and isinstance(msg[-1], str) and "/" in msg[-1] else None
    if not isinstance(msg, dict):
        return None
    if ("stream" in msg and "data" in msg) or msg.get("e") in ("depthUpdate", "trade", "aggTrade", "kline") \
            or "lastUpdateId" in msg:
        return "binance"
    if "product_id" in msg and "type" in msg:
        return "coinbase"
    if "channel" in msg or msg.get("event") in ("systemStatus", "subscriptionStatus", "heartbeat"):
        return "kraken"
    return None


def detect_venue(path: str | Path) -> str:
    """The venue of a recording, from its first payload lines (URLs or message shapes)."""
    votes: Counter[str] = Counter()
    for line in itertools.islice(read_lines(path), DETECT_LINES):
        venue = _venue_of_line(line)
        if venue:
            votes[venue] += 1
    if not votes:
        raise RecordingError(f"{path}: cannot tell the venue from the first {DETECT_LINES} lines; "
                             "pass --venue binance|coinbase|kraken")
    (best, n), *rest = votes.most_common()
    if rest and rest[0][1] == n:
        raise RecordingError(f"{path}: ambiguous venue ({dict(votes)}); pass --venue")
    return best


@dataclass
class ImportSummary:
    files: dict[str, list[str]] = field(default_factory=dict)  # venue -> files
    rows: Counter[str] = field(default_factory=Counter)  # table -> rows
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # venue -> rebuilder counters
    warnings: list[str] = field(default_factory=list)
    written_files: int = 0

    @property
    def gaps(self) -> int:
        return self.rows.get("raw_book_gaps", 0)


def _merged(files: list[str]) -> Iterator[RawLine]:
    return heapq.merge(*(read_lines(f) for f in files), key=lambda line: line.recv_ns)


@functools.lru_cache(maxsize=256)
def _uri(file: str) -> str:
    """A recording's absolute path, resolved once per file (not once per row: that was a third of the import)."""
    return str(Path(file).resolve())


def rebuild(files: list[str], rb: Rebuilder, on_line: Callable[[], None] | None = None) -> Iterator[Row]:
    """Every bronze row of the recordings of one venue, in receive order (reads files, writes nothing)."""
    last_file = files[0]
    for line in _merged(files):
        last_file = line.file
        rb.last_recv_ns = max(rb.last_recv_ns, line.recv_ns)  # the recording's end, for the last snapshots
        for row in rb.feed(line):
            if "_source_uri" not in row.record:
                row.record["_source_uri"] = _uri(line.file)
            yield row
        if on_line:
            on_line()
    for row in rb.finish():
        if "_source_uri" not in row.record:
            row.record["_source_uri"] = _uri(last_file)
        yield row


def expand(paths: Iterable[str]) -> list[str]:
    """Files as given; a directory stands for every non-hidden file below it (e.g. the sandbox's
    `<out>/<venue>/<symbol>/<date>.rec` tree)."""
    out: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            if not found:
                raise RecordingError(f"{p}: directory holds no recording files")
            out += found
        else:
            out.append(str(p))
    return out


def group_files(files: Iterable[str], venue: str) -> dict[str, list[str]]:
    if venue != "auto" and venue not in REBUILDERS:
        raise RecordingError(f"unknown venue {venue!r}; expected auto, {', '.join(REBUILDERS)}")
    groups: dict[str, list[str]] = defaultdict(list)
    for f in expand(files):
        groups[venue if venue != "auto" else detect_venue(f)].append(str(f))
    return dict(groups)


class _SchemaCheck:
    """Pass 1: shape rows into the bronze schema and date partitions in batches, as the writer will."""

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self.pending: dict[str, list[Row]] = defaultdict(list)
        self.n = 0

    def add(self, row: Row) -> None:
        self.pending[row.table].append(row)
        self.n += 1
        if self.n >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        from ingest.bronze.tables import table as bronze_table
        from ingest.bronze.writer import BronzeError, BronzeWriter, partition_dates

        for tname, rows in self.pending.items():
            try:
                arrow = BronzeWriter.to_arrow(tname, [r.record for r in rows], source="check")
                partition_dates(bronze_table(tname), arrow)
            except BronzeError as exc:
                where = rows[0].record.get("_source_uri")
                raise RecordingError(f"{where}: rows for {tname} do not fit the bronze contract: {exc}") from exc
        self.pending.clear()
        self.n = 0


def import_recordings(files: list[str], *, venue: str = "auto", snapshot_interval_ns: int = 1_000_000_000,
                      depth: int = 25, batch_rows: int = 50_000, writer: object | None = None,
                      progress: bool = True) -> ImportSummary:
    """Validate, then rebuild and write every recording; returns what was written."""
    from tqdm import tqdm

    from ingest.bronze.writer import BronzeWriter

    bw: BronzeWriter = writer or BronzeWriter()  # type: ignore[assignment]
    summary = ImportSummary(files=group_files(files, venue))
    # pass 1, every venue: read, rebuild and shape every row, write nothing (a malformed line raises here)
    for v, vfiles in summary.files.items():
        with tqdm(desc=f"{v}: checking", unit=" lines", disable=not progress) as bar:
            check = _SchemaCheck(batch_rows)
            for row in rebuild(vfiles, REBUILDERS[v](snapshot_interval_ns, depth), on_line=bar.update):
                check.add(row)
            check.flush()
    # pass 2: the same rows, written in bounded batches
    for v, vfiles in summary.files.items():
        rb = REBUILDERS[v](snapshot_interval_ns, depth)
        batches = PendingRows(bw, batch_rows)
        with tqdm(desc=f"{v}: importing", unit=" lines", disable=not progress) as bar:
            for row in rebuild(vfiles, rb, on_line=bar.update):
                batches.add(row.table, row.symbol, row.record)
            batches.flush(final=True)
        summary.rows.update(batches.rows_written)
        summary.written_files += batches.files_written
        summary.counts[v] = rb.counts
        summary.warnings += rb.warnings
        if rb.counts.get("v1_trades_without_id_skipped"):
            summary.warnings.append(
                f"kraken: {rb.counts['v1_trades_without_id_skipped']} WS v1 trade(s) carry no trade id "
                "(raw_kraken_trades is keyed by it): not imported")
        if rb.counts.get("unsequenced_depth_skipped"):
            summary.warnings.append(
                f"coinbase: {rb.counts['unsequenced_depth_skipped']} level2 message(s) carry no sequence, so "
                "gaps cannot be detected: no depth updates or books imported from them")
    return summary
