"""The market written straight into bronze: every table of the contract, venue-native values, lineage, and the
trades equal to the ground truth."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq

from ingest.bronze.tables import TABLES
from sandbox.bronze import write_bronze
from sandbox.market import Market
from schemahub.duck import connect
from schemahub.storage import Lake

END = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)  # window crosses midnight: two date partitions


def test_write_bronze(tmp_lake) -> None:
    market = Market(9, END - dt.timedelta(minutes=20), END)
    files = write_bronze(market, Lake.from_env(), depth_every_s=5.0)
    tables = {f.table for f in files}
    assert tables == {f"raw_{v}_{d}" for v in ("binance", "coinbase", "kraken") for d in ("trades", "klines", "depth")}
    assert {f.date for f in files if f.table == "raw_binance_trades"} == {"2025-12-31", "2026-01-01"}
    for name in tables:
        paths = [f.path for f in files if f.table == name]
        t = pq.read_table(paths[0])
        assert t.schema.names == TABLES[name].schema.names
        assert set(t.column("_source").to_pylist()) == {name.replace("raw_", "").replace("_", ".sandbox.", 1)}
        json.loads(t.column("_raw_payload")[0].as_py())
    con = connect()
    glob = f"{tmp_lake}/bronze/raw_kraken_trades/*/*/*.parquet"
    truth = market.trades("kraken", "XBTUSD")
    xbt = con.execute(f"select trade_id, volume, time, side from read_parquet('{glob}', hive_partitioning=true) "
                      "where symbol = 'XBTUSD' order by trade_id").fetchall()
    assert [r[0] for r in xbt] == truth["trade_id"].to_pylist()
    assert [r[1] for r in xbt] == truth["qty"].to_pylist() and [r[2] for r in xbt] == truth["time"].to_pylist()
    assert {r[3] for r in xbt} == {"b", "s"}
    n_depth = con.execute(f"select count(*) from read_parquet('{tmp_lake}/bronze/raw_binance_depth/*/*/*.parquet')"
                          ).fetchone()[0]
    assert n_depth == 2 * 20 * 60 // 5
