"""Leak canaries: transformations of a GoldFrame that must kill (or, for a planted leak, inflate) the signal.

- `shuffle_labels_within_blocks`: labels permuted inside each time block -> any honest pipeline has IC ~ 0.
- `shift_features_into_future`: each row gets the features of `steps` rows later in its own series -> a
  pipeline that cannot see the future suddenly can, and IC must jump (proves the IC canary can fire).
The purge canary (last training label ends before the first test feature minus the gap) is checked on every
fold by `ml.splits.purge_report` during training.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ml.dataset import GoldFrame
from ml.walkforward import WalkForwardConfig, run_walk_forward

SHUFFLE_TOLERANCE = 0.01


def shuffle_labels_within_blocks(frame: GoldFrame, block_ms: int, seed: int) -> GoldFrame:
    rng = np.random.default_rng(seed)
    perm = np.arange(frame.n)
    block = frame.ts_ms // block_ms
    for b in np.unique(block):
        idx = np.flatnonzero(block == b)
        perm[idx] = rng.permutation(idx)
    return replace(frame, ret=frame.ret[perm], direction=frame.direction[perm])


def shift_features_into_future(frame: GoldFrame, steps: int) -> GoldFrame:
    """Row i of each (exchange, symbol) series gets row i+steps' features; each series' last rows are dropped."""
    X = frame.X.copy()
    keep = np.ones(frame.n, bool)
    series = np.char.add(np.char.add(frame.exchange.astype(str), "|"), frame.symbol.astype(str))
    for s in np.unique(series):
        idx = np.flatnonzero(series == s)  # already in time order
        X[idx[:-steps]] = frame.X[idx[steps:]]
        keep[idx[-steps:]] = False
    k = np.flatnonzero(keep)
    return replace(frame, ts_ms=frame.ts_ms[k], exchange=frame.exchange[k], symbol=frame.symbol[k], X=X[k],
                   ret=frame.ret[k], direction=frame.direction[k])


def shuffled_label_canary(frame: GoldFrame, cfg: WalkForwardConfig, block_ms: int,
                          seeds: tuple[int, ...] = (1, 2, 3)) -> dict[str, object]:
    """Mean block IC of LightGBM over several label shuffles; pass when |mean| < SHUFFLE_TOLERANCE."""
    lgbm_only = replace(cfg, models=("lightgbm",), block=f"{block_ms // 60_000}min")
    ics = []
    for seed in seeds:
        res = run_walk_forward(shuffle_labels_within_blocks(frame, block_ms, seed), lgbm_only, progress=False)
        ics.append(float(res.metrics["lightgbm"]["summary"]["ic_mean"]))  # type: ignore[index]
    mean = float(np.mean(ics))
    return {"seeds": list(seeds), "ic_means": ics, "mean_ic": mean, "tolerance": SHUFFLE_TOLERANCE,
            "pass": abs(mean) < SHUFFLE_TOLERANCE}
