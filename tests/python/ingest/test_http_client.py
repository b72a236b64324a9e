"""The shared HTTP client against httpx.MockTransport: retries, Retry-After, 418 halt, Kraken in-body errors."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from ingest_core_support import FakeTime

from ingest.errors import FatalError, RetriesExhaustedError
from ingest.http import USER_AGENT, HttpClient
from ingest.ratelimit import DEFAULT_LIMITS, RateLimiter, VenueLimits

BASES = {"binance": "http://bn.test", "coinbase": "http://cb.test", "kraken": "http://kr.test"}
FAST = {v: VenueLimits(v, 1000.0, 1000.0, DEFAULT_LIMITS[v].weight_per_minute,
                       throttle_backoff_s=DEFAULT_LIMITS[v].throttle_backoff_s) for v in DEFAULT_LIMITS}


def scripted(answers: list[httpx.Response | Exception]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        a = answers[min(len(seen), len(answers)) - 1]
        if isinstance(a, Exception):
            raise a
        return a

    return httpx.MockTransport(handler), seen


def client(transport: httpx.MockTransport, ft: FakeTime, **kw: object) -> HttpClient:
    return HttpClient(transport=transport, base_urls=BASES, sleep=ft.sleep, clock=ft.clock, limits=FAST,
                      max_attempts=kw.pop("max_attempts", 5), backoff_base=0.5, backoff_cap=30.0, **kw)  # type: ignore[arg-type]


def ok(body: object, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def test_defaults_user_agent_and_timeout(fake_time: FakeTime) -> None:
    transport, seen = scripted([ok([])])
    with client(transport, fake_time) as c:
        c.get("coinbase", "/products")
        assert c.timeout == 10.0
    assert seen[0].headers["User-Agent"] == USER_AGENT and seen[0].url == "http://cb.test/products"


def test_5xx_then_success_retries_with_full_jitter(fake_time: FakeTime) -> None:
    transport, seen = scripted([httpx.Response(503, text="busy"), httpx.Response(502, text="<html>bad gateway"),
                                ok([{"x": 1}])])
    with client(transport, fake_time) as c:
        reply = c.get("coinbase", "/products")
    assert reply.data == [{"x": 1}] and reply.attempts == 3 and len(seen) == 3
    assert len(fake_time.sleeps) == 2
    assert 0 <= fake_time.sleeps[0] <= 0.5 and 0 <= fake_time.sleeps[1] <= 1.0  # uniform(0, base*2^n)


def test_retry_after_is_honoured_exactly(fake_time: FakeTime) -> None:
    transport, seen = scripted([httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "7"}),
                                ok([])])
    with client(transport, fake_time) as c:
        c.get("coinbase", "/products/BTC-USD/trades", symbol="BTC-USD")
    assert fake_time.sleeps == [7.0] and len(seen) == 2


def test_binance_418_halts_every_binance_call_until_the_ban_ends(fake_time: FakeTime) -> None:
    ban = httpx.Response(418, json={"code": -1003, "msg": "Way too much request weight used; IP banned"},
                         headers={"Retry-After": "120", "X-MBX-USED-WEIGHT-1M": "6100"})
    transport, seen = scripted([ban, ok([]), ok([])])
    with client(transport, fake_time) as c:
        c.get("binance", "/api/v3/trades", {"symbol": "BTCUSDT"}, symbol="BTCUSDT", weight=25)
        assert fake_time.sleeps == [120.0]
        assert c.limiter("binance").halted_for == 0  # the ban has passed on the fake clock
        # a ban noticed by one caller blocks the others: halt again and see another call wait it out
        c.limiter("binance").halt(60)
        c.get("binance", "/api/v3/time")
    assert fake_time.sleeps[-1] == pytest.approx(60.0)
    assert len(seen) == 3


def test_binance_418_blocks_other_threads(fake_time: FakeTime) -> None:
    real_sleeps: list[float] = []
    lim = RateLimiter(FAST["binance"], clock=fake_time.clock, sleep=lambda s: (real_sleeps.append(s),
                                                                                fake_time.sleep(s)))
    lim.halt(30)
    t = threading.Thread(target=lim.acquire)
    t.start()
    t.join(5)
    assert real_sleeps and real_sleeps[0] == pytest.approx(30.0)


def test_kraken_in_body_throttle_backs_off_then_succeeds(fake_time: FakeTime) -> None:
    transport, seen = scripted([ok({"error": ["EGeneral:Too many requests"]}),
                                ok({"error": ["EService:Unavailable"]}),
                                ok({"error": [], "result": {"unixtime": 1}})])
    with client(transport, fake_time) as c:
        reply = c.get("kraken", "/0/public/Time")
    assert reply.data["result"]["unixtime"] == 1 and len(seen) == 3
    assert fake_time.sleeps[0] >= 5.0  # throttle: several seconds at least
    assert fake_time.sleeps[1] <= 1.0  # a service error: plain jittered backoff


@pytest.mark.parametrize("body", [["EQuery:Unknown asset pair"], ["EGeneral:Invalid arguments"]])
def test_kraken_query_errors_are_fatal_at_once(fake_time: FakeTime, body: list[str]) -> None:
    transport, seen = scripted([ok({"error": body})])
    with client(transport, fake_time) as c, pytest.raises(FatalError) as err:
        c.get("kraken", "/0/public/Trades", {"pair": "NOPE"}, symbol="NOPE", cursor="since=5")
    assert len(seen) == 1 and not fake_time.sleeps
    msg = str(err.value)
    assert body[0] in msg and "venue=kraken" in msg and "symbol=NOPE" in msg and "cursor=since=5" in msg


@pytest.mark.parametrize("venue,resp,needle", [
    ("binance", httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."}), "-1121"),
    ("binance", httpx.Response(400, json={"code": -1100, "msg": "Illegal characters"}), "-1100"),
    ("coinbase", httpx.Response(404, json={"message": "NotFound"}), "NotFound"),
    ("coinbase", httpx.Response(400, json={"message": "Invalid limit"}), "Invalid limit"),
])
def test_unhealable_errors_surface_at_once(fake_time: FakeTime, venue: str, resp: httpx.Response,
                                           needle: str) -> None:
    transport, seen = scripted([resp])
    with client(transport, fake_time) as c, pytest.raises(FatalError) as err:
        c.get(venue, "/x", symbol="XYZ", cursor="fromId=9")
    assert len(seen) == 1 and not fake_time.sleeps
    assert needle in str(err.value) and f"venue={venue}" in str(err.value) and "symbol=XYZ" in str(err.value)
    assert "cursor=fromId=9" in str(err.value)


def test_html_and_truncated_bodies_are_retried(fake_time: FakeTime) -> None:
    html = httpx.Response(200, text="<!DOCTYPE html><html>520: Web server is returning an unknown error</html>")
    truncated = httpx.Response(200, text='[{"id": 1, "price": "1.0"')
    transport, seen = scripted([html, httpx.Response(520, text="<html>cloudflare</html>"), truncated, ok([1])])
    with client(transport, fake_time) as c:
        assert c.get("binance", "/api/v3/trades").data == [1]
    assert len(seen) == 4 and len(fake_time.sleeps) == 3


def test_persistent_failure_gives_up_naming_the_request(fake_time: FakeTime) -> None:
    transport, seen = scripted([httpx.Response(500, text="oops")])
    with client(transport, fake_time, max_attempts=4) as c, pytest.raises(RetriesExhaustedError) as err:
        c.get("coinbase", "/products/BTC-USD/trades", symbol="BTC-USD", cursor="after=5")
    assert len(seen) == 4 and len(fake_time.sleeps) == 3
    assert "gave up after 4 attempts" in str(err.value) and "cursor=after=5" in str(err.value)


def test_unreachable_host_is_a_clear_error(fake_time: FakeTime) -> None:
    transport, seen = scripted([httpx.ConnectError("Connection refused")])
    with client(transport, fake_time, max_attempts=3) as c, pytest.raises(RetriesExhaustedError) as err:
        c.get("kraken", "/0/public/Time")
    assert len(seen) == 3 and "connection failed" in str(err.value) and "Connection refused" in str(err.value)


def test_timeouts_are_retried(fake_time: FakeTime) -> None:
    transport, seen = scripted([httpx.ReadTimeout("stall"), ok({"serverTime": 1})])
    with client(transport, fake_time) as c:
        assert c.get("binance", "/api/v3/time").data == {"serverTime": 1}
    assert len(seen) == 2


def test_binance_weight_budget_follows_the_header(fake_time: FakeTime) -> None:
    # the server says 5690 of 6000 used: the next weight-25 call would pass 95% (5700) -> wait for the window
    transport, _seen = scripted([ok([], **{"X-MBX-USED-WEIGHT-1M": "5690"}), ok([], **{"X-MBX-USED-WEIGHT-1M": "25"})])
    with client(transport, fake_time) as c:
        c.get("binance", "/api/v3/trades", weight=25)
        assert c.limiter("binance").used_weight == 5690 and not fake_time.sleeps
        c.get("binance", "/api/v3/trades", weight=25)
        assert c.limiter("binance").used_weight == 25
    assert len(fake_time.sleeps) == 1 and 0 < fake_time.sleeps[0] <= 60.0


def test_kraken_limiter_paces_one_request_per_second(fake_time: FakeTime) -> None:
    lim = RateLimiter(DEFAULT_LIMITS["kraken"], clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(5):
        lim.acquire()
    assert sum(fake_time.sleeps) == pytest.approx(4.0)  # burst 1, then 1/s


def test_coinbase_limiter_stays_under_ten_per_second(fake_time: FakeTime) -> None:
    lim = RateLimiter(DEFAULT_LIMITS["coinbase"], clock=fake_time.clock, sleep=fake_time.sleep)
    start = fake_time.now
    sent = []
    for _ in range(300):
        lim.acquire()
        sent.append(fake_time.now)
    assert 300 / (fake_time.now - start) < 10.0  # the sustained limit
    # and no second ever carries more than the venue's burst of 15
    assert max(sum(1 for t in sent if s <= t < s + 1.0) for s in sent) <= 15


def test_decimal_floats_survive(fake_time: FakeTime) -> None:
    body = '{"error":[],"result":{"XXBTZUSD":[["1.0","2.0",1762795433.9717445,"b","l","",1]],"last":"1"}}'
    transport, _ = scripted([httpx.Response(200, text=body)])
    with client(transport, fake_time) as c:
        row = c.get("kraken", "/0/public/Trades").data["result"]["XXBTZUSD"][0]
    assert str(row[2]) == "1762795433.9717445"
    assert repr(json.loads(body)["result"]["XXBTZUSD"][0][2]) == "1762795433.9717445"  # same text, by luck...
    assert float(row[2]) * 1e9 != int(row[2] * 10**9)  # ...but a binary float loses the ns cursor digits


def test_a_long_ban_stops_the_run_instead_of_sleeping_for_days(fake_time: FakeTime) -> None:
    ban = httpx.Response(418, json={"code": -1003, "msg": "IP banned until 1767225600000"},
                         headers={"Retry-After": "259200"})
    transport, seen = scripted([ban])
    with client(transport, fake_time) as c:
        with pytest.raises(RetriesExhaustedError) as err:
            c.get("binance", "/api/v3/historicalTrades", symbol="BTCUSDT", cursor="fromId=5")
        assert "not waiting 259200s" in str(err.value) and "cursor=fromId=5" in str(err.value)
        assert c.limiter("binance").halted_for == pytest.approx(259200)
        with pytest.raises(FatalError, match="halted for 259200s more"):  # other calls stop too, at once
            c.get("binance", "/api/v3/time")
    assert len(seen) == 1 and not fake_time.sleeps
