"""Every fault kind can be produced (by rate and seed, and on demand), exactly as documented in sandbox/faults.py,
and the fault sequence is deterministic given the fault seed and the request order."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.faults import FAULT_KINDS, FaultPlan

TRADES = "/binance/api/v3/historicalTrades"


def _page(c: httpx.Client, sb, from_id: int | None = None, limit: int = 50) -> httpx.Response:
    params = {"symbol": "BTCUSDT", "limit": limit, **({"fromId": from_id} if from_id is not None else {})}
    return c.get(sb.url + TRADES, params=params)


def test_fault_plan_is_deterministic_and_respects_kinds() -> None:
    a = [FaultPlan(0.3, 5).draw(n, set(FAULT_KINDS)) for n in range(1, 400)]
    b = [FaultPlan(0.3, 5).draw(n, set(FAULT_KINDS)) for n in range(1, 400)]
    c = [FaultPlan(0.3, 6).draw(n, set(FAULT_KINDS)) for n in range(1, 400)]
    assert a == b != c
    assert set(a) == {None, *FAULT_KINDS}
    assert 0.2 < sum(k is not None for k in a) / len(a) < 0.4
    only = [FaultPlan(1.0, 5, ("5xx", "html")).draw(n, {"5xx", "html", "stall"}) for n in range(1, 50)]
    assert set(only) == {"5xx", "html"}
    assert FaultPlan(1.0, 5, ("repeat",)).draw(1, {"5xx"}) is None  # not applicable => no fault
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan(0.1, 1, ("boom",))


def test_each_kind_by_rate(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False, fault_rate=0.5, fault_seed=3, stall_seconds=0.3)
    first = sb.market.trades("binance", "BTCUSDT")["trade_id"][0].as_py()
    with httpx.Client(timeout=5) as c:
        for i in range(120):
            _page(c, sb, first + 50 * (i % 7))
            if {e.kind for e in sb.fault_log} == set(FAULT_KINDS):
                break
    assert {e.kind for e in sb.fault_log} == set(FAULT_KINDS)


def test_5xx_and_html(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False)
    with httpx.Client(timeout=5) as c:
        seen = set()
        for _ in range(12):
            sb.inject("5xx", venue="binance")
            r = _page(c, sb)
            assert r.status_code in (502, 503, 504)
            assert r.headers["X-SchemaHub-Sandbox"] == "simulated"
            if r.status_code == 503:
                assert r.json()["code"] == -1008
            seen.add(r.status_code)
        assert len(seen) >= 2
        sb.inject("html", venue="coinbase")
        r = c.get(sb.url + "/coinbase/products/BTC-USD/trades")
        assert r.status_code == 520 and r.headers["content-type"].startswith("text/html") and "<html" in r.text
        kraken_answers = set()
        for _ in range(30):
            sb.inject("5xx", venue="kraken")
            r = c.get(sb.url + "/kraken/0/public/Time")
            kraken_answers.add((r.status_code, r.text if r.status_code == 200 else ""))
        assert (200, '{"error":["EService:Unavailable"]}') in kraken_answers


def test_stall_outlasts_the_client_timeout(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False, stall_seconds=0.8)
    sb.inject("stall")
    with httpx.Client(timeout=0.3) as c, pytest.raises(httpx.TimeoutException):
        _page(c, sb)
    with httpx.Client(timeout=5) as c:
        assert _page(c, sb).status_code == 200


def test_truncated_json(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False)
    sb.inject("truncated", venue="kraken")
    with httpx.Client(timeout=5) as c:
        r = c.get(sb.url + "/kraken/0/public/Trades", params={"pair": "XBTUSD", "since": "0"})
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_repeat_serves_the_previous_page_again(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False)
    with httpx.Client(timeout=5) as c:
        p1 = c.get(sb.url + "/coinbase/products/BTC-USD/trades", params={"limit": 100})
        sb.inject("repeat")
        p2 = c.get(sb.url + "/coinbase/products/BTC-USD/trades", params={"limit": 100, "after": p1.headers["cb-after"]})
    assert p2.content == p1.content and p2.headers["cb-after"] == p1.headers["cb-after"]  # no progress: retry
    assert [e.kind for e in sb.fault_log] == ["repeat"]


def test_overlap_starts_before_the_cursor(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False, overlap_trades=4)
    ids = sb.market.trades("kraken", "XBTUSD")["trade_id"].to_pylist()
    with httpx.Client(timeout=5) as c:
        r1 = c.get(sb.url + "/kraken/0/public/Trades", params={"pair": "XBTUSD", "since": "0", "count": 20}).json()
        sb.inject("overlap")
        r2 = c.get(sb.url + "/kraken/0/public/Trades",
                   params={"pair": "XBTUSD", "since": r1["result"]["last"], "count": 20}).json()
        first_b = sb.market.trades("binance", "BTCUSDT")["trade_id"][100].as_py()
        sb.inject("overlap")
        b = _page(c, sb, first_b).json()
    got1 = [x[6] for x in r1["result"]["XXBTZUSD"]]
    got2 = [x[6] for x in r2["result"]["XXBTZUSD"]]
    assert got2[:4] == got1[-4:] and got2[4] == ids[len(got1)]  # 4 repeated rows, then the new ones
    assert b[0]["id"] == first_b - 4
