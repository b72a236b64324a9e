"""Klines / candles / OHLC are computed from the sandbox's own trades: rebuilt here from the ground-truth trades
with exact decimals, they agree field by field."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import httpx
import pytest


@pytest.fixture(scope="module")
def sb(sandbox_server):
    return sandbox_server(enforce_limits=False)


def _bars(sb, venue: str, symbol: str, seconds: int) -> dict[int, dict]:
    t = sb.market.trades(venue, symbol).to_pylist()
    out: dict[int, dict] = defaultdict(lambda: {"n": 0, "v": Decimal(0), "qv": Decimal(0), "bv": Decimal(0)})
    for r in t:
        b = out[r["time_ns"] // 10**9 // seconds * seconds]
        p, q = Decimal(r["price"]), Decimal(r["qty"])
        b.setdefault("o", p)
        b["h"] = max(b.get("h", p), p)
        b["l"] = min(b.get("l", p), p)
        b["c"] = p
        b["n"] += 1
        b["v"] += q
        b["qv"] += p * q
        if r["taker_side"] == "buy":
            b["bv"] += q
    return dict(out)


def test_binance_klines_match_trades(sb) -> None:
    truth = _bars(sb, "binance", "BTCUSDT", 60)
    rows = httpx.get(sb.url + "/binance/api/v3/klines", params={
        "symbol": "BTCUSDT", "interval": "1m", "startTime": sb.market.start_ns // 10**6, "limit": 1000}).json()
    assert len(rows) == len(truth) == 30
    for r in rows:
        b = truth[r[0] // 1000]
        assert [Decimal(x) for x in r[1:6]] == [b["o"], b["h"], b["l"], b["c"], b["v"]]
        assert r[6] == r[0] + 59_999 and r[8] == b["n"] and Decimal(r[7]) == b["qv"] and Decimal(r[9]) == b["bv"]
    page = httpx.get(sb.url + "/binance/api/v3/klines", params={
        "symbol": "BTCUSDT", "interval": "5m", "endTime": rows[-1][0], "limit": 2}).json()
    assert len(page) == 2 and page[-1][0] == rows[-1][0] // 300_000 * 300_000


def test_coinbase_candles_match_trades(sb) -> None:
    truth = _bars(sb, "coinbase", "BTC-USD", 60)
    rows = httpx.get(sb.url + "/coinbase/products/BTC-USD/candles", params={
        "granularity": 60, "start": "2025-12-31T23:30:00Z", "end": "2026-01-01T00:00:00Z"}).json()
    assert [r[0] for r in rows] == sorted(truth, reverse=True)  # newest first, no empty buckets
    for t, low, high, op, close, vol in rows:
        b = truth[t]
        assert (Decimal(str(low)), Decimal(str(high)), Decimal(str(op)), Decimal(str(close))) == \
            (b["l"], b["h"], b["o"], b["c"])
        assert vol == pytest.approx(float(b["v"]), rel=1e-12)


def test_kraken_ohlc_matches_trades(sb) -> None:
    truth = _bars(sb, "kraken", "XBTUSD", 60)
    res = httpx.get(sb.url + "/kraken/0/public/OHLC", params={"pair": "XBTUSD", "interval": 1}).json()["result"]
    rows = res["XXBTZUSD"]
    assert res["last"] == rows[-1][0] - 60
    flat = 0
    for t, o, h, low, c, vwap, vol, n in rows:
        b = truth.get(t)
        if b is None:
            flat += 1
            assert o == h == low == c and n == 0 and Decimal(vol) == 0
            continue
        assert [Decimal(x) for x in (o, h, low, c, vol)] == [b["o"], b["h"], b["l"], b["c"], b["v"]] and n == b["n"]
        assert abs(Decimal(vwap) - b["qv"] / b["v"]) <= Decimal("0.05")
    assert len(rows) - flat == len(truth)
