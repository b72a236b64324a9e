"""Leak canaries: shuffled labels kill the signal, future-shifted features inflate it, the future never
changes the past, and every fold's purge gap holds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ml.canaries import SHUFFLE_TOLERANCE, shift_features_into_future, shuffled_label_canary
from ml.dataset import load_gold
from ml.walkforward import WalkForwardConfig, run_walk_forward
from schemahub.storage import Lake

# one thread in tests: the CI box is shared, and OpenMP spin-waiting on an oversubscribed CPU is very slow
LGBM = WalkForwardConfig(models=("lightgbm",), threads=1, max_rounds=300)


def test_labels_shuffled_within_blocks_give_no_ic(gold24: Lake) -> None:
    frame = load_gold(gold24)
    # the planted signal (IC ~ 0.1, see test_train) vanishes when labels are shuffled within 3 h blocks
    # (3 seeds x ~50k test rows: the standard error of the mean IC is ~ 0.003)
    canary = shuffled_label_canary(frame, LGBM, 3 * 3_600_000, seeds=(1, 2, 3))
    assert abs(canary["mean_ic"]) < SHUFFLE_TOLERANCE, canary
    assert canary["pass"]


def test_features_shifted_into_the_future_make_ic_jump(gold12: Lake, trained) -> None:
    frame = load_gold(gold12)
    honest = trained.result.metrics["lightgbm"]["summary"]["ic_mean"]
    leaked = run_walk_forward(shift_features_into_future(frame, steps=5), replace(LGBM, max_rounds=100),
                              progress=False)
    leaked_ic = leaked.metrics["lightgbm"]["summary"]["ic_mean"]
    assert leaked_ic > honest + 0.3, (honest, leaked_ic)
    assert leaked.verdict["red_flags"]  # and the report would flag it for a leak review


def test_every_fold_purges_the_gap(trained) -> None:
    folds = trained.metadata["folds"]
    assert len(folds) >= 4
    for f in folds:
        p = f["purge"]
        assert p["ok"]
        assert p["last_train_label_end_ms"] < p["first_test_feature_ms"] - p["gap_ms"]
        assert p["last_valid_label_end_ms"] < p["first_test_feature_ms"] - p["gap_ms"]
        assert p["gap_ms"] >= 10_000


def test_future_data_never_changes_past_predictions(make_gold) -> None:
    """Preprocessing, scalers, thresholds and early stopping see only the past: wrecking the last block's
    features and labels must leave every earlier fold's predictions bit-identical."""
    cfg = replace(LGBM, models=("lightgbm", "linear_imbalance", "persistence"))
    frame = load_gold(make_gold(hours=7, seed=6))
    base = run_walk_forward(frame, cfg, progress=False)
    last_start = max(f["test_start_ms"] for f in base.folds)
    late = frame.ts_ms >= last_start
    X = frame.X.copy()
    X[late] = X[late] * 1000 + 7
    wrecked = replace(frame, X=X, ret=np.where(late, -frame.ret, frame.ret),
                      direction=np.where(late, -frame.direction, frame.direction).astype(np.int8))
    other = run_walk_forward(wrecked, cfg, progress=False)
    earlier = base.test_block_start_ms < last_start
    assert earlier.sum() > 5_000
    for m in cfg.models:
        np.testing.assert_array_equal(base.preds[m]["score"][earlier], other.preds[m]["score"][earlier])
        np.testing.assert_array_equal(base.preds[m]["trade"][earlier], other.preds[m]["trade"][earlier])
