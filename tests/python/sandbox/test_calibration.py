"""The calibration measurements re-run and the matched statistics stay close to the real samples
(see sandbox/CALIBRATION.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox import calibration as cal
from sandbox.market import Market


@pytest.fixture(scope="module")
def market() -> Market:
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Market(7, end - dt.timedelta(hours=1), end)


def test_binance_shape_matches_the_real_ticks(real_data, market) -> None:
    real_trades, real_quotes = cal.real_binance(real_data)
    real = cal.trade_stats(real_trades, 10**6)
    sim = cal.trade_stats(cal.sandbox_trades(market, "binance", "BTC"), 10**6)
    assert sim["fills per taker order (same time and side)"] == pytest.approx(
        real["fills per taker order (same time and side)"], rel=0.1)
    assert abs(sim["share of trades at the same time as the previous one"]
               - real["share of trades at the same time as the previous one"]) < 0.1
    assert abs(sim["lag-1 autocorrelation of trade signs"] - real["lag-1 autocorrelation of trade signs"]) < 0.15
    assert abs(sim["sd of log trade size"] - real["sd of log trade size"]) < 0.4
    assert sim["median trade size (base units)"] == pytest.approx(real["median trade size (base units)"], rel=0.5)
    tape = market.tape("binance", "BTC")
    spread = cal.spread_stats(tape.bid * 0.01, tape.ask * 0.01, 0.01)
    assert abs(spread["share of quotes at a 1-tick spread"] - real_quotes["share of quotes at a 1-tick spread"]) < 0.15


def test_kraken_and_coinbase_shapes(real_data, market) -> None:
    k_real = cal.trade_stats(cal.real_kraken(real_data), 100)
    k_sim = cal.trade_stats(cal.sandbox_trades(market, "kraken", "BTC"), 100)
    assert abs(k_sim["share of trades at the same time as the previous one"]
               - k_real["share of trades at the same time as the previous one"]) < 0.1
    c_real = cal.trade_stats(cal.real_coinbase(real_data), 1000)
    c_sim = cal.trade_stats(cal.sandbox_trades(market, "coinbase", "BTC"), 1000)
    assert c_sim["share of trades at the same time as the previous one"] == \
        c_real["share of trades at the same time as the previous one"] == 0
    assert abs(c_sim["sd of log trade size"] - c_real["sd of log trade size"]) < 0.3


def test_the_table_and_the_plot_render(real_data, tmp_path) -> None:
    text = cal.table(seed=7, hours=0.25, real=real_data)
    assert "| trades per second |" in text and "Binance BTCUSDT" in text
    png = cal.plot(tmp_path / "calibration.png", seed=7, hours=0.25, real=real_data)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
