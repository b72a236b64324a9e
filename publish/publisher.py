"""Publish lake folders to Iceberg v2 tables: one atomic snapshot per table and run, idempotent, conflict-safe.

How one table is published (`publish_source`):
1. List the source's files and cut them into day slices with fingerprints (sources.py).
2. Load the table (create it when missing: Iceberg v2, partitioned by day(trade_ts) or by partition_date).
   A slice is *to do* when the fingerprint recorded in the table's properties (`schemahub.published.<day>`)
   differs. Nothing to do: no commit, no new snapshot (publishing the same data twice adds nothing).
3. In one transaction: evolve the schema when the files bring new columns (union by name: no data rewritten),
   write the to-do days' data files, and commit ONE snapshot that drops the table's current files of those
   days and adds the new ones (an `append` when the days are new, else an `overwrite`), together with the
   days' new fingerprints. Bronze days whose published files (column `_bronze_file`) are all still in the
   lake only get their new files appended; a day whose files were removed or renamed is replaced. All sources of the day (Binance, Coinbase, Kraken rows of trades_unified) land in
   that one snapshot, or none of them does.
4. A commit conflict (another publisher committed meanwhile) is retried on fresh metadata. pyiceberg first
   retries by itself when the other commit touched other days (its validation checks that no file of our days
   was added or removed); otherwise we reload the table and plan again: days the other publisher already
   published with the same fingerprint are dropped from our commit, data files already written are reused.
   So every day lands exactly once, whichever publisher wins.
5. Data files written but not committed (a failed run) are deleted; a run killed before its commit leaves the
   table as it was (its files are unreferenced orphans, invisible to readers).

pyiceberg's public `Transaction.overwrite`/`dynamic_partition_overwrite` make two snapshots (delete, then
append) and the latter supports identity partitions only, so the snapshot is built here from pyiceberg's
own producer (`_OverwriteFiles`) and data-file writer (`_dataframe_to_data_files`), pinned with pyiceberg 0.12.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from tqdm import tqdm

from publish.catalog import CatalogSettings, duckdb_path, identifier, open_catalog
from publish.convert import ConvertError, nullable, unify
from publish.sources import DEFAULT_TABLES, GoldSource, Slice, Source, gold_models, source_for
from schemahub.cli import SchemaHubError
from schemahub.storage import Lake

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata

log = logging.getLogger(__name__)

PUBLISHED_PREFIX = "schemahub.published."
MAX_ATTEMPTS = 10
EPOCH = dt.date(1970, 1, 1)
TABLE_PROPERTIES = {"format-version": "2", "write.parquet.compression-codec": "zstd"}


class PublishError(SchemaHubError):
    """A table could not be published (the message names the table and why)."""


class _Conflict(Exception):
    """Another publisher committed first: plan again on fresh metadata."""


@dataclass
class TableResult:
    table: str
    days: list[str] = field(default_factory=list)
    rows: int = 0
    snapshot_id: int | None = None
    attempts: int = 0
    note: str = ""
    metadata_location: str | None = None


@dataclass
class _Prepared:
    files: list[DataFile]
    rows: int
    exchanges: frozenset[str]


def publish(
    tables: Iterable[str] = DEFAULT_TABLES,
    *,
    gold: bool = False,
    dates: Collection[dt.date] | None = None,
    dry_run: bool = False,
    lake: Lake | None = None,
    settings: CatalogSettings | None = None,
    progress: bool = True,
) -> list[TableResult]:
    """Publish each table (and every gold model with `gold`); returns one result per table."""
    lake = lake or Lake.from_env()
    settings = settings or CatalogSettings.from_env()
    sources: list[Source] = [source_for(name, lake) for name in tables]
    if gold:
        sources += [GoldSource(m) for m in gold_models(lake) if m not in {s.name for s in sources}]
    catalog = None if dry_run and _missing_sqlite(settings) else open_catalog(settings)
    run_id = uuid.uuid4().hex[:12]
    return [publish_source(catalog, settings, lake, src, dates=dates, dry_run=dry_run, run_id=run_id,
                           progress=progress) for src in sources]


def _missing_sqlite(settings: CatalogSettings) -> bool:
    return settings.sqlite_path is not None and not settings.sqlite_path.exists()


def publish_source(
    catalog: Catalog | None,
    settings: CatalogSettings,
    lake: Lake,
    src: Source,
    *,
    dates: Collection[dt.date] | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    progress: bool = True,
) -> TableResult:
    """Publish one source to its table (see the module docstring for the protocol)."""
    job = _Job(catalog, identifier(src.name, settings), lake, src, run_id or uuid.uuid4().hex[:12], progress)
    slices = src.list_slices(lake, dates)
    if not slices:
        return TableResult(src.name, note=f"nothing to publish: no Parquet files under {lake.uri(*src.folder)}")
    try:
        for attempt in Retrying(retry=retry_if_exception_type(_Conflict), stop=stop_after_attempt(MAX_ATTEMPTS),
                                wait=wait_random_exponential(multiplier=0.1, max=3), reraise=True):
            with attempt:
                job.attempts = attempt.retry_state.attempt_number
                return job.run(slices, dry_run=dry_run)
    except _Conflict as exc:
        raise PublishError(f"{job.ident}: still conflicting after {MAX_ATTEMPTS} attempts: {exc}") from exc
    finally:
        job.cleanup()
    raise AssertionError("unreachable")  # pragma: no cover


class _Job:
    """State of publishing one table across attempts: prepared data files are reused when still valid."""

    def __init__(self, catalog: Catalog | None, ident: str, lake: Lake, src: Source, run_id: str, progress: bool) -> None:
        self.catalog, self.ident, self.lake, self.src, self.run_id, self.progress = (
            catalog, ident, lake, src, run_id, progress)
        self.prepared: dict[tuple[Any, ...], _Prepared] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self.written: set[str] = set()
        self.committed: set[str] = set()
        self.outcome_unknown = False
        self.io: Any = None
        self.attempts = 0

    # -- one attempt ---------------------------------------------------------------------------
    def run(self, slices: list[Slice], *, dry_run: bool) -> TableResult:
        from pyiceberg.exceptions import CommitFailedException, ValidationException

        tbl = self._load(slices, create=not dry_run)
        published = tbl.properties if tbl is not None else {}
        todo = [s for s in slices if published.get(PUBLISHED_PREFIX + s.day.isoformat()) != s.fingerprint]
        location = duckdb_path(tbl.metadata_location) if tbl is not None else None
        if not todo:
            return TableResult(self.src.name, attempts=self.attempts, metadata_location=location,
                               snapshot_id=_current_id(tbl), note=f"up to date ({len(slices)} day(s))")
        if dry_run or tbl is None:
            return TableResult(self.src.name, days=[s.day.isoformat() for s in todo], metadata_location=location,
                               note=f"dry run: would publish {len(todo)} of {len(slices)} day(s)")
        self.io = tbl.io
        tx = tbl.transaction()
        self._evolve_schema(tx, todo)
        meta = tx.table_metadata
        days = {s.day for s in todo}
        olds_by_day = _files_of_days(tbl, self.src, days)
        adds: list[DataFile] = []
        olds: list[DataFile] = []
        rows, exchanges = 0, set()
        for slc in tqdm(todo, desc=f"publish {self.src.name}", unit="day", disable=not self.progress, leave=False):
            part, old = self._plan_day(tbl, slc, olds_by_day.get(slc.day, []))
            prep = self._prepare(meta, part)
            adds += prep.files
            olds += old
            rows += prep.rows
            exchanges |= prep.exchanges
        summary = {
            "schemahub.run-id": self.run_id,
            "schemahub.source": self.lake.uri(*self.src.folder),
            "schemahub.days": ",".join(sorted(d.isoformat() for d in days)),
        }
        if exchanges:
            summary["schemahub.exchanges"] = ",".join(sorted(exchanges))
        if adds or olds:
            from pyiceberg.table.snapshots import Operation
            from pyiceberg.table.update.snapshot import _OverwriteFiles

            producer = _OverwriteFiles(operation=Operation.OVERWRITE if olds else Operation.APPEND, transaction=tx,
                                       io=tbl.io, snapshot_properties=summary)
            # The days' range doubles as the conflict filter: a concurrent commit that added or removed files
            # of these days fails validation, one on other days is safely retried by pyiceberg itself.
            producer.delete_by_predicate(_days_filter(self.src, days))
            for f in olds:
                producer.delete_data_file(f)
            for f in adds:
                producer.append_data_file(f)
            producer.commit()
        tx.set_properties({PUBLISHED_PREFIX + s.day.isoformat(): s.fingerprint for s in todo})
        try:
            tbl = tx.commit_transaction()
        except (CommitFailedException, ValidationException) as exc:
            log.warning("%s: commit conflict on attempt %d (%s); retrying on fresh metadata", self.ident,
                        self.attempts, exc)
            raise _Conflict(str(exc)) from exc
        except BaseException:
            self.outcome_unknown = True  # the commit may have landed: keep its files
            raise
        self.committed = {f.file_path for f in adds}
        snap = tbl.current_snapshot()
        log.info("%s: snapshot %s with %d row(s) of %d day(s)", self.ident, snap and snap.snapshot_id, rows, len(todo))
        return TableResult(self.src.name, days=[s.day.isoformat() for s in todo], rows=rows,
                           snapshot_id=snap.snapshot_id if snap else None, attempts=self.attempts,
                           metadata_location=duckdb_path(tbl.metadata_location),
                           note=f"published {len(todo)} of {len(slices)} day(s)")

    # -- pieces --------------------------------------------------------------------------------
    def _target_schema(self, slices: list[Slice]) -> pa.Schema:
        pairs = []
        for slc in slices:
            for f in slc.files:
                if f.path not in self.schemas:
                    self.schemas[f.path] = self.src.file_schema(self.lake, f)
                pairs.append((self.lake.uri(f.path), self.schemas[f.path]))
        try:
            return unify(pairs)
        except ConvertError as exc:
            raise PublishError(f"{self.ident}: {exc}") from exc

    def _load(self, slices: list[Slice], *, create: bool) -> Table | None:
        from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError
        from pyiceberg.transforms import DayTransform, IdentityTransform

        if self.catalog is None:  # dry run before anything was published
            return None
        try:
            return self.catalog.load_table(self.ident)
        except NoSuchTableError:
            if not create:
                return None
        schema = nullable(self._target_schema(slices))
        transform = DayTransform() if self.src.partition_transform == "day" else IdentityTransform()
        part_name = f"{self.src.partition_column}_day" if self.src.partition_transform == "day" else self.src.partition_column
        try:
            with self.catalog.create_table_transaction(self.ident, schema=schema, properties=TABLE_PROPERTIES) as ctx, \
                    ctx.update_spec() as spec:
                spec.add_field(self.src.partition_column, transform, part_name)
            log.info("%s: created (Iceberg v2, partitioned by %s)", self.ident, part_name)
        except (TableAlreadyExistsError, CommitFailedException):  # the SQL catalog reports a lost race either way
            log.info("%s: created concurrently by another publisher", self.ident)
        return self.catalog.load_table(self.ident)

    def _evolve_schema(self, tx: Any, todo: list[Slice]) -> None:
        """Add the columns the files bring (e.g. a venue added a field); existing data is not rewritten.

        A column that exists with another type is refused (Iceberg allows only widening, and a venue changing
        a field's type is something a person must look at)."""
        from pyiceberg.io.pyarrow import pyarrow_to_schema
        from pyiceberg.types import DoubleType, FloatType, IntegerType, LongType

        target = self._target_schema(todo)
        current = tx.table_metadata.schema()
        names = set(current.column_names)
        known = pa.schema([f for f in target if f.name in names])
        widening = {(IntegerType(), LongType()), (FloatType(), DoubleType())}
        try:
            mapped = pyarrow_to_schema(known, name_mapping=current.name_mapping)
        except ValueError as exc:
            raise PublishError(f"{self.ident}: files do not fit the table's columns: {exc}") from exc
        for f in mapped.fields:
            have = current.find_field(f.name).field_type
            if f.field_type != have and (f.field_type, have) not in widening:
                files = [p for p, sch in self.schemas.items() if f.name in sch.names
                         and sch.field(f.name).type == known.field(f.name).type]
                raise PublishError(f"{self.ident}: column {f.name!r} is {f.field_type} in {files[:3]} but {have} "
                                   "in the table; a column may be added but not change its type")
        new = [f.name for f in target if f.name not in names]
        if not new:
            return
        try:
            with tx.update_schema() as upd:
                upd.union_by_name(nullable(target))
        except Exception as exc:  # pyiceberg raises ValueError / ValidationError for incompatible changes
            raise PublishError(f"{self.ident}: cannot add column(s) {new}: {exc}") from exc
        log.info("%s: schema evolved, new column(s) %s", self.ident, ", ".join(new))

    def _plan_day(self, tbl: Table, slc: Slice, old: list[DataFile]) -> tuple[Slice, list[DataFile]]:
        """(files to add, table files to drop) for a changed day.

        Append-only sources (bronze) whose published files are all still in the lake get only their new
        files appended. Otherwise the whole day is replaced: files were removed or renamed (e.g. compacted),
        or it is not a bronze source.
        """
        if not old or self.src.file_column is None:
            return slc, old
        seen = _published_files(tbl, self.src, slc.day)
        current = {f.path for f in slc.files}
        if seen is None or not seen <= current or seen == current:
            return slc, old
        return Slice(slc.day, tuple(f for f in slc.files if f.path not in seen)), []

    def _prepare(self, meta: TableMetadata, slc: Slice) -> _Prepared:
        """Write a day's data files (once per fingerprint and table schema; reused by retries)."""
        from pyiceberg.io.pyarrow import _dataframe_to_data_files

        key = (slc.day, slc.fingerprint, meta.current_schema_id, tuple(meta.schema().fields), meta.default_spec_id)
        if key in self.prepared:
            return self.prepared[key]
        data = self.src.read(self.lake, slc)
        data = data.select([n for n in _table_column_order(meta) if n in data.column_names])
        exchanges = frozenset()
        if "exchange" in data.column_names:
            exchanges = frozenset(str(v) for v in pc.unique(data.column("exchange")).to_pylist() if v is not None)
        files = list(_dataframe_to_data_files(table_metadata=meta, df=data, io=self.io)) if data.num_rows else []
        self.written |= {f.file_path for f in files}
        self.prepared[key] = _Prepared(files, data.num_rows, exchanges)
        return self.prepared[key]

    def cleanup(self) -> None:
        """Delete data files this job wrote that no committed snapshot references."""
        if self.io is None:
            return
        orphans = sorted(self.written - self.committed)
        if self.outcome_unknown:
            if orphans:
                log.warning("%s: commit outcome unknown; keeping %d written file(s)", self.ident, len(orphans))
            return
        for path in orphans:
            try:
                self.io.delete(path)
            except Exception:  # best effort: an unreferenced file is invisible to every reader
                log.warning("%s: could not delete unreferenced data file %s", self.ident, path, exc_info=True)


def _current_id(tbl: Table | None) -> int | None:
    snap = tbl.current_snapshot() if tbl is not None else None
    return snap.snapshot_id if snap else None


def _table_column_order(meta: TableMetadata) -> list[str]:
    return [f.name for f in meta.schema().fields]


def _day_number(value: Any) -> int:
    if isinstance(value, dt.date):
        return (value - EPOCH).days
    return int(value)


def _published_files(tbl: Table, src: Source, day: dt.date) -> set[str] | None:
    """The lake files a day of the table was built from (None when the table cannot tell)."""
    column = src.file_column
    if column is None or column not in tbl.schema().column_names:
        return None
    values = tbl.scan(row_filter=_days_filter(src, {day}), selected_fields=(column,)).to_arrow().column(column)
    if values.null_count:
        return None
    return {str(v) for v in pc.unique(values).to_pylist()}


def _files_of_days(tbl: Table, src: Source, days: set[dt.date]) -> dict[dt.date, list[DataFile]]:
    """Live data files of the table's current snapshot whose partition is one of `days`, by day."""
    snap = tbl.current_snapshot()
    if snap is None:
        return {}
    wanted = {(d - EPOCH).days: d for d in days}
    source_id = tbl.schema().find_field(src.partition_column).field_id
    specs = tbl.metadata.specs()
    out: dict[dt.date, list[DataFile]] = {}
    for manifest in snap.manifests(tbl.io):
        spec = specs[manifest.partition_spec_id]
        positions = [i for i, pf in enumerate(spec.fields) if pf.source_id == source_id]
        if not positions:
            raise PublishError(f"{tbl.name()}: partition spec {spec.spec_id} does not partition by "
                               f"{src.partition_column}; cannot replace days")
        for entry in manifest.fetch_manifest_entry(tbl.io, discard_deleted=True):
            day = wanted.get(_day_number(entry.data_file.partition[positions[0]]))
            if day is not None:
                out.setdefault(day, []).append(entry.data_file)
    return out


def _days_filter(src: Source, days: set[dt.date]) -> Any:
    from pyiceberg.expressions import And, GreaterThanOrEqual, In, LessThan, Or

    if src.partition_transform == "identity":
        return In(src.partition_column, {d.isoformat() for d in days})
    ranges = [
        And(GreaterThanOrEqual(src.partition_column, f"{d.isoformat()}T00:00:00+00:00"),
            LessThan(src.partition_column, f"{(d + dt.timedelta(days=1)).isoformat()}T00:00:00+00:00"))
        for d in sorted(days)
    ]
    expr = ranges[0]
    for r in ranges[1:]:
        expr = Or(expr, r)
    return expr
