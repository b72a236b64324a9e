"""Bad bronze values never become NULL silently: the mapping stops the build naming the table, column and value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ingest.bronze.writer import BronzeWriter


def test_unknown_side_value_and_unmapped_symbol_stop_the_build(tmp_lake: Path, dbt_local) -> None:
    writer = BronzeWriter()
    ok = {"price": "93000.1", "volume": "0.5", "time": "1735689600.1234567", "side": "b", "ordertype": "l", "misc": "",
          "trade_id": 1}
    bad_side = {**ok, "trade_id": 2, "side": "x"}
    recs = [{**r, "_raw_payload": json.dumps(r)} for r in (ok, bad_side)]
    writer.write("raw_kraken_trades", "XBTUSD", writer.to_arrow(
        "raw_kraken_trades", recs, source="kraken.rest.Trades", ingest_ts=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)))
    unknown = {"trade_id": 5, "price": "1.5", "size": "2", "time": "2025-01-01T00:00:01Z", "side": "buy"}
    writer.write("raw_coinbase_trades", "FOO-USD", writer.to_arrow(
        "raw_coinbase_trades", [{**unknown, "_raw_payload": json.dumps(unknown)}], source="coinbase.rest.trades"))

    with pytest.raises(pytest.fail.Exception) as err:
        dbt_local("build", "-s", "+trades_unified", "--indirect-selection", "cautious")
    message = str(err.value)
    assert ("raw_kraken_trades: unknown side value x" in message
            or "raw_coinbase_trades: symbol FOO-USD of venue coinbase is not in seeds/symbol_map.csv" in message)
    # nothing half-written: the failed model left no silver files
    silver = tmp_lake / "silver"
    assert not silver.exists() or not list(silver.rglob("*.parquet"))
