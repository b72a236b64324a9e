"""End to end: lake Parquet -> Iceberg v2 through pyiceberg's SqlCatalog, read back by DuckDB and pyiceberg.

Each main test runs on a local lake and on a moto S3 lake (`any_lake`)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from publish_inputs import write_bronze_day, write_unified_day

from publish.catalog import CatalogSettings, metadata_locations, open_catalog
from publish.publisher import publish
from publish.snapshots import iceberg_scan_sql, list_snapshots
from publish.sources import UnifiedSource, source_for
from publish.verify import verify_source
from schemahub import duck
from schemahub.storage import Lake

D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
COLS = ("exchange, symbol, canonical_symbol, base, quote, trade_id, side, price, quantity, notional, trade_ts, "
        "ingest_ts, recv_ts, source, trade_date")
HERE = Path(__file__).parent


def parquet_unified(lake: Lake) -> str:
    return f"read_parquet('{lake.uri('silver', 'trades_unified')}/*/*.parquet', hive_partitioning = true)"


def rows_differ(con, a: str, b: str) -> int:  # type: ignore[no-untyped-def]
    """Rows of a not in b plus rows of b not in a (multiset difference)."""
    one = con.sql(f"select count(*) from (select {COLS} from {a} except all select {COLS} from {b})").fetchone()[0]
    two = con.sql(f"select count(*) from (select {COLS} from {b} except all select {COLS} from {a})").fetchone()[0]
    return one + two


def unified_table():  # type: ignore[no-untyped-def]
    settings = CatalogSettings.from_env()
    return open_catalog(settings, create=False).load_table(f"{settings.namespace}.trades_unified")


def test_unified_and_raw_match_parquet_idempotent_time_travel(any_lake: str) -> None:
    lake = Lake.from_env()
    n_unified = sum(write_unified_day(lake, d, {"binance": 40, "coinbase": 25, "kraken": 15}) for d in (D1, D2))
    for venue in ("binance", "coinbase", "kraken"):
        for d in (D1, D2):
            write_bronze_day(lake, venue, d, 30)

    first = {r.table: r for r in publish(progress=False)}
    assert first["trades_unified"].rows == n_unified
    assert {t: r.rows for t, r in first.items() if t.startswith("raw_")} == dict.fromkeys(
        ("raw_binance_trades", "raw_coinbase_trades", "raw_kraken_trades"), 60)

    # one run of three sources = ONE snapshot of trades_unified
    location, snaps = list_snapshots("trades_unified")
    assert len(snaps) == 1
    assert snaps[0].exchanges == "binance,coinbase,kraken"
    assert snaps[0].total_records == n_unified

    con = duck.connect()
    iceberg = iceberg_scan_sql(metadata_locations()["trades_unified"])
    assert con.sql(f"select count(*) from {iceberg}").fetchone()[0] == n_unified
    assert rows_differ(con, iceberg, parquet_unified(lake)) == 0
    pyice = unified_table().scan().to_arrow()
    assert pyice.num_rows == n_unified
    con.register("pyice", pyice)
    assert rows_differ(con, "pyice", parquet_unified(lake)) == 0

    # raw: every bronze row, with the venue's symbol and the exact trade time
    raw = iceberg_scan_sql(metadata_locations()["raw_kraken_trades"])
    got = con.sql(f"select count(*), count(distinct symbol), min(trade_ts), "
                  f"count(*) filter (where epoch_us(trade_ts) % 1000000 = "
                  f"cast(split_part(time, '.', 2) as bigint)) from {raw}").fetchone()
    assert got[0] == 60 and got[1] == 1 and got[2] == dt.datetime(2024, 3, 1, tzinfo=dt.UTC) and got[3] == 60

    checks = [verify_source(source_for(t)) for t in first]
    assert all(c.ok for c in checks), checks

    # publishing the same data again adds nothing: no new snapshot anywhere
    again = publish(progress=False)
    assert all(r.rows == 0 and r.note.startswith("up to date") for r in again)
    assert len(list_snapshots("trades_unified")[1]) == 1

    # a new day and a rebuilt day: one more snapshot, exactly the Parquet rows
    n_unified += write_unified_day(lake, D3, {"binance": 10, "kraken": 5})
    n_unified += write_unified_day(lake, D2, {"binance": 50, "coinbase": 25, "kraken": 15}) - 80
    third = {r.table: r for r in publish(["trades_unified"], progress=False)}["trades_unified"]
    assert sorted(third.days) == [D2.isoformat(), D3.isoformat()]
    _, snaps = list_snapshots("trades_unified")
    assert [s.operation for s in snaps] == ["append", "overwrite"]
    latest = iceberg_scan_sql(metadata_locations()["trades_unified"])
    assert rows_differ(con, latest, parquet_unified(lake)) == 0
    assert con.sql(f"select count(*) from {latest}").fetchone()[0] == n_unified

    # time travel: the first snapshot still reads as it was, in DuckDB and in pyiceberg
    old = iceberg_scan_sql(metadata_locations()["trades_unified"], snaps[0].snapshot_id)
    assert con.sql(f"select count(*), max(trade_date) from {old}").fetchone() == (160, D2)
    assert unified_table().scan(snapshot_id=snaps[0].snapshot_id).to_arrow().num_rows == 160
    assert location != metadata_locations()["trades_unified"]  # a new metadata.json per commit

    # the check notices a lake that changed after publishing (same row count, other values)
    write_unified_day(lake, D3, {"binance": 5, "kraken": 10})
    changed = verify_source(UnifiedSource())
    assert changed.lake_rows == changed.duckdb_rows == changed.pyiceberg_rows and not changed.ok
    assert verify_source(UnifiedSource(), dates={D1, D2}).ok


def _publisher(args: list[str], hook: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PUBLISH_TEST_HOOK": hook}
    return subprocess.Popen([sys.executable, str(HERE / "run_publisher.py"), "-v", "publish", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_concurrent_publishers_both_land_once(any_lake: str, tmp_path: Path) -> None:
    lake = Lake.from_env()
    n1 = write_unified_day(lake, D1, {"binance": 30, "coinbase": 20})
    n2 = write_unified_day(lake, D2, {"kraken": 25, "coinbase": 10})
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    hook = f"barrier:{barrier}:2"
    procs = [_publisher(["--tables", "trades_unified", "--dates", d.isoformat()], hook) for d in (D1, D2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n=====\n".join(outputs)
    # both committed on the same base metadata: one of them had to retry on fresh metadata
    assert any("concurrent update, retrying" in o or "commit conflict" in o for o in outputs), outputs

    _, snaps = list_snapshots("trades_unified")
    assert len(snaps) == 2
    con = duck.connect()
    latest = iceberg_scan_sql(metadata_locations()["trades_unified"])
    counts = dict(con.sql(f"select trade_date, count(*) from {latest} group by 1").fetchall())
    assert counts == {D1: n1, D2: n2}
    assert rows_differ(con, latest, parquet_unified(lake)) == 0
    # and a third publisher finds nothing left to do
    assert all(r.rows == 0 for r in publish(["trades_unified"], progress=False))


def test_raw_days_grow_by_appends_and_follow_compaction(tmp_lake: Path, iceberg_env: Path) -> None:
    """Bronze is append-only: new pages of a day are appended (no rewrite); a compacted day is replaced."""
    lake = Lake.from_env()
    write_bronze_day(lake, "binance", D1, 20, first_id=1)
    publish(["raw_binance_trades"], progress=False)
    write_bronze_day(lake, "binance", D1, 15, first_id=21)  # the next pages of the same day
    write_bronze_day(lake, "binance", D2, 5, first_id=36)
    grown = publish(["raw_binance_trades"], progress=False)[0]
    assert grown.rows == 20  # only the two new files' rows were written
    _, snaps = list_snapshots("raw_binance_trades")
    assert [(s.operation, s.added_records, s.deleted_records, s.total_records) for s in snaps] == [
        ("append", 20, 0, 20), ("append", 20, 0, 40)]

    # compaction: the day's two files become one file with the same rows -> the day is replaced
    day_dir = tmp_lake / "bronze" / "raw_binance_trades" / "symbol=BTCUSDT" / f"date={D1.isoformat()}"
    for f in day_dir.iterdir():
        f.unlink()
    write_bronze_day(lake, "binance", D1, 35, first_id=1)
    compacted = publish(["raw_binance_trades"], progress=False)[0]
    assert compacted.rows == 35
    _, snaps = list_snapshots("raw_binance_trades")
    assert (snaps[-1].operation, snaps[-1].added_records, snaps[-1].deleted_records, snaps[-1].total_records) == (
        "overwrite", 35, 35, 40)
    con = duck.connect()
    raw = iceberg_scan_sql(metadata_locations()["raw_binance_trades"])
    assert con.sql(f"select count(*), count(distinct id), count(distinct _bronze_file) from {raw}").fetchone() == (
        40, 40, 2)
    assert verify_source(source_for("raw_binance_trades")).ok
