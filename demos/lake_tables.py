"""Where each table of the lake lives, so that the shell, the replay and the detector read the same files.

The layout is the one the ingest writer and the dbt external models write (LAKE_ROOT decides the root):

    bronze/<raw table>/symbol=<SYM>/date=<YYYY-MM-DD>/*.parquet
    silver/trades_unified/trade_date=<date>/*.parquet
    silver/{bars_1m,orderbook_snapshots,trades_agg}/partition_date=<date>/*.parquet
    gold/{features_2s,labels_10s,training_sets}/partition_date=<date>/*.parquet
    predictions/<model>/<version>/*.parquet                 (`schemahub predict`)
    models/<model>/<version>/test_predictions.parquet       (the ml registry's walk-forward test blocks)
    discrepancies/date=<date>/*.parquet                     (the discrepancy detector)

Each table is one `read_parquet` over a recursive glob; hive partitioning is switched on only when every file
of the table sits under `key=value` folders (training sets may be laid out by version instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemahub.storage import Lake

SILVER = ("trades_unified", "bars_1m", "orderbook_snapshots", "trades_agg")
GOLD = ("features_2s", "labels_10s", "training_sets")

_HIVE_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[^/]*$")


@dataclass(frozen=True)
class LakeTable:
    """A table as files under the lake: its name, layer, folder (lake-relative) and file-name filter."""

    name: str
    layer: str
    folder: str
    name_contains: str = ""  # only files whose name contains this (predictions among model artefacts)

    def files(self, lake: Lake) -> list[str]:
        """Lake-relative Parquet files of this table (hidden, temporary and dbt empty-result files excluded)."""
        out = []
        for path in lake.list_files(self.folder, suffix=".parquet"):
            base = path.rsplit("/", 1)[-1]
            if self.name_contains and self.name_contains not in base:
                continue
            if "__HIVE_DEFAULT_PARTITION__" in path:  # dbt-duckdb's all-NULL sentinel for an empty result
                continue
            out.append(path)
        return out

    def glob(self, lake: Lake) -> str:
        pattern = f"*{self.name_contains}*.parquet" if self.name_contains else "*.parquet"
        return lake.uri(self.folder, "**", pattern)

    def is_hive(self, files: list[str]) -> bool:
        """True when every file sits below the same `key=value` folder keys (so hive columns are consistent)."""
        keys: set[tuple[str, ...]] = set()
        for path in files:
            rel = path[len(self.folder) + 1 :].split("/")[:-1]
            if not rel or not all(_HIVE_SEGMENT.match(seg) for seg in rel):
                return False
            keys.add(tuple(seg.split("=", 1)[0] for seg in rel))
        return len(keys) == 1

    def read_sql(self, lake: Lake, files: list[str] | None = None) -> str:
        """A `read_parquet(...)` expression over this table's glob (union by name: schemas may evolve)."""
        files = self.files(lake) if files is None else files
        hive = "true" if self.is_hive(files) else "false"
        glob = self.glob(lake).replace("'", "''")
        return f"read_parquet('{glob}', hive_partitioning = {hive}, union_by_name = true)"


def bronze_tables() -> list[LakeTable]:
    from ingest.bronze.tables import TABLES

    return [LakeTable(name, "bronze", f"bronze/{name}") for name in sorted(TABLES)]


def all_tables() -> list[LakeTable]:
    """Every table of the lake, bronze to predictions, in lineage order."""
    return [
        *bronze_tables(),
        *(LakeTable(n, "silver", f"silver/{n}") for n in SILVER),
        *(LakeTable(n, "gold", f"gold/{n}") for n in GOLD),
        LakeTable("predictions", "models", "predictions"),
        LakeTable("model_test_predictions", "models", "models", name_contains="test_predictions"),
        LakeTable("discrepancies", "demos", "discrepancies"),
    ]


def table(name: str) -> LakeTable:
    for t in all_tables():
        if t.name == name:
            return t
    raise KeyError(f"unknown lake table {name!r}; known: {', '.join(t.name for t in all_tables())}")
