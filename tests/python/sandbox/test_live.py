"""live=True: only trades with event time <= wall-clock now are visible, and new ones keep arriving."""

from __future__ import annotations

import datetime as dt
import time

import httpx


def test_live_reveals_trades_as_time_passes(sandbox_server) -> None:
    now = dt.datetime.now(dt.UTC)
    sb = sandbox_server(start=now - dt.timedelta(minutes=5), end=now + dt.timedelta(minutes=5), live=True,
                        enforce_limits=False)
    total = sb.market.trades("binance", "BTCUSDT").num_rows
    with httpx.Client(timeout=10) as c:
        first = c.get(sb.url + "/binance/api/v3/trades", params={"symbol": "BTCUSDT", "limit": 5}).json()
        assert first[-1]["time"] <= time.time() * 1000
        time.sleep(2.5)
        later = c.get(sb.url + "/binance/api/v3/trades", params={"symbol": "BTCUSDT", "limit": 5}).json()
        kraken = c.get(sb.url + "/kraken/0/public/Trades", params={"pair": "XBTUSD", "since": "0"}).json()
    assert later[-1]["id"] > first[-1]["id"]
    assert later[-1]["time"] <= time.time() * 1000
    ids = sb.market.trades("binance", "BTCUSDT")["trade_id"].to_pylist()
    assert ids.index(later[-1]["id"]) < total - 100  # the future part of the window stays hidden
    assert all(float(r[2]) <= time.time() for r in kraken["result"]["XXBTZUSD"])
