"""Walk-forward folds: purge gap at every boundary, block choice, and clear errors on short data."""

from __future__ import annotations

import numpy as np
import pytest

from ml.errors import TooFewRowsError
from ml.splits import MS, choose_block_ms, parse_block, purge_report, walk_forward

H = MS["h"]


def grid(hours: float, venues: int = 2, start_ms: int = 1_772_409_600_000) -> np.ndarray:
    ts = start_ms + np.arange(0, int(hours * 3600), 2) * 1000
    return np.sort(np.repeat(ts, venues))


@pytest.mark.parametrize("horizon_s, gap_s", [(10, 300), (30, 300), (30, 30)])
def test_last_training_label_ends_before_first_test_feature_minus_gap(horizon_s: int, gap_s: int) -> None:
    ts = grid(10)
    label_end = ts + horizon_s * 1000
    folds = walk_forward(ts, label_end, block_ms=H, gap_ms=gap_s * 1000, min_train_blocks=2)
    assert len(folds) == 7
    for f in folds:
        rep = purge_report(f, ts, label_end, gap_s * 1000)
        assert rep["ok"], rep
        assert label_end[f.train_idx].max() < ts[f.test_idx].min() - gap_s * 1000
        assert label_end[f.train_idx].max() < ts[f.valid_idx].min() - gap_s * 1000
        assert label_end[f.valid_idx].max() < ts[f.test_idx].min() - gap_s * 1000
        # early stopping uses the block just before the test block, never the test block itself
        assert f.valid_start_ms == f.test_start_ms - H
        assert not set(f.test_idx) & (set(f.train_idx) | set(f.valid_idx))
        # everything the model learns from is in the past of the test block
        assert ts[f.train_idx].max() < f.test_start_ms and ts[f.valid_idx].max() < f.test_start_ms


def test_label_lag_from_gold_widens_the_purge() -> None:
    ts = grid(6)
    late = ts + 10_000 + 120_000  # labels known 2 minutes later than the horizon alone says
    f = walk_forward(ts, late, block_ms=H, gap_ms=300_000)[0]
    assert late[f.train_idx].max() < ts[f.test_idx].min() - 300_000


def test_rolling_training_window() -> None:
    ts = grid(10)
    folds = walk_forward(ts, ts + 10_000, block_ms=H, gap_ms=300_000, train_blocks=2)
    last = folds[-1]
    assert ts[last.train_idx].min() >= last.valid_start_ms - 2 * H


def test_auto_block_prefers_days_then_hours() -> None:
    assert choose_block_ms(grid(24 * 8, venues=1)[::30], 300_000, 2, 50) == MS["d"]
    assert choose_block_ms(grid(12), 300_000, 2, 50) <= 2 * H
    with pytest.raises(TooFewRowsError, match="walk-forward needs"):
        choose_block_ms(grid(1), 300_000, 2, 50)


def test_parse_block() -> None:
    assert parse_block("auto") is None
    assert parse_block("hour") == H and parse_block("day") == MS["d"] and parse_block("30min") == 1_800_000
    with pytest.raises(ValueError, match="block size"):
        parse_block("fortnight")
