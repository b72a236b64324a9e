"""Coinbase has no time filter on trades: the start of a window is found by binary search over trade ids.
A fake Coinbase on httpx.MockTransport that sometimes answers stale or overlapping pages must not mislead it."""

from __future__ import annotations

import datetime as dt
import itertools

import httpx
import pytest
from ingest_core_support import FakeTime

from ingest.connectors.coinbase import Coinbase
from ingest.http import HttpClient
from ingest.ratelimit import VenueLimits

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
N = 5000


def trade(i: int) -> dict:
    # two trades per second, so several ids share a second
    t = T0 + dt.timedelta(milliseconds=500 * i)
    return {"time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "trade_id": i, "price": "100.00", "size": "1.0",
            "side": "buy"}


def fake_coinbase(faulty: bool) -> tuple[httpx.MockTransport, list[str]]:
    calls: list[str] = []
    stale = [trade(7)]
    cycle = itertools.cycle(["stale", "ok", "ok", "overlap", "ok", "stale", "ok"] if faulty else ["ok"])

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(str(req.url))
        after = int(req.url.params.get("after", N + 1))
        limit = int(req.url.params.get("limit", 1000))
        kind = next(cycle)
        if kind == "stale":
            return httpx.Response(200, json=stale)
        hi = after + 5 if kind == "overlap" else after  # an overlapping page starts newer than the cursor
        ids = [i for i in range(min(hi, N + 1) - 1, 0, -1)][:limit]
        return httpx.Response(200, json=[trade(i) for i in ids])

    return httpx.MockTransport(handler), calls


@pytest.mark.parametrize("faulty", [False, True])
@pytest.mark.parametrize("offset_s", [0.0, 0.25, 0.5, 1234.5, 2499.5])
def test_first_trade_id_at(faulty: bool, offset_s: float, fake_time: FakeTime) -> None:
    transport, calls = fake_coinbase(faulty)
    when = T0 + dt.timedelta(seconds=offset_s)
    expected = next(i for i in range(1, N + 1) if T0 + dt.timedelta(milliseconds=500 * i) >= when)
    with HttpClient(transport=transport, base_urls={"coinbase": "http://cb.test"}, sleep=fake_time.sleep,
                    clock=fake_time.clock, limits={"coinbase": VenueLimits("coinbase", 1e6, 1e6)}) as client:
        assert Coinbase(client).first_trade_id_at("BTC-USD", when) == expected
    assert len(calls) < 80  # log2(5000) probes, plus confirmations


def test_no_trade_that_late(fake_time: FakeTime) -> None:
    transport, _ = fake_coinbase(False)
    with HttpClient(transport=transport, base_urls={"coinbase": "http://cb.test"}, sleep=fake_time.sleep,
                    clock=fake_time.clock) as client:
        assert Coinbase(client).first_trade_id_at("BTC-USD", T0 + dt.timedelta(days=1)) is None
