"""Real recorded REST trades of the three venues (../shared/data/real) through bronze into Iceberg:
every row arrives, with the exact trade time of each venue's own time form (skips when the data is absent)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from ingest.bronze.writer import BronzeWriter
from publish.catalog import metadata_locations
from publish.publisher import publish
from publish.snapshots import iceberg_scan_sql
from publish.sources import source_for
from publish.verify import verify_source
from schemahub import duck
from schemahub.storage import Lake

KRAKEN_FIELDS = ("price", "volume", "time", "side", "ordertype", "misc", "trade_id")


def _us(value: dt.datetime) -> int:
    return int((value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))


def test_real_trades_of_three_venues(real_data: Path, tmp_lake: Path, iceberg_env: Path) -> None:
    writer = BronzeWriter(Lake.from_env())
    expected: dict[str, dict[int, int]] = {}  # table -> trade id -> trade time in µs since the epoch

    binance = json.loads((real_data / "nautilus-binance-rest" / "http_spot_market_trades.json").read_text())
    recs = [{**t, "_raw_payload": json.dumps(t)} for t in binance]
    writer.write("raw_binance_trades", "BTCUSDT", writer.to_arrow("raw_binance_trades", recs, source="binance.rest.trades"))
    expected["raw_binance_trades"] = {t["id"]: t["time"] * 1000 for t in binance}

    pages = json.loads((real_data / "coinbase-pro-node-rest-trades" / "pubclient_stream_trades.json").read_text())
    coinbase = [t for p in pages if p["status"] == 200 for t in p["response"]]
    recs = [{**t, "_raw_payload": json.dumps(t)} for t in coinbase]
    writer.write("raw_coinbase_trades", "BTC-USD",
                 writer.to_arrow("raw_coinbase_trades", recs, source="coinbase.rest.trades"))
    expected["raw_coinbase_trades"] = {
        t["trade_id"]: _us(dt.datetime.fromisoformat(t["time"].replace("Z", "+00:00"))) for t in coinbase}

    text = (real_data / "nautilus-kraken-rest" / "http_trades.json").read_text()
    rows = json.loads(text, parse_float=Decimal)["result"]["XBTUSDT"]  # times keep every digit (as text)
    recs = [{**dict(zip(KRAKEN_FIELDS, [str(v) if i < 6 else v for i, v in enumerate(r)], strict=True)),
             "_raw_payload": json.dumps([str(v) for v in r])} for r in rows]
    writer.write("raw_kraken_trades", "XBTUSDT", writer.to_arrow("raw_kraken_trades", recs, source="kraken.rest.trades"))
    expected["raw_kraken_trades"] = {r[6]: int(Decimal(r[2]) * 1_000_000) for r in rows}  # cut to µs

    results = {r.table: r for r in publish(list(expected), progress=False)}
    con = duck.connect()
    for table, want in expected.items():
        assert results[table].rows == len(want), table
        rel = iceberg_scan_sql(metadata_locations()[table])
        id_col = "id" if table == "raw_binance_trades" else "trade_id"
        got = dict(con.sql(f"select {id_col}, epoch_us(trade_ts) from {rel}").fetchall())
        assert got == want, table
        assert verify_source(source_for(table)).ok, table
