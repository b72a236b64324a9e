"""`schemahub compact`: merge a bronze partition's small files into large ones, atomically and idempotently.

A partition is `bronze/<table>/symbol=<S>/date=<D>/`. Files with fewer than `target_rows` rows are candidates;
in cursor order they are grouped until a group holds at least `target_rows` rows (for trade tables only runs of
files whose id ranges touch, so a merged name never claims a hole), and each group of two or more files becomes
one file named like the writer names files, `<tag>__<first cursor>__<last cursor>.parquet`,
with tag `compacted-<rows>` (the row count makes the name say what the file holds and keeps it distinct from
any of its sources). Rows are copied unchanged (no dedupe, no recast beyond the bronze schema); they are only
ordered by the table's cursor.

Crash safety, per partition:
1. a manifest (`.compaction.json`, hidden from listings) records every group: its sources and the merged name
   and row count;
2. each merged file is written atomically (temporary name + rename locally, a single PUT on S3) and its row
   count read back;
3. only then are its sources deleted; the manifest goes last.
A crash before 2 leaves the sources untouched; a crash between 2 and 3 leaves merged file and (some) sources,
duplicated but never lost. The next run first finishes any manifest it finds (merged file present with the
recorded row count -> delete the remaining sources; otherwise leave the sources and plan again), so a re-run
converges. A re-run on a compacted partition finds nothing to merge and changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.bronze.tables import TABLES, table
from ingest.bronze.writer import _NAME, _SAFE
from schemahub.cli import SchemaHubError
from schemahub.storage import Lake

MANIFEST = ".compaction.json"
ID_RANGE_DATASETS = {"trades", "aggtrades"}  # file names claim every id between first and last
DEFAULT_TARGET_ROWS = 2_000_000


class CompactError(SchemaHubError):
    """A partition that cannot be compacted (names the table, symbol, date and file)."""


@dataclass(frozen=True)
class SourceFile:
    path: str  # lake-relative
    rows: int
    first: int
    last: int


@dataclass
class PartitionResult:
    table: str
    symbol: str
    date: str
    files_before: int
    files_after: int
    rows: int
    merged: list[str] = field(default_factory=list)
    recovered: bool = False


def partitions(lake: Lake, table_name: str | None = None, symbol: str | None = None,
               date: str | None = None) -> list[tuple[str, str, str]]:
    """(table, symbol, date) of every bronze partition matching the filters."""
    names = [table(table_name).name] if table_name else sorted(TABLES)
    out = set()
    for name in names:
        parts = ["bronze", name] + ([f"symbol={symbol}"] if symbol else [])
        for path in lake.list_files(*parts, suffix=".parquet"):
            m = re.match(r"^bronze/([^/]+)/symbol=([^/]+)/date=([^/]+)/[^/]+$", path)
            if m and (date is None or m[3] == date):
                out.add((m[1], m[2], m[3]))
    return sorted(out)


def _cursor_range(tbl: pa.Table, cursor: str) -> tuple[int, int]:
    col = tbl.column(cursor)
    if pa.types.is_timestamp(col.type):
        col = pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())
    return pc.min(col).as_py(), pc.max(col).as_py()


def _describe(lake: Lake, path: str) -> SourceFile:
    m = _NAME.match(path.rsplit("/", 1)[-1])
    with lake.fs.open_input_file(lake.fs_path(path)) as fh:
        rows = pq.read_metadata(fh).num_rows
    if m:
        return SourceFile(path, rows, int(m["first"]), int(m["last"]))
    return SourceFile(path, rows, 0, 0)  # a file not named by the writer: ordered first, kept as is


def _read(lake: Lake, path: str, schema: pa.Schema) -> pa.Table:
    with lake.fs.open_input_file(lake.fs_path(path)) as fh:
        tbl = pq.read_table(fh)
    if tbl.schema.names != schema.names:
        raise CompactError(f"{path}: columns {tbl.schema.names} differ from the bronze contract {schema.names}; "
                           "not merged")
    return tbl.cast(schema)


def _rows(lake: Lake, path: str) -> int | None:
    if not lake.exists(path):
        return None
    with lake.fs.open_input_file(lake.fs_path(path)) as fh:
        return pq.read_metadata(fh).num_rows


def _recover(lake: Lake, base: list[str]) -> bool:
    """Finish an interrupted compaction of a partition from its manifest; True if there was one."""
    mpath = "/".join([*base, MANIFEST])
    if not lake.exists(mpath):
        return False
    try:
        manifest = json.loads(lake.read_bytes(mpath))
        groups = manifest["groups"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CompactError(f"{lake.uri(mpath)}: unreadable compaction manifest ({exc}); inspect it, then delete "
                           "it to re-plan (no data file was removed without a complete merged copy)") from exc
    for g in groups:
        if _rows(lake, g["merged"]) == g["rows"]:
            for src in g["sources"]:
                if src != g["merged"]:
                    lake.delete(src)
    lake.delete(mpath)
    return True


def plan_groups(files: list[SourceFile], target_rows: int, *, contiguous: bool = False) -> list[list[SourceFile]]:
    """Groups (cursor order) of small files to merge; each reaches target_rows except maybe the last.

    `contiguous`: only merge files whose id ranges touch or overlap. For trade tables a file name's
    [first, last] is read as "every id in between is in bronze" (`BronzeWriter.covered_ranges`, which a resumed
    backfill trusts), so a merged name must never span a hole between two source files."""
    groups: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    rows = 0
    top = None
    for f in sorted((f for f in files if f.rows < target_rows), key=lambda f: (f.first, f.last, f.path)):
        if contiguous and current and top is not None and f.first > top + 1:
            groups.append(current)
            current, rows = [], 0
        current.append(f)
        rows += f.rows
        top = f.last if len(current) == 1 or top is None else max(top, f.last)
        if rows >= target_rows:
            groups.append(current)
            current, rows = [], 0
    if current:
        groups.append(current)
    return [g for g in groups if len(g) > 1]


def compact_partition(lake: Lake, table_name: str, symbol: str, date: str, *,
                      target_rows: int = DEFAULT_TARGET_ROWS, dry_run: bool = False,
                      after_write: Callable[[str], None] | None = None) -> PartitionResult:
    """Compact one partition (see the module docstring). `after_write` is a test hook run after each merged
    file is durable and before its sources are deleted."""
    bt = table(table_name)
    base = ["bronze", table_name, f"symbol={symbol}", f"date={date}"]
    recovered = False if dry_run else _recover(lake, base)
    paths = lake.list_files(*base, suffix=".parquet")
    files = [_describe(lake, p) for p in paths]
    result = PartitionResult(table_name, symbol, date, len(files), len(files), sum(f.rows for f in files),
                             recovered=recovered)
    groups = plan_groups(files, target_rows, contiguous=bt.dataset in ID_RANGE_DATASETS)
    if not groups:
        return result
    planned = []
    for g in groups:
        tables = [_read(lake, f.path, bt.schema) for f in g] if not dry_run else []
        rows = sum(f.rows for f in g)
        if tables:
            merged = pa.concat_tables(tables)
            if merged.num_rows != rows:
                raise CompactError(f"{'/'.join(base)}: read {merged.num_rows} rows but metadata says {rows}")
            merged = merged.take(pc.sort_indices(merged, sort_keys=[(bt.cursor_column, "ascending")]))
            first, last = _cursor_range(merged, bt.cursor_column)
        else:
            merged, first, last = None, min(f.first for f in g), max(f.last for f in g)
        name = _SAFE.sub("-", f"compacted-{rows}") + f"__{first}__{last}.parquet"
        planned.append((g, merged, "/".join([*base, name]), rows))
    result.merged = [p for _, _, p, _ in planned]
    result.files_after = len(files) - sum(len(g) for g, *_ in planned) + len(planned)
    if dry_run:
        return result
    manifest = {"table": table_name, "symbol": symbol, "date": date,
                "groups": [{"merged": p, "rows": n, "sources": [f.path for f in g]} for g, _, p, n in planned]}
    lake.write_bytes(json.dumps(manifest, indent=1).encode(), *base, MANIFEST)
    for g, merged, path, rows in planned:
        if _rows(lake, path) != rows:  # an earlier interrupted run may already have written it
            lake.write_parquet(merged, path)
        if _rows(lake, path) != rows:
            raise CompactError(f"{lake.uri(path)}: merged file does not read back {rows} rows; sources kept")
        if after_write:
            after_write(path)
        for f in g:
            if f.path != path:
                lake.delete(f.path)
    lake.delete(*base, MANIFEST)
    return result


def compact(lake: Lake | None = None, table_name: str | None = None, symbol: str | None = None,
            date: str | None = None, *, target_rows: int = DEFAULT_TARGET_ROWS, dry_run: bool = False,
            progress: Any = None) -> list[PartitionResult]:
    if target_rows <= 0:
        raise CompactError("target rows must be positive")
    lake = lake or Lake.from_env()
    results = []
    for t, s, d in partitions(lake, table_name, symbol, date):
        results.append(compact_partition(lake, t, s, d, target_rows=target_rows, dry_run=dry_run))
        if progress is not None:
            progress.update(1)
    return results
