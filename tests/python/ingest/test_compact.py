"""`compact`: same rows before and after, fewer files, idempotent, crash-safe; local disk and moto S3."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from ingest.bronze.writer import BronzeWriter
from ingest.compact import MANIFEST, compact, compact_partition, plan_groups
from schemahub.cli import main
from schemahub.storage import Lake

T0 = 1717200000000  # 2024-06-01 00:00 UTC, ms


def _write_small_files(lake: Lake) -> None:
    w = BronzeWriter(lake)
    for start in (0, 10, 20, 30, 37, 47):  # six small pages of trades on one day, one overlapping the previous
        recs = [{"id": i, "price": f"{60000 + i}.5", "qty": "0.01", "quoteQty": "600.005", "time": T0 + i * 1000,
                 "isBuyerMaker": bool(i % 2), "isBestMatch": True, "_raw_payload": json.dumps({"id": i})}
                for i in range(start, start + 10)]
        w.write("raw_binance_trades", "BTCUSDT", w.to_arrow("raw_binance_trades", recs,
                                                            source="binance.rest.historicalTrades"))
    base = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    for batch in range(3):  # kraken depth: timestamp cursor
        recs = [{"bids": [["1.0", "2.0"]], "asks": [["1.1", "3.0"]], "checksum": batch * 10 + i,
                 "_recv_ts": base + dt.timedelta(seconds=batch * 10 + i), "_raw_payload": "{}"} for i in range(4)]
        w.write("raw_kraken_depth", "XBTUSD", w.to_arrow("raw_kraken_depth", recs, source="kraken.rest.Depth"))


def _rows(lake: Lake) -> list[tuple]:
    out = []
    for path in lake.list_files("bronze", suffix=".parquet"):
        with lake.fs.open_input_file(lake.fs_path(path)) as fh:
            tbl = pq.read_table(fh)
        part = "/".join(path.split("/")[:4])
        for r in tbl.to_pylist():
            out.append((part, *(json.dumps(v, default=str, sort_keys=True) for v in r.values())))
    return sorted(out)


def _files(lake: Lake) -> list[str]:
    return lake.list_files("bronze", suffix=".parquet")


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest) -> Lake:
    request.getfixturevalue("tmp_lake" if request.param == "local" else "s3_lake")
    return Lake.from_env()


def test_compact_merges_small_files_keeps_rows_idempotent(lake: Lake) -> None:
    _write_small_files(lake)
    before_rows, before_files = _rows(lake), _files(lake)
    assert len(before_files) == 9
    results = compact(lake, target_rows=1000)
    assert {(r.table, r.files_before, r.files_after) for r in results} == {
        ("raw_binance_trades", 6, 1), ("raw_kraken_depth", 3, 1)}
    after_files = _files(lake)
    assert len(after_files) == 2
    trades_file = next(f for f in after_files if "raw_binance_trades" in f)
    assert trades_file.endswith("/compacted-60__0__56.parquet")  # rows and first/last cursor, like the writer
    assert _rows(lake) == before_rows  # the same row multiset (the overlapping page's repeats included)
    assert not lake.exists("bronze/raw_binance_trades/symbol=BTCUSDT/date=2024-06-01/" + MANIFEST)
    # covered ranges still come from names alone
    assert BronzeWriter(lake).covered_ranges("raw_binance_trades", "BTCUSDT") == [(0, 56)]
    # a re-run changes nothing
    again = compact(lake, target_rows=1000)
    assert all(not r.merged and not r.recovered for r in again)
    assert _files(lake) == after_files and _rows(lake) == before_rows


def test_crash_between_write_and_delete_loses_nothing_and_rerun_converges(lake: Lake) -> None:
    _write_small_files(lake)
    before_rows = _rows(lake)

    def crash(path: str) -> None:
        raise KeyboardInterrupt("simulated crash after the merged file was written")

    with pytest.raises(KeyboardInterrupt):
        compact_partition(lake, "raw_binance_trades", "BTCUSDT", "2024-06-01", target_rows=1000, after_write=crash)
    # merged file and every source present: duplicated, never lost
    after_crash = _rows(lake)
    assert set(before_rows) <= set(after_crash) and len(after_crash) == len(before_rows) + 60
    assert lake.exists("bronze/raw_binance_trades/symbol=BTCUSDT/date=2024-06-01/" + MANIFEST)
    results = compact(lake, target_rows=1000)
    assert any(r.recovered for r in results)
    assert _rows(lake) == before_rows
    assert len(_files(lake)) == 2


def test_crash_before_the_merged_file_is_complete_leaves_sources(tmp_lake, monkeypatch) -> None:
    lake = Lake.from_env()
    _write_small_files(lake)
    before_rows, before_files = _rows(lake), _files(lake)

    def broken_write(self, table, *parts, **kw):  # dies while writing: the atomic write never lands
        raise OSError("disk full")

    monkeypatch.setattr(Lake, "write_parquet", broken_write)
    with pytest.raises(OSError):
        compact(lake, target_rows=1000)
    assert _files(lake) == before_files and _rows(lake) == before_rows
    monkeypatch.undo()
    compact(lake, target_rows=1000)
    assert _rows(lake) == before_rows and len(_files(lake)) == 2


def test_groups_reach_the_target_and_big_files_stay(tmp_lake) -> None:
    from ingest.compact import SourceFile

    files = [SourceFile(f"f{i}", rows, i * 100, i * 100 + 99) for i, rows in enumerate([40, 40, 500, 30, 30, 10])]
    groups = plan_groups(files, target_rows=100)
    assert [[f.path for f in g] for g in groups] == [["f0", "f1", "f3"], ["f4", "f5"]]
    # trade ids: f0 [0..99], f1 [100..199] touch; f3 starts at 300 after a hole (f2 is big and stays)
    groups = plan_groups(files, target_rows=100, contiguous=True)
    assert [[f.path for f in g] for g in groups] == [["f0", "f1"], ["f3", "f4", "f5"]]


def test_trade_files_around_a_hole_are_not_merged(tmp_lake) -> None:
    lake = Lake.from_env()
    w = BronzeWriter(lake)
    for start in (0, 10, 30):  # ids 20..29 were never fetched
        recs = [{"id": i, "price": "1", "qty": "1", "quoteQty": "1", "time": T0 + i, "isBuyerMaker": True,
                 "isBestMatch": True, "_raw_payload": "{}"} for i in range(start, start + 10)]
        w.write("raw_binance_trades", "BTCUSDT", w.to_arrow("raw_binance_trades", recs, source="s"))
    compact(lake, target_rows=1000)
    assert w.covered_ranges("raw_binance_trades", "BTCUSDT") == [(0, 19), (30, 39)]


def test_cli_compact_and_bad_table(tmp_lake, capsys) -> None:
    _write_small_files(Lake.from_env())
    assert main(["compact", "--table", "raw_binance_trades", "--dry-run", "--target-rows", "1000"]) == 0
    assert "would merge 6 -> 1 files, 60 rows" in capsys.readouterr().out
    assert len(_files(Lake.from_env())) == 9
    assert main(["compact", "--table", "raw_binance_trades", "--symbol", "BTCUSDT", "--date", "2024-06-01",
                 "--target-rows", "1000"]) == 0
    assert "merged 6 -> 1 files" in capsys.readouterr().out
    assert main(["compact", "--table", "raw_nope"]) == 1
    assert "unknown bronze table" in capsys.readouterr().err
