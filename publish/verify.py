"""Check a published table against the lake: same rows through DuckDB's iceberg_scan and through pyiceberg.

Each reader's rows are reduced in one pass to (row count, sum of a hash of each row over the shared
columns). This is an order-independent multiset checksum, so no side is held in memory. The pyiceberg side
streams its Arrow batches into DuckDB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from publish.catalog import CatalogSettings, duckdb_path, identifier, open_catalog
from publish.sources import Source
from schemahub import duck
from schemahub.storage import Lake


@dataclass(frozen=True)
class Check:
    table: str
    lake_rows: int
    duckdb_rows: int
    pyiceberg_rows: int
    same_rows: bool  # both readers hold exactly the lake's rows (count and checksum)

    @property
    def ok(self) -> bool:
        return self.same_rows and self.lake_rows == self.duckdb_rows == self.pyiceberg_rows


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _day_expr(src: Source) -> str:
    col = _q(src.partition_column)
    return col if src.partition_transform == "identity" else f"cast({col} as date)"


def verify_source(src: Source, *, lake: Lake | None = None, settings: CatalogSettings | None = None,
                  dates: Collection[dt.date] | None = None) -> Check:
    """Compare the table's current snapshot with the lake folder it was published from."""
    lake = lake or Lake.from_env()
    settings = settings or CatalogSettings.from_env()
    tbl = open_catalog(settings, create=False).load_table(identifier(src.name, settings))
    meta = duckdb_path(tbl.metadata_location)
    con = duck.connect()
    lake_sql = (f"read_parquet('{lake.uri(*src.folder)}/**/*.parquet', hive_partitioning = true, "
                "union_by_name = true)")
    lake_cols = [r[0] for r in con.sql(f"describe select * from {lake_sql}").fetchall()]
    ice_cols = [f.name for f in tbl.schema().fields]
    shared = [c for c in ice_cols if c in lake_cols]
    row_hash = f"hash({', '.join(_q(c) for c in shared)})"
    in_days = ""
    lake_in_days = ""
    if dates is not None:
        days = ", ".join(f"date '{d.isoformat()}'" for d in sorted(dates)) or "null"
        in_days = f"where {_day_expr(src)} in ({days})"
        lake_in_days = f"where cast({_q(src.day_key)} as date) in ({days})"

    def digest(relation: str, where: str) -> tuple[int, int]:
        n, h = con.sql(f"select count(*), coalesce(sum({row_hash}), 0) from {relation} {where}").fetchone()
        return int(n), int(h)

    lake_d = digest(lake_sql, lake_in_days)
    duck_d = digest(f"iceberg_scan('{meta}')", in_days)
    fields = tuple(dict.fromkeys([*shared, src.partition_column]))
    con.register("pyiceberg_rows", tbl.scan(selected_fields=fields).to_arrow_batch_reader())
    py_d = digest("pyiceberg_rows", in_days)
    return Check(src.name, lake_d[0], duck_d[0], py_d[0], same_rows=lake_d == duck_d == py_d)
