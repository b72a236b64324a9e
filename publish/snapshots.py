"""Time travel: the snapshots of a published table, and DuckDB SQL that reads any of them.

DuckDB reads an Iceberg table from its metadata.json (SqlCatalog writes no version-hint, so the path is
needed): `iceberg_scan('<metadata.json>')` is the latest snapshot, `iceberg_scan('<metadata.json>',
snapshot_from_id => <id>)` an earlier one. `publish.catalog.metadata_locations()` gives the current
metadata.json of every table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from publish.catalog import CatalogError, CatalogSettings, duckdb_path, identifier, open_catalog


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: int
    parent_id: int | None
    committed_at: dt.datetime
    operation: str
    added_records: int
    deleted_records: int
    total_records: int
    schema_id: int | None
    run_id: str
    days: str
    exchanges: str


def _int(summary: dict[str, str], key: str) -> int:
    return int(summary.get(key, "0") or 0)


def list_snapshots(table: str, settings: CatalogSettings | None = None) -> tuple[str, list[SnapshotInfo]]:
    """(current metadata.json, snapshots oldest first) of a published table."""
    from pyiceberg.exceptions import NoSuchTableError

    settings = settings or CatalogSettings.from_env()
    catalog = open_catalog(settings, create=False)
    try:
        tbl = catalog.load_table(identifier(table, settings))
    except NoSuchTableError as exc:
        raise CatalogError(f"no Iceberg table {identifier(table, settings)} ({settings.describe()})") from exc
    out = []
    for snap in sorted(tbl.snapshots(), key=lambda s: s.timestamp_ms):
        summary = dict(snap.summary.additional_properties) if snap.summary else {}
        out.append(SnapshotInfo(
            snapshot_id=snap.snapshot_id,
            parent_id=snap.parent_snapshot_id,
            committed_at=dt.datetime.fromtimestamp(snap.timestamp_ms / 1000, dt.UTC),
            operation=str(snap.summary.operation.value) if snap.summary else "",
            added_records=_int(summary, "added-records"),
            deleted_records=_int(summary, "deleted-records"),
            total_records=_int(summary, "total-records"),
            schema_id=snap.schema_id,
            run_id=summary.get("schemahub.run-id", ""),
            days=summary.get("schemahub.days", ""),
            exchanges=summary.get("schemahub.exchanges", ""),
        ))
    return duckdb_path(tbl.metadata_location), out


def iceberg_scan_sql(metadata_location: str, snapshot_id: int | None = None) -> str:
    """`iceberg_scan(...)` text for DuckDB: the latest snapshot, or the one given."""
    path = "'" + metadata_location.replace("'", "''") + "'"
    if snapshot_id is None:
        return f"iceberg_scan({path})"
    return f"iceberg_scan({path}, snapshot_from_id => {int(snapshot_id)})"
