"""Metric conventions: IC of constant forecasts, block bootstrap, decile cuts, the threshold rule."""

from __future__ import annotations

import numpy as np

from ml import metrics as M


def test_ic_of_constant_score_is_zero_and_perfect_score_is_one() -> None:
    r = np.random.default_rng(0).normal(size=500)
    assert M.ic(np.zeros(500), r) == 0.0 and M.rank_ic(np.ones(500), r) == 0.0
    assert M.ic(r, r) == 1.0 and abs(M.rank_ic(r, r) - 1.0) < 1e-12


def test_block_bootstrap_ci_covers_the_mean_and_is_wider_for_fewer_chunks() -> None:
    rng = np.random.default_rng(1)
    correct = rng.random(10_000) < 0.53
    lo, hi = M.bootstrap_ci(correct, np.arange(10_000) // 100)
    assert lo < correct.mean() < hi
    lo2, hi2 = M.bootstrap_ci(correct, np.arange(10_000) // 2500)
    assert hi2 - lo2 > hi - lo


def test_rule_trades_never_overlap_within_a_series() -> None:
    ts = np.repeat(np.arange(0, 100_000, 2000), 2)
    series = np.tile(np.array(["a", "b"]), len(ts) // 2)
    score = np.ones(len(ts))
    pos = M.rule_trades(score, np.full(len(ts), 0.5), ts, series, hold_ms=10_000)
    for s in ("a", "b"):
        opened = ts[(pos != 0) & (series == s)]
        assert np.all(np.diff(opened) >= 10_000)
        assert len(opened) == 10
    assert (M.rule_trades(np.zeros(len(ts)), np.zeros(len(ts)), ts, series, 10_000) == 0).all()


def test_decile_flags_are_cut_per_block_and_empty_for_constant_scores() -> None:
    score = np.r_[np.arange(100.0), np.zeros(100)]
    block = np.r_[np.zeros(100), np.ones(100)]
    top, bottom = M.decile_flags(score, block)
    assert top[:100].sum() == 10 and bottom[:100].sum() == 10
    assert not top[100:].any() and not bottom[100:].any()


def test_summarize_economics_are_gross_and_break_even_is_the_edge() -> None:
    n = 1000
    ret = np.where(np.arange(n) % 2 == 0, 2e-4, -2e-4)
    direction = np.sign(ret).astype(int)
    trade = direction.copy()  # a perfect trader
    out = M.summarize(ret, None, direction, ret, direction, np.full(n, 0.5), np.zeros(n, bool), np.zeros(n, bool),
                      trade, np.arange(n) // 50)
    assert abs(out["gross_bp_per_trade"] - 2.0) < 1e-9
    assert out["break_even_cost_bp_round_trip"] == out["gross_bp_per_trade"]
    assert out["accuracy"] == 1.0 and out["log_loss"] is None
