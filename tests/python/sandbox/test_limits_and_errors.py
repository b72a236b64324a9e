"""Rate-limit behaviour (Binance weights 429 -> 418, Coinbase 429, Kraken EGeneral inside HTTP 200) and the
venues' own error bodies for unknown symbols and bad parameters."""

from __future__ import annotations

import httpx
import pytest

from sandbox.limits import BinanceWeights, TokenBucket


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_binance_weights_429_then_418_then_reset() -> None:
    clock = FakeClock(600.0)  # start of a 60 s window
    w = BinanceWeights(limit=100, window_s=60, ban_s=120, grace=2, clock=clock)
    assert [w.admit(25).status for _ in range(4)] == [200] * 4
    v = w.admit(25)
    assert (v.status, v.retry_after, v.used) == (429, 60, 125)
    clock.t += 10
    assert [w.admit(1).status for _ in range(3)] == [429, 429, 418]  # kept calling while told to back off
    ban = w.admit(1)
    assert ban.status == 418 and 100 < ban.retry_after <= 120
    clock.t += 121
    assert w.admit(1).status == 200 and w.used() == 1  # ban over, new window


def test_token_bucket_refills_and_debits_refusals() -> None:
    clock = FakeClock()
    b = TokenBucket(rate=1.0, burst=2.0, debit_refusals=True, clock=clock)
    assert [b.take() for _ in range(4)] == [True, True, False, False]
    clock.t += 1.0
    assert not b.take()  # the refusals dug a hole: hammering keeps you blocked longer
    clock.t += 5.0
    assert b.take()


def test_binance_over_the_http_api(sandbox_server) -> None:
    sb = sandbox_server(limit_scale=100 / 6000, binance_ban_s=30, binance_window_s=3600)  # 100 weight per window
    url = sb.url + "/binance/api/v3/historicalTrades"
    with httpx.Client(timeout=5) as c:
        first = c.get(sb.url + "/binance/api/v3/ping")
        assert first.headers["X-MBX-USED-WEIGHT-1M"] == "1" and first.json() == {}
        statuses = []
        for _ in range(12):
            r = c.get(url, params={"symbol": "BTCUSDT", "limit": 10})
            statuses.append(r.status_code)
            assert "X-MBX-USED-WEIGHT-1M" in r.headers
            if r.status_code == 429:
                assert r.json()["code"] == -1003 and int(r.headers["Retry-After"]) >= 1
            if r.status_code == 418:
                assert r.json()["code"] == -1003 and "banned until" in r.json()["msg"]
                assert 1 <= int(r.headers["Retry-After"]) <= 30
                break
    assert statuses[:3] == [200] * 3 and 429 in statuses and statuses[-1] == 418


def test_coinbase_429(sandbox_server) -> None:
    sb = sandbox_server(limit_scale=0.2)  # 2 req/s, burst 3
    with httpx.Client(timeout=5) as c:
        codes = [c.get(sb.url + "/coinbase/products").status_code for _ in range(8)]
        r = c.get(sb.url + "/coinbase/products")
    assert codes[:3] == [200] * 3 and 429 in codes
    if r.status_code == 429:
        assert r.json() == {"message": "Public rate limit exceeded"}


def test_kraken_throttle_is_an_error_inside_http_200(sandbox_server) -> None:
    sb = sandbox_server()
    with httpx.Client(timeout=5) as c:
        answers = [c.get(sb.url + "/kraken/0/public/Trades", params={"pair": "XBTUSD", "count": 5})
                   for _ in range(6)]
    assert all(a.status_code == 200 for a in answers)
    assert answers[0].json()["error"] == []
    assert {"error": ["EGeneral:Too many requests"]} in [a.json() for a in answers]


@pytest.mark.parametrize(("path", "params", "status", "body"), [
    ("/binance/api/v3/trades", {"symbol": "DOGEUSDT"}, 400, {"code": -1121, "msg": "Invalid symbol."}),
    ("/binance/api/v3/trades", {}, 400, {"code": -1102}),
    ("/binance/api/v3/historicalTrades", {"symbol": "BTCUSDT", "fromId": "abc"}, 400, {"code": -1100}),
    ("/binance/api/v3/historicalTrades", {"symbol": "BTCUSDT", "limit": "5000"}, 400, {"code": -1130}),
    ("/binance/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"}, 400, {"code": -1120, "msg": "Invalid interval."}),
    ("/binance/api/v3/aggTrades", {"symbol": "BTCUSDT", "fromId": "1", "startTime": "1"}, 400, {"code": -1128}),
    ("/binance/api/v3/nothing", {}, 404, {}),
    ("/coinbase/products/DOGE-USD/trades", {}, 404, {"message": "NotFound"}),
    ("/coinbase/products/DOGE-USD", {}, 404, {"message": "NotFound"}),
    ("/coinbase/products/BTC-USD/trades", {"limit": "2000"}, 400, {}),
    ("/coinbase/products/BTC-USD/candles", {"granularity": "61"}, 400, {"message": "Unsupported granularity"}),
    ("/coinbase/products/BTC-USD/candles", {"granularity": "60", "start": "2025-12-31T00:00:00Z",
                                            "end": "2026-01-01T00:00:00Z"}, 400, {}),
    ("/kraken/0/public/Trades", {"pair": "DOGEUSD"}, 200, {"error": ["EQuery:Unknown asset pair"]}),
    ("/kraken/0/public/Trades", {}, 200, {"error": ["EGeneral:Invalid arguments"]}),
    ("/kraken/0/public/Trades", {"pair": "XBTUSD", "count": "0"}, 200, {"error": ["EGeneral:Invalid arguments"]}),
    ("/kraken/0/public/OHLC", {"pair": "XBTUSD", "interval": "2"}, 200, {"error": ["EGeneral:Invalid arguments"]}),
    ("/kraken/0/public/Nope", {}, 404, {"error": ["EGeneral:Unknown method"]}),
])
def test_error_bodies(sandbox_server, path: str, params: dict, status: int, body: dict) -> None:
    sb = _errors_server(sandbox_server)
    r = httpx.get(sb.url + path, params=params, timeout=5)
    assert r.status_code == status, r.text
    got = r.json()
    for k, v in body.items():
        assert got[k] == v, got
    assert r.headers["X-SchemaHub-Sandbox"] == "simulated"
    if path.startswith("/binance"):
        assert set(got) == {"code", "msg"}
    elif path.startswith("/coinbase"):
        assert set(got) == {"message"}
    else:
        assert set(got) == {"error"}


_ERR: dict[str, object] = {}


def _errors_server(factory):
    if "sb" not in _ERR:
        _ERR["sb"] = factory(enforce_limits=False)
    return _ERR["sb"]
