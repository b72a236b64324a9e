"""The volatility replay: lead-lag measurement, spike finding, and the page rendering in headless Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pytest
from lakegen import LAGS_MS, SPIKE
from PIL import Image

from demos.leadlag import lead_lag
from demos.replay import find_spikes, replay, spike_center
from demos.replay_data import ReplayDataError
from demos.timeutil import parse_duration, parse_time


def test_lead_lag_recovers_a_known_lag() -> None:
    rng = np.random.default_rng(1)
    n = 20_000  # 10 ms ticks over 200 s
    t = np.arange(n, dtype=np.int64) * 10_000_000
    latent = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, n)))
    lagged = np.concatenate([np.full(9, latent[0]), latent[:-9]])  # B follows A 90 ms later
    res = lead_lag({"A": (t, latent), "B": (t, lagged)}, 0, int(t[-1]), step_ms=10, max_lag_ms=1000)
    assert len(res) == 1
    assert res[0].lag_ms == 90 and res[0].leader == "A" and res[0].follower == "B"
    assert res[0].corr > 0.9 > abs(res[0].corr_at_zero)
    swapped = lead_lag({"A": (t, lagged), "B": (t, latent)}, 0, int(t[-1]))[0]
    assert swapped.lag_ms == -90 and swapped.leader == "B"


def test_time_and_duration_parsing() -> None:
    assert parse_duration("12s") == timedelta(seconds=12)
    assert parse_duration("500ms") == timedelta(milliseconds=500)
    assert parse_time("2024-02-08 15:12:04").isoformat() == "2024-02-08T15:12:04+00:00"
    assert parse_time("2024-02-08T16:12:04+01:00").isoformat() == "2024-02-08T15:12:04+00:00"
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration("twelve")
    with pytest.raises(ValueError, match="bad time"):
        parse_time("yesterday")


def test_find_spikes_ranks_the_burst_first(demo_lake) -> None:
    spikes = find_spikes("BTC", 3, lake=demo_lake)
    assert abs((spikes[0].feature_ts - SPIKE).total_seconds()) <= 8
    assert spikes[0].score_bp > 3 * spikes[1].score_bp
    gaps = [abs((a.feature_ts - b.feature_ts).total_seconds()) for a in spikes for b in spikes if a is not b]
    assert min(gaps) >= 30


def test_replay_measures_the_simulated_lags_and_says_simulated(demo_lake, tmp_path) -> None:
    result = replay("BTC", SPIKE, timedelta(seconds=12), out=tmp_path / "r.html")
    assert result.data.provenance.simulated
    by_pair = {(r.venue_a, r.venue_b): r for r in result.leadlags}
    # trade prices are stale by the follower's wait for its next trade (~35 ms Coinbase, ~70 ms Kraken here),
    # so the measured lag is the true lag plus about that much
    bc = by_pair[("BINANCE", "COINBASE")]
    assert bc.leader == "BINANCE" and LAGS_MS["COINBASE"] - 10 <= bc.lag_ms <= LAGS_MS["COINBASE"] + 60
    bk = by_pair[("BINANCE", "KRAKEN")]
    assert bk.leader == "BINANCE" and LAGS_MS["KRAKEN"] - 10 <= bk.lag_ms <= LAGS_MS["KRAKEN"] + 100
    assert bk.lag_ms > bc.lag_ms and bk.corr > 2 * abs(bk.corr_at_zero)
    assert result.summary[0].startswith("SIMULATED DATA")
    html = result.page.read_text()
    assert "SIMULATED DATA" in html
    assert not re.search(r"<script[^>]+src=[\"']https?:", html), "the page must not load scripts from the network"


def test_replay_outside_the_data_names_the_span(demo_lake, tmp_path) -> None:
    with pytest.raises(ReplayDataError, match="no BTC trades between"):
        replay("BTC", SPIKE + timedelta(days=3), timedelta(seconds=12), out=tmp_path / "r.html")


def test_replay_page_renders_in_chromium(demo_lake, tmp_path, chromium) -> None:
    spike = find_spikes("BTC", 1, lake=demo_lake)[0]
    page = replay("BTC", spike_center(spike), timedelta(seconds=12), out=tmp_path / "replay.html").page
    dom = chromium.dump_dom(page.as_uri())
    assert "slider-container" in dom and "slider-grip" in dom, "the timeline slider was not drawn"
    assert "main-svg" in dom and "SIMULATED DATA" in dom
    shot = chromium.screenshot(page.as_uri(), tmp_path / "replay.png")
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    plot = img[300:1000]  # below the banner and summary: the charts
    non_white = np.mean(np.any(plot < 235, axis=2))
    assert non_white > 0.02, f"the charts look blank ({non_white:.4f} of pixels drawn)"
    colours = len({tuple(p) for p in plot[::4, ::4].reshape(-1, 3)})
    assert colours > 50
