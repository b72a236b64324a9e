"""What can be published: lake folders of date-partitioned Parquet, cut into one slice per day.

    raw_<venue>_trades (any bronze table)  bronze/<table>/symbol=<SYM>/date=<D>/*.parquet        -> day(trade_ts)
    trades_unified                         silver/trades_unified/trade_date=<D>/*.parquet       -> day(trade_ts)
    <gold model>                           gold/<model>/partition_date=<D>/*.parquet            -> partition_date

A slice is every file of one day; its fingerprint (sha256 of the files' paths, sizes and modification times)
tells the publisher whether the day changed since it was last published. A day is always published whole,
from exactly the files that were fingerprinted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingest.bronze.tables import TABLES as BRONZE_TABLES
from ingest.bronze.tables import BronzeTable
from publish.convert import (
    UTC_US,
    ConvertError,
    check_one_day,
    constant,
    event_times,
    hive_date,
    with_column,
)
from schemahub.storage import Lake

RAW_TRADES = ("raw_binance_trades", "raw_coinbase_trades", "raw_kraken_trades")
UNIFIED = "trades_unified"
DEFAULT_TABLES = (*RAW_TRADES, UNIFIED)


@dataclass(frozen=True)
class SourceFile:
    path: str  # lake-relative
    size: int
    mtime_ns: int
    hive: tuple[tuple[str, str], ...]

    def hive_value(self, key: str) -> str | None:
        return dict(self.hive).get(key)


@dataclass(frozen=True)
class Slice:
    day: dt.date
    files: tuple[SourceFile, ...]

    @cached_property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path):
            h.update(f"{f.path}\t{f.size}\t{f.mtime_ns}\n".encode())
        return h.hexdigest()[:20]


class Source:
    """One publishable lake folder. Subclasses say how a file's rows become table rows."""

    name: str  # the Iceberg table name
    folder: tuple[str, ...]
    day_key: str  # the hive key that carries the slice's day
    partition_column: str
    partition_transform: str  # "day" (of a timestamp) or "identity" (of a date)
    # The column that names each row's lake file, when the source is append-only (bronze): a day whose
    # published files are all still there gets only its new files appended instead of being replaced.
    file_column: str | None = None

    # -- listing ---------------------------------------------------------------------------------
    def list_slices(self, lake: Lake, dates: Collection[dt.date] | None = None) -> list[Slice]:
        base = lake.fs_path(*self.folder)
        infos = lake.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        by_day: dict[dt.date, list[SourceFile]] = defaultdict(list)
        for info in infos:
            if info.type != pafs.FileType.File or not info.path.endswith(".parquet"):
                continue
            rel_inside = info.path[len(base) + 1 :]
            parts = rel_inside.split("/")
            if any(p.startswith((".", "_")) for p in parts):
                continue  # in-flight temporaries, _SUCCESS-like markers
            hive = tuple(tuple(p.split("=", 1)) for p in parts[:-1] if "=" in p)
            rel = "/".join([*self.folder, rel_inside])
            value = dict(hive).get(self.day_key)
            if value is None:
                raise ConvertError(f"{lake.uri(rel)}: no {self.day_key}=YYYY-MM-DD folder above it; cannot publish "
                                   f"{self.name} by day")
            day = hive_date(value, what=lake.uri(rel))
            if dates is not None and day not in dates:
                continue
            mtime_ns = info.mtime_ns if info.mtime_ns is not None else 0
            by_day[day].append(SourceFile(rel, info.size or 0, mtime_ns, hive))  # type: ignore[arg-type]
        return [Slice(day, tuple(sorted(files, key=lambda f: f.path))) for day, files in sorted(by_day.items())]

    # -- reading ---------------------------------------------------------------------------------
    def file_schema(self, lake: Lake, f: SourceFile) -> pa.Schema:
        """The table schema this file's rows will have (from the Parquet footer only)."""
        with lake.fs.open_input_file(lake.fs_path(f.path)) as fh:
            schema = pq.read_schema(fh)
        return self.convert_schema(schema)

    def read(self, lake: Lake, slc: Slice) -> pa.Table:
        """Every row of a slice, converted to table rows."""
        tables = []
        for f in slc.files:
            with lake.fs.open_input_file(lake.fs_path(f.path)) as fh:
                raw = pq.ParquetFile(fh).read()
            tables.append(self.convert(raw, f, slc.day, what=lake.uri(f.path)))
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ConvertError(f"{self.name} {slc.day}: files disagree on column types: {exc}") from exc

    def convert(self, tbl: pa.Table, f: SourceFile, day: dt.date, *, what: str) -> pa.Table:
        raise NotImplementedError

    def convert_schema(self, schema: pa.Schema) -> pa.Schema:
        raise NotImplementedError


class RawSource(Source):
    """A bronze raw table: native columns untouched, plus `symbol` and the event time as a timestamp."""

    day_key = "date"
    partition_transform = "day"
    file_column = "_bronze_file"

    def __init__(self, bt: BronzeTable) -> None:
        self.bt = bt
        self.name = bt.name
        self.folder = ("bronze", bt.name)
        self.partition_column = "trade_ts" if bt.dataset == "trades" else "event_ts"

    def convert_schema(self, schema: pa.Schema) -> pa.Schema:
        added = ("symbol", self.partition_column, "_bronze_file")
        fields = [f for f in schema if f.name not in added]
        return pa.schema([*fields, pa.field("symbol", pa.string()), pa.field(self.partition_column, UTC_US),
                          pa.field("_bronze_file", pa.string())])

    def convert(self, tbl: pa.Table, f: SourceFile, day: dt.date, *, what: str) -> pa.Table:
        if self.bt.time_column not in tbl.column_names:
            raise ConvertError(f"{what}: time column {self.bt.time_column!r} missing")
        symbol = f.hive_value("symbol")
        if symbol is None:
            raise ConvertError(f"{what}: no symbol=<SYM> folder above it")
        ts = event_times(tbl.column(self.bt.time_column), self.bt.time_unit,
                         what=f"{what} column {self.bt.time_column!r}")
        check_one_day(ts, day, what=what)
        tbl = tbl.drop_columns([c for c in ("symbol", self.partition_column, "_bronze_file") if c in tbl.column_names])
        tbl = tbl.append_column("symbol", constant(symbol, pa.string(), tbl.num_rows))
        tbl = tbl.append_column(self.partition_column, ts)
        return tbl.append_column("_bronze_file", constant(f.path, pa.string(), tbl.num_rows))


class UnifiedSource(Source):
    """trades_unified as dbt writes it (external Parquet by trade_date)."""

    name = UNIFIED
    folder = ("silver", UNIFIED)
    day_key = "trade_date"
    partition_column = "trade_ts"
    partition_transform = "day"

    def convert_schema(self, schema: pa.Schema) -> pa.Schema:
        if "trade_ts" not in schema.names:
            raise ConvertError(f"{self.name}: files have no trade_ts column (columns: {schema.names})")
        fields = [pa.field("trade_ts", UTC_US) if f.name == "trade_ts" else f for f in schema if f.name != "trade_date"]
        return pa.schema([*fields, pa.field("trade_date", pa.date32())])

    def convert(self, tbl: pa.Table, f: SourceFile, day: dt.date, *, what: str) -> pa.Table:
        if "trade_ts" not in tbl.column_names:
            raise ConvertError(f"{what}: no trade_ts column")
        ts = event_times(tbl.column("trade_ts"), "recv", what=f"{what} column 'trade_ts'")
        check_one_day(ts, day, what=what)
        tbl = with_column(tbl, "trade_ts", ts)
        if "trade_date" in tbl.column_names:
            tbl = tbl.drop_columns(["trade_date"])
        return tbl.append_column("trade_date", constant(day, pa.date32(), tbl.num_rows))


class GoldSource(Source):
    """A gold model (external Parquet by partition_date), partitioned by partition_date in Iceberg too."""

    day_key = "partition_date"
    partition_column = "partition_date"
    partition_transform = "identity"

    def __init__(self, model: str) -> None:
        self.name = model
        self.folder = ("gold", model)

    def convert_schema(self, schema: pa.Schema) -> pa.Schema:
        return pa.schema([*[f for f in schema if f.name != "partition_date"], pa.field("partition_date", pa.date32())])

    def convert(self, tbl: pa.Table, f: SourceFile, day: dt.date, *, what: str) -> pa.Table:
        if "partition_date" in tbl.column_names:
            tbl = tbl.drop_columns(["partition_date"])
        return tbl.append_column("partition_date", constant(day, pa.date32(), tbl.num_rows))


def gold_models(lake: Lake) -> list[str]:
    """Gold model folders that hold partition_date= partitions."""
    infos = lake.fs.get_file_info(pafs.FileSelector(lake.fs_path("gold"), recursive=False, allow_not_found=True))
    models = []
    for info in infos:
        if info.type != pafs.FileType.Directory or info.base_name.startswith((".", "_")):
            continue
        inner = lake.fs.get_file_info(pafs.FileSelector(info.path, recursive=False))
        if any(i.type == pafs.FileType.Directory and i.base_name.startswith("partition_date=") for i in inner):
            models.append(info.base_name)
    return sorted(models)


def source_for(name: str, lake: Lake | None = None) -> Source:
    """The source behind a table name: a bronze table, trades_unified, or a gold model folder."""
    if name == UNIFIED:
        return UnifiedSource()
    if name in BRONZE_TABLES:
        return RawSource(BRONZE_TABLES[name])
    if lake is not None and name in gold_models(lake):
        return GoldSource(name)
    known = ", ".join([*DEFAULT_TABLES, "<any bronze table>", "<gold model with partition_date= folders>"])
    raise ConvertError(f"unknown table {name!r} to publish; known: {known}")
