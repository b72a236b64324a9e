"""Walking each venue's trade pagination to the end returns every simulated trade exactly once -- also while
the sandbox injects every kind of fault (an honest client retries, dedupes and stops only on an empty page)."""

from __future__ import annotations

import httpx
import pytest
from sandbox_honest import walk_binance, walk_binance_agg, walk_coinbase, walk_kraken


@pytest.fixture(scope="module")
def clean(sandbox_server):
    return sandbox_server(enforce_limits=False)


def _truth(sb, venue: str, symbol: str) -> list[int]:
    return sb.market.trades(venue, symbol)["trade_id"].to_pylist()


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_binance_fromid_walk_returns_every_trade_once(clean, symbol: str) -> None:
    truth = _truth(clean, "binance", symbol)
    with httpx.Client(timeout=10) as c:
        walk = walk_binance(c, clean.base_url("binance"), symbol, truth[0])
    assert walk.ids == truth and walk.retries == 0


def test_binance_aggtrades_cover_every_fill_once(clean) -> None:
    truth = clean.market.trades("binance", "BTCUSDT")
    with httpx.Client(timeout=10) as c:
        _walk, rows = walk_binance_agg(c, clean.base_url("binance"), "BTCUSDT", clean.market.start_ns // 1_000_000)
    fills = [i for a in rows for i in range(a["f"], a["l"] + 1)]
    assert fills == truth["trade_id"].to_pylist()
    assert [a["a"] for a in rows] == sorted({a["a"] for a in rows})
    assert sum(float(a["q"]) for a in rows) == pytest.approx(sum(float(q) for q in truth["qty"].to_pylist()))


@pytest.mark.parametrize("product", ["BTC-USD", "ETH-USD"])
def test_coinbase_after_walk_returns_every_trade_once(clean, product: str) -> None:
    truth = _truth(clean, "coinbase", product)
    with httpx.Client(timeout=10) as c:
        walk = walk_coinbase(c, clean.base_url("coinbase"), product)
    assert walk.ids == truth[::-1] and walk.retries == 0


def test_coinbase_before_cursor_returns_the_adjacent_newer_page(clean) -> None:
    truth = _truth(clean, "coinbase", "BTC-USD")
    with httpx.Client(timeout=10) as c:
        r = c.get(f"{clean.base_url('coinbase')}/products/BTC-USD/trades", params={"before": truth[10], "limit": 5})
    ids = [t["trade_id"] for t in r.json()]
    assert ids == truth[11:16][::-1]
    assert r.headers["cb-before"] == str(truth[15]) and r.headers["cb-after"] == str(truth[11])


@pytest.mark.parametrize("pair", ["XBTUSD", "XETHZUSD"])
def test_kraken_since_walk_returns_every_trade_once(clean, pair: str) -> None:
    truth = _truth(clean, "kraken", pair)
    with httpx.Client(timeout=10) as c:
        walk = walk_kraken(c, clean.base_url("kraken"), pair)
    assert walk.ids == truth and walk.retries == 0


def test_kraken_small_pages_never_split_a_timestamp(clean) -> None:
    """With count=3 pages, `since=<last>` (exclusive) still returns every trade exactly once."""
    truth = _truth(clean, "kraken", "XBTUSD")
    with httpx.Client(timeout=10) as c:
        walk, since, ids = 0, "0", []
        while walk < 10_000:
            walk += 1
            res = c.get(f"{clean.base_url('kraken')}/0/public/Trades",
                        params={"pair": "XBTUSD", "since": since, "count": 3}).json()["result"]
            if not res["XXBTZUSD"]:
                break
            ids += [r[6] for r in res["XXBTZUSD"]]
            since = res["last"]
    assert ids == truth


def test_every_fault_kind_and_still_every_trade_once(sandbox_server) -> None:
    sb = sandbox_server(enforce_limits=False, fault_rate=0.35, fault_seed=11, stall_seconds=0.6, overlap_trades=7)
    with httpx.Client(timeout=0.3) as c:
        b = walk_binance(c, sb.base_url("binance"), "BTCUSDT", _truth(sb, "binance", "BTCUSDT")[0], limit=500)
        cb = walk_coinbase(c, sb.base_url("coinbase"), "BTC-USD", limit=300)
        k = walk_kraken(c, sb.base_url("kraken"), "XBTUSD")
    assert b.ids == _truth(sb, "binance", "BTCUSDT")
    assert sorted(cb.ids) == _truth(sb, "coinbase", "BTC-USD") and len(cb.ids) == len(set(cb.ids))
    assert k.ids == _truth(sb, "kraken", "XBTUSD")
    kinds = {e.kind for e in sb.fault_log}
    assert len(kinds) >= 4 and {"repeat", "overlap"} <= kinds, kinds  # (each kind alone: test_faults.py)
