"""Writes bronze Parquet: hive partitions symbol=/date=, deterministic names, visible only when complete.

A file's name says what it holds: `<source>__<first cursor>__<last cursor>.parquet` inside
`bronze/<table>/symbol=<SYM>/date=<YYYY-MM-DD>/`. Writing the same page twice therefore overwrites instead of
duplicating, and the covered cursor ranges of a table can be recovered from a listing alone
(`covered_ranges`), which is how a resumed backfill knows what a crash already wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.bronze.tables import BronzeTable, table
from schemahub.storage import Lake

UNIQUE_CURSOR_DATASETS = {"trades", "aggtrades", "klines"}
_NAME = re.compile(r"^(?P<source>.+)__(?P<first>-?\d+)__(?P<last>-?\d+)\.parquet$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BronzeFile:
    table: str
    symbol: str
    date: str
    path: str
    rows: int
    first_cursor: int
    last_cursor: int


class BronzeError(ValueError):
    """Bad rows handed to the bronze writer (names the table, symbol and column)."""


def _cursor_ints(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(arr.type):
        return pc.cast(pc.cast(arr, pa.timestamp("us", tz="UTC")), pa.int64())
    return arr


def partition_days(bt: BronzeTable, tbl: pa.Table) -> pa.ChunkedArray:
    """UTC date (date32) of every row, from the table's time column in its native form."""
    col = tbl.column(bt.time_column)
    unit = bt.time_unit
    if pa.types.is_timestamp(col.type):
        ts = col
    elif unit in ("ms", "ms_or_us"):
        # Binance dumps switched from ms to µs on 2025-01-01: decide per value (ms < 1e14 <= µs).
        ints = pc.cast(col, pa.int64())
        us = pc.if_else(pc.less(ints, 10**14), pc.multiply(ints, 1000), ints)
        ts = pc.cast(us, pa.timestamp("us", tz="UTC"))
    elif unit == "epoch_s":
        ts = pc.cast(pc.multiply(pc.cast(col, pa.int64()), 1_000_000), pa.timestamp("us", tz="UTC"))
    elif unit == "seconds_text":
        secs = pc.cast(col, pa.float64())
        ts = pc.cast(pc.cast(pc.floor(pc.multiply(secs, 1e6)), pa.int64()), pa.timestamp("us", tz="UTC"))
    elif unit == "iso8601":
        ts = pc.cast(col, pa.timestamp("us", tz="UTC"))
    else:
        raise BronzeError(f"{bt.name}: time column {bt.time_column!r} has unusable unit {unit!r}")
    if ts.null_count:
        raise BronzeError(f"{bt.name}: {ts.null_count} row(s) without {bt.time_column!r}; cannot partition by date")
    # the UTC day (floored, also before 1970): one integer per row instead of one formatted string per row
    return pc.cast(pc.cast(ts, pa.timestamp("us", tz="UTC")), pa.date32())


def partition_dates(bt: BronzeTable, tbl: pa.Table) -> pa.ChunkedArray:
    """UTC date (YYYY-MM-DD) of every row, from the table's time column in its native form."""
    return pc.strftime(partition_days(bt, tbl), format="%Y-%m-%d")


def _strict_order(arr: pa.ChunkedArray) -> int:
    """1 when every value is greater than the one before (sorted, no repeats), -1 when every value is smaller
    (e.g. Coinbase pages, newest first), else 0 (also with nulls)."""
    if arr.null_count:
        return 0
    if len(arr) < 2:
        return 1
    flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    later, earlier = flat.slice(1), flat.slice(0, len(flat) - 1)
    if pc.all(pc.greater(later, earlier)).as_py():
        return 1
    return -1 if pc.all(pc.less(later, earlier)).as_py() else 0


class BronzeWriter:
    """Append-only writer of raw tables under `<lake>/bronze/`."""

    def __init__(self, lake: Lake | None = None) -> None:
        self.lake = lake or Lake.from_env()

    # -- building ------------------------------------------------------------------------------
    @staticmethod
    def to_arrow(table_name: str, records: Iterable[Mapping[str, Any]], *, source: str,
                 ingest_ts: dt.datetime | None = None, **lineage: Any) -> pa.Table:
        """Records (native fields + optional lineage keys) -> an Arrow table with the bronze schema.

        `source`, `ingest_ts` and any `lineage` keys (`_recv_ts`, `_source_uri`, `_source_checksum`) fill the
        lineage columns for records that do not carry their own.
        """
        bt = table(table_name)
        now = ingest_ts or dt.datetime.now(dt.UTC)
        defaults = {"_source": source, "_source_ingest_ts": now, **{f"_{k.lstrip('_')}": v for k, v in lineage.items()}}
        rows = records if isinstance(records, list) else list(records)
        # column by column (what Table.from_pylist does, minus one merged dict per row): a record's own key wins
        # over the default, a key in neither is null
        arrays = []
        for f in bt.schema:
            name = f.name
            if name in defaults:
                default = defaults[name]
                values = [r.get(name, default) for r in rows]
            else:
                values = [r.get(name) for r in rows]
            if name == "_raw_payload" and None in values:
                r = {**defaults, **rows[values.index(None)]}
                raise BronzeError(f"{table_name}: record without _raw_payload: {dict(list(r.items())[:4])}")
            try:
                arrays.append(pa.array(values, type=f.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
                raise BronzeError(f"{table_name}: records do not fit the bronze schema: column {name!r}: "
                                  f"{exc}") from exc
        return pa.Table.from_arrays(arrays, schema=bt.schema)

    # -- writing -------------------------------------------------------------------------------
    def write(self, table_name: str, symbol: str, data: pa.Table) -> list[BronzeFile]:
        """Write rows of one table and symbol; one file per UTC date. Returns the files written."""
        bt = table(table_name)
        if data.num_rows == 0:
            return []
        if data.schema.names != bt.schema.names:
            raise BronzeError(f"{table_name} [{symbol}]: columns {data.schema.names} != contract {bt.schema.names}")
        data = data.cast(bt.schema)
        unique = bt.dataset in UNIQUE_CURSOR_DATASETS
        # a batch in strictly increasing (or, reversed, decreasing) cursor order has no repeated cursor to drop
        # and needs no sort: the common case of pages and dump files, spared a group-by and a sort per date
        order = _strict_order(data.column(bt.cursor_column)) if unique else 0
        if order == -1:
            data = data.take(np.arange(data.num_rows - 1, -1, -1))
        ordered = order != 0
        if unique and not ordered:
            data = self._dedupe(bt, data)
        days = partition_days(bt, data)
        sources = data.column("_source").unique().to_pylist()
        source_tag = _SAFE.sub("-", sources[0] if len(sources) == 1 else "mixed")
        out = []
        all_days = sorted(pc.unique(days).to_pylist())
        for day in all_days:
            date = day.isoformat()
            part = data if len(all_days) == 1 else data.filter(pc.equal(days, pa.scalar(day, pa.date32())))
            part = part.sort_by([(bt.cursor_column, "ascending")]) if unique and not ordered else part
            cur = _cursor_ints(part.column(bt.cursor_column))
            first, last = pc.min(cur).as_py(), pc.max(cur).as_py()
            if first is None:
                raise BronzeError(f"{table_name} [{symbol}] {date}: cursor column {bt.cursor_column!r} is all null")
            name = f"{source_tag}__{first}__{last}.parquet"
            path = self.lake.write_parquet(part, "bronze", table_name, f"symbol={symbol}", f"date={date}", name)
            out.append(BronzeFile(table_name, symbol, date, path, part.num_rows, first, last))
        return out

    @staticmethod
    def _dedupe(bt: BronzeTable, data: pa.Table) -> pa.Table:
        """Drop repeated cursor values inside one batch (overlapping or repeated pages), keeping the first."""
        cur = data.column(bt.cursor_column)
        if pc.count_distinct(cur).as_py() == data.num_rows:
            return data
        first_rows = (
            data.select([bt.cursor_column])
            .append_column("__i", pa.array(range(data.num_rows), pa.int64()))
            .group_by(bt.cursor_column)
            .aggregate([("__i", "min")])
            .column("__i_min")
        )
        return data.take(pc.take(first_rows, pc.sort_indices(first_rows)))

    # -- reading back what is there ------------------------------------------------------------
    def files(self, table_name: str, symbol: str | None = None) -> list[str]:
        parts = ["bronze", table_name] + ([f"symbol={symbol}"] if symbol else [])
        return self.lake.list_files(*parts, suffix=".parquet")

    def covered_ranges(self, table_name: str, symbol: str) -> list[tuple[int, int]]:
        """(first, last) cursor of every file of a table and symbol, sorted: what bronze already holds."""
        ranges = []
        for path in self.files(table_name, symbol):
            m = _NAME.match(path.rsplit("/", 1)[-1])
            if m:
                ranges.append((int(m["first"]), int(m["last"])))
        return sorted(ranges)
