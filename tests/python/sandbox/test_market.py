"""The simulated market: determinism, invariants, calibrated shape, and an honest but modest signal."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pyarrow as pa
import pytest

from sandbox.market import STEP_NS, Market
from sandbox.specs import MARKETS

END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
VENUE_SYMBOLS = [(m.venue, m.symbol) for m in MARKETS.values()]


def _digest(market: Market) -> str:
    h = hashlib.sha256()
    for venue, symbol in VENUE_SYMBOLS:
        sink = pa.BufferOutputStream()
        table = market.trades(venue, symbol)
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(7, END - dt.timedelta(hours=1), END)


def test_same_seed_and_window_give_identical_bytes(market: Market) -> None:
    again = Market(7, END - dt.timedelta(hours=1), END)
    assert _digest(again) == _digest(market)
    other = Market(8, END - dt.timedelta(hours=1), END)
    assert _digest(other) != _digest(market)


@pytest.mark.parametrize(("venue", "symbol"), VENUE_SYMBOLS)
def test_trades_at_the_touch_and_books_never_cross(market: Market, venue: str, symbol: str) -> None:
    tape = market.tape(venue, symbol)
    assert (tape.bid < tape.ask).all()
    assert np.array_equal(tape.price, np.where(tape.buy, tape.ask[tape.step], tape.bid[tape.step]))
    assert (np.diff(tape.trade_id) == 1).all() and tape.trade_id[0] > 10_000_000
    assert (np.diff(tape.t_ns) >= 0).all()
    assert tape.t_ns[0] >= market.start_ns and tape.t_ns[-1] < market.end_ns
    assert (np.diff(tape.update_id) >= 1).all() and (np.diff(tape.sequence) >= 1).all()
    book = market.book(venue, symbol, market.start_ns + 1234 * STEP_NS, depth=25)
    assert len(book.bids) == len(book.asks) == 25
    bids, asks = [p for p, _ in book.bids], [p for p, _ in book.asks]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert all(q > 0 for _, q in book.bids + book.asks)
    assert (bids[0], asks[0]) == (tape.bid[1234], tape.ask[1234])


def test_rates_follow_the_spec(market: Market) -> None:
    for spec in MARKETS.values():
        rate = len(market.tape(spec.venue, spec.symbol).t_ns) / 3600
        assert 0.6 * spec.fills_per_s < rate < 1.5 * spec.fills_per_s, (spec.venue, spec.symbol, rate)
    b, c, k = (len(market.tape(v, "BTC").t_ns) for v in ("binance", "coinbase", "kraken"))
    assert b > c > k


def test_venues_follow_the_latent_price_with_their_lags(market: Market) -> None:
    """Binance leads: its mid changes correlate best with the latent price changes of the same step."""
    lat = np.exp(market.latent("BTC").logp)
    d_lat = np.diff(lat[::5])  # 0.5 s returns
    corr = {}
    for venue in ("binance", "coinbase", "kraken"):
        t = market.tape(venue, "BTC")
        mid = (t.bid + t.ask) / 2 * t.spec.tick
        corr[venue] = np.corrcoef(d_lat[:-1], np.diff(mid[::5])[1:])[0, 1]  # venue moves 0.5 s after latent
    assert corr["kraken"] > corr["binance"], corr  # slower venues react later


def test_order_flow_carries_a_modest_signal() -> None:
    """Signed trade flow and touch imbalance over the last 10 s predict the next 10 s mid return: IC > 0, < 0.5."""
    m = Market(3, END - dt.timedelta(hours=3), END)
    t = m.tape("binance", "BTC")
    mid = (t.bid + t.ask) / 2.0
    per = 100  # 10 s in steps
    n = len(mid) // per
    signed = np.bincount(t.step // per, weights=np.where(t.buy, 1.0, -1.0), minlength=n)[:n]
    imb = np.log(t.bid_top / t.ask_top)[::per][:n]
    fwd = np.log(mid[per::per][: n - 1] / mid[: n * per : per][: n - 1])
    from scipy.stats import spearmanr

    ic_flow = spearmanr(signed[: n - 1], fwd).statistic
    ic_imb = spearmanr(imb[: n - 1], fwd).statistic
    assert 0.02 < ic_flow < 0.5, ic_flow
    assert 0.02 < ic_imb < 0.5, ic_imb


def test_ground_truth_table_is_venue_native(market: Market) -> None:
    b = market.trades("binance", "BTCUSDT").slice(0, 1).to_pylist()[0]
    c = market.trades("coinbase", "BTC-USD").slice(0, 1).to_pylist()[0]
    k = market.trades("kraken", "XBTUSD").slice(0, 1).to_pylist()[0]
    assert b["time"] == str(b["time_ns"] // 1_000_000) and b["price"].count(".") == 1 and len(b["qty"]) >= 10
    assert c["time"].endswith("Z") and "T" in c["time"]
    assert k["time"].split(".")[0] == str(k["time_ns"] // 10**9)


def test_a_bad_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window is empty"):
        Market(1, END, END)
    with pytest.raises(ValueError, match="unknown sandbox asset"):
        Market(1, END - dt.timedelta(minutes=1), END, ("DOGE",))


@pytest.mark.parametrize("seed", [7, 11])
def test_trade_times_never_go_back_in_trade_id_order(seed: int) -> None:
    """A matching engine numbers fills in time order, so the venue's own time (at the precision it prints)
    never decreases with the trade id: Coinbase's per-fill µs stamps once broke this (seed 11)."""
    m = Market(seed, END - dt.timedelta(hours=6), END, assets=("BTC",))
    for venue, symbol in VENUE_SYMBOLS:
        if not symbol.startswith(("BTC", "XBT")):
            continue
        t = m.trades(venue, symbol)
        ids = t.column("trade_id").to_numpy()
        times = t.column("time_ns").to_numpy() // 1000  # µs: the finest precision any venue prints
        order = np.argsort(ids, kind="stable")
        assert (np.diff(times[order]) >= 0).all(), f"{venue} {symbol}: time goes back in trade-id order"
