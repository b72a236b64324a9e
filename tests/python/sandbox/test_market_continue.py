"""Windows built one after another (`Market(..., after=previous.carry())`): every id stream goes on strictly
increasing across the boundary, prices go on from where they were, and the next window is not a replay."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sandbox.market import Market
from sandbox.specs import MARKETS

MID = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SPAN = dt.timedelta(minutes=10)


@pytest.fixture(scope="module")
def pair() -> tuple[Market, Market]:
    first = Market(7, MID - SPAN, MID)
    return first, Market(7, MID, MID + SPAN, after=first.carry())


@pytest.mark.parametrize("key", list(MARKETS))
def test_id_streams_continue_strictly_increasing(pair: tuple[Market, Market], key: tuple[str, str]) -> None:
    first, second = pair
    a, b = first.tape(*key), second.tape(*key)
    assert len(a.trade_id) and len(b.trade_id)
    for name in ("trade_id", "update_id", "sequence"):
        joined = np.concatenate([getattr(a, name), getattr(b, name)])
        assert (np.diff(joined) > 0).all(), f"{key} {name} not strictly increasing across the boundary"
    # trade ids exactly continue (no gap) and stay in time order; order ids never go back
    assert b.trade_id[0] == a.trade_id[-1] + 1 and b.t_ns[0] >= a.t_ns[-1]
    assert (np.diff(np.concatenate([a.order_id, b.order_id])) >= 0).all() and b.order_id[0] > a.order_id[-1]
    # the continued window is fresh randomness, not the first one replayed
    assert len(a.trade_id) != len(b.trade_id) or not np.array_equal(a.qty, b.qty)


def test_latent_price_continues(pair: tuple[Market, Market]) -> None:
    first, second = pair
    for asset in first.assets:
        jump = abs(second.latent(asset).logp[0] - first.latent(asset).logp[-1])
        assert jump < 0.002, f"{asset}: latent log price jumped {jump} at the boundary"


def test_a_standalone_window_keeps_its_time_derived_ids(pair: tuple[Market, Market]) -> None:
    first, second = pair
    elapsed = first.start_ns / 1e9 - 1.6e9
    for key, spec in MARKETS.items():
        assert first.tape(*key).trade_id[0] == spec.trade_id_base + int(elapsed * spec.fills_per_s)
        # the continued window does not restart from its own time-derived base
        assert second.tape(*key).trade_id[0] == first.tape(*key).trade_id[-1] + 1


def test_cannot_continue_a_window_that_ends_later(pair: tuple[Market, Market]) -> None:
    first, _ = pair
    with pytest.raises(ValueError, match="cannot continue"):
        Market(7, MID - dt.timedelta(minutes=1), MID + SPAN, after=first.carry())
