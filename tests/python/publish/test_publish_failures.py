"""Runs that die before their commit leave the table as it was; a same-day race never duplicates rows;
a venue adding a field evolves the schema without rewriting data."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from publish_inputs import bronze_trades, write_bronze_day, write_unified_day

from ingest.bronze.writer import BronzeWriter
from publish import publisher
from publish.catalog import CatalogSettings, metadata_locations, open_catalog
from publish.publisher import publish
from publish.snapshots import iceberg_scan_sql, list_snapshots
from publish.sources import UnifiedSource
from schemahub import duck
from schemahub.storage import Lake

D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
HERE = Path(__file__).parent


def load(name: str):  # type: ignore[no-untyped-def]
    settings = CatalogSettings.from_env()
    return open_catalog(settings, create=False).load_table(f"{settings.namespace}.{name}")


def data_files_on_disk(lake_dir: Path, table: str) -> set[str]:
    return {str(p) for p in (lake_dir / "iceberg" / "schemahub" / table / "data").rglob("*.parquet")}


def referenced_files(table: str, *, all_snapshots: bool = False) -> set[str]:
    """Data files of the current snapshot (or of any snapshot: what time travel still needs)."""
    tbl = load(table)
    snaps = [s.snapshot_id for s in tbl.snapshots()] if all_snapshots else [None]
    return {t.file.file_path.removeprefix("file://") for s in snaps for t in tbl.scan(snapshot_id=s).plan_files()}


def count(table: str) -> int:
    return duck.connect().sql(f"select count(*) from {iceberg_scan_sql(metadata_locations()[table])}").fetchone()[0]


def test_error_mid_run_leaves_table_and_no_files(tmp_lake: Path, iceberg_env: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake.from_env()
    n1 = write_unified_day(lake, D1, {"binance": 20, "kraken": 10})
    publish(["trades_unified"], progress=False)
    before = (load("trades_unified").metadata_location, data_files_on_disk(tmp_lake, "trades_unified"))

    write_unified_day(lake, D1, {"binance": 25, "kraken": 10})  # rebuilt day 1
    write_unified_day(lake, D2, {"coinbase": 15})
    write_unified_day(lake, D3, {"coinbase": 5})
    real_read = UnifiedSource.read
    calls = []

    def failing_read(self, lake_, slc):  # type: ignore[no-untyped-def]
        calls.append(slc.day)
        if len(calls) == 3:  # days 1 and 2 already written as data files
            raise OSError(f"disk vanished while reading {slc.day}")
        return real_read(self, lake_, slc)

    monkeypatch.setattr(UnifiedSource, "read", failing_read)
    with pytest.raises(OSError, match="disk vanished"):
        publish(["trades_unified"], progress=False)
    assert calls == [D1, D2, D3]
    # the table is as it was, and the two days' written files were removed again
    assert (load("trades_unified").metadata_location, data_files_on_disk(tmp_lake, "trades_unified")) == before
    assert count("trades_unified") == n1

    monkeypatch.setattr(UnifiedSource, "read", real_read)
    assert publish(["trades_unified"], progress=False)[0].rows == 35 + 15 + 5
    assert count("trades_unified") == 55
    assert data_files_on_disk(tmp_lake, "trades_unified") == referenced_files("trades_unified", all_snapshots=True)


def test_killed_right_before_commit_leaves_table_as_it_was(tmp_lake: Path, iceberg_env: Path) -> None:
    lake = Lake.from_env()
    write_unified_day(lake, D1, {"binance": 20})
    publish(["trades_unified"], progress=False)
    location = load("trades_unified").metadata_location
    write_unified_day(lake, D2, {"kraken": 7})

    proc = subprocess.run([sys.executable, str(HERE / "run_publisher.py"), "publish", "--tables", "trades_unified"],
                          env={**os.environ, "PUBLISH_TEST_HOOK": "kill"}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert load("trades_unified").metadata_location == location
    assert count("trades_unified") == 20
    assert len(list_snapshots("trades_unified")[1]) == 1
    # the next run publishes the missing day once (the killed run's files stay unreferenced orphans)
    assert publish(["trades_unified"], progress=False)[0].days == [D2.isoformat()]
    assert count("trades_unified") == 27


def test_same_day_race_is_replanned_and_lands_once(tmp_lake: Path, iceberg_env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Another publisher commits the same days between our plan and our commit: pyiceberg's validation
    refuses our stale commit, we plan again on fresh metadata and find the days already published."""
    from pyiceberg.table import Transaction

    lake = Lake.from_env()
    n = write_unified_day(lake, D1, {"binance": 12, "coinbase": 8}) + write_unified_day(lake, D2, {"kraken": 9})
    real_commit = Transaction.commit_transaction
    state = {"armed": True}

    def interleaved(self):  # type: ignore[no-untyped-def]
        if state["armed"] and type(self) is Transaction:
            state["armed"] = False
            other = publish(["trades_unified"], progress=False)[0]  # the competitor lands first
            assert other.rows == n
        return real_commit(self)

    monkeypatch.setattr(Transaction, "commit_transaction", interleaved)
    ours = publish(["trades_unified"], progress=False)[0]
    assert ours.attempts == 2 and ours.rows == 0 and ours.note.startswith("up to date")
    assert count("trades_unified") == n
    assert len(list_snapshots("trades_unified")[1]) == 1
    assert data_files_on_disk(tmp_lake, "trades_unified") == referenced_files("trades_unified", all_snapshots=True)


def test_venue_adds_a_field_schema_evolves_old_snapshot_readable(tmp_lake: Path, iceberg_env: Path) -> None:
    lake = Lake.from_env()
    write_bronze_day(lake, "coinbase", D1, 10)
    publish(["raw_coinbase_trades"], progress=False)
    tbl = load("raw_coinbase_trades")
    old_snapshot, old_files = tbl.current_snapshot().snapshot_id, referenced_files("raw_coinbase_trades")
    assert "maker_order_id" not in tbl.schema().column_names

    # Coinbase starts sending maker_order_id: a bronze file of day 2 carries the extra column
    records = bronze_trades("coinbase", D2, 6, first_id=100)
    for r in records:
        r["_raw_payload"] = json.dumps({**json.loads(r["_raw_payload"]), "maker_order_id": f"m-{r['trade_id']}"})
    arrow = BronzeWriter.to_arrow("raw_coinbase_trades", records, source="coinbase.rest.trades")
    arrow = arrow.append_column("maker_order_id", pa.array([f"m-{r['trade_id']}" for r in records]))
    lake.write_parquet(arrow, "bronze", "raw_coinbase_trades", "symbol=BTC-USD", f"date={D2.isoformat()}",
                       "coinbase.rest.trades__100__105.parquet")
    result = publish(["raw_coinbase_trades"], progress=False)[0]
    assert result.days == [D2.isoformat()] and result.rows == 6

    tbl = load("raw_coinbase_trades")
    assert tbl.schema().column_names[-1] == "maker_order_id"
    assert len(tbl.schemas()) == 2
    assert old_files <= referenced_files("raw_coinbase_trades")  # day 1's data files were not rewritten
    con = duck.connect()
    meta = metadata_locations()["raw_coinbase_trades"]
    got = con.sql(f"select count(*), count(maker_order_id) from {iceberg_scan_sql(meta)}").fetchone()
    assert got == (16, 6)
    # the earlier snapshot reads as it was, in DuckDB and pyiceberg
    assert con.sql(f"select count(*) from {iceberg_scan_sql(meta, old_snapshot)}").fetchone()[0] == 10
    assert tbl.scan(snapshot_id=old_snapshot).to_arrow().num_rows == 10

    # a column that changes type is refused with the column and both files named
    bad = BronzeWriter.to_arrow("raw_coinbase_trades", bronze_trades("coinbase", D3, 2, first_id=200),
                                source="coinbase.rest.trades")
    bad = bad.append_column("maker_order_id", pa.array([1, 2], pa.int64()))
    lake.write_parquet(bad, "bronze", "raw_coinbase_trades", "symbol=BTC-USD", f"date={D3.isoformat()}",
                       "coinbase.rest.trades__200__201.parquet")
    with pytest.raises(publisher.PublishError, match="maker_order_id"):
        publish(["raw_coinbase_trades"], progress=False)
