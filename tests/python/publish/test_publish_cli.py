"""The `schemahub publish` / `schemahub snapshots` commands, gold models, and the shell's look-up."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from publish_inputs import write_unified_day

from publish.catalog import metadata_locations
from publish.snapshots import iceberg_scan_sql
from schemahub import duck
from schemahub.cli import main
from schemahub.storage import Lake

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def write_gold_day(lake: Lake, day: dt.date, n: int) -> None:
    t0 = dt.datetime.combine(day, dt.time(), dt.UTC)
    tbl = pa.table({"bucket_ts": [t0 + dt.timedelta(seconds=2 * i) for i in range(n)],
                    "canonical_symbol": ["BTC-USD"] * n, "ret_2s": [0.001 * i for i in range(n)]})
    lake.write_parquet(tbl, "gold", "features_2s", f"partition_date={day.isoformat()}", "data_0.parquet")


def test_publish_and_snapshots_commands(tmp_lake: Path, iceberg_env: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unwrapped
    lake = Lake.from_env()
    write_unified_day(lake, D1, {"binance": 5, "coinbase": 4})
    write_unified_day(lake, D2, {"kraken": 3})
    write_gold_day(lake, D1, 7)
    write_gold_day(lake, D2, 6)

    assert main(["publish", "--tables", "trades_unified", "--dates", "2024-03-02", "--dry-run"]) == 0
    assert "would publish 1 of 1" in capsys.readouterr().out
    assert not (tmp_lake / "iceberg").exists()  # a dry run writes nothing, not even the catalog

    assert main(["publish", "--tables", "trades_unified", "--gold"]) == 0
    out = capsys.readouterr().out
    assert "trades_unified" in out and "features_2s" in out

    assert main(["snapshots", "trades_unified", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [s["total_records"] for s in listing["snapshots"]] == [12]
    assert listing["metadata_location"] == metadata_locations()["trades_unified"]

    con = duck.connect()
    gold = iceberg_scan_sql(metadata_locations()["features_2s"])
    assert con.sql(f"select partition_date, count(*) from {gold} group by 1 order by 1").fetchall() == [(D1, 7), (D2, 6)]

    assert main(["publish", "--tables", "trades_unified,features_2s", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "up to date" in out and out.count("│ yes ") == 2

    assert main(["snapshots", "no_such_table"]) == 1
    assert "no Iceberg table schemahub.no_such_table" in capsys.readouterr().err
    assert main(["publish", "--tables", "raw_nowhere_trades"]) == 1
    assert "unknown table 'raw_nowhere_trades'" in capsys.readouterr().err
