"""Evaluation metrics on out-of-sample predictions. Pure numpy/scipy/sklearn; no I/O.

Conventions (also written into every report):
- IC / rank IC: Pearson / Spearman correlation of the score with the realised log return over the horizon,
  on every valid test row (flat ones included). A constant score carries no information: IC = 0.
- Accuracy: sign of the score (majority direction when the score is 0) vs the realised direction, on
  non-flat rows; 95% CI by a block bootstrap over contiguous time chunks (>= the label horizon).
- AUC (up vs down) and log loss on non-flat rows; log loss is compared with the training-window prior.
- Decile precision: rows whose score is in the block's top (bottom) decile; share of their non-flat moves
  that went up (down). Ties at the cut are included.
- Threshold rule: go long (short) when score >= (<=) +-threshold, the threshold being the 90th percentile of
  |score| on the fold's early-stopping block (never the test block); hold one horizon, mid to mid; one open
  position per venue and symbol (no overlapping holds). Gross bp per trade; break-even cost = that gross
  edge as a round trip (half of it per side). No costs are subtracted and no net profit is claimed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

BOOTSTRAP_SAMPLES = 1000


def ic(score: np.ndarray, ret: np.ndarray) -> float:
    if len(score) < 3 or np.nanstd(score) == 0 or np.nanstd(ret) == 0:
        return 0.0
    return float(np.corrcoef(score, ret)[0, 1])


def rank_ic(score: np.ndarray, ret: np.ndarray) -> float:
    if len(score) < 3 or np.nanstd(score) == 0 or np.nanstd(ret) == 0:
        return 0.0
    if len(np.unique(score)) < 2:
        return 0.0
    return float(stats.spearmanr(score, ret).statistic)


def auc(score: np.ndarray, up: np.ndarray) -> float:
    if len(np.unique(up)) < 2 or np.std(score) == 0:
        return 0.5
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(up, score))


def log_loss(p: np.ndarray, up: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(up * np.log(p) + (1 - up) * np.log(1 - p))) if len(p) else math.nan


def bootstrap_ci(correct: np.ndarray, chunk: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% CI of a mean by resampling whole time chunks (moving-block style) with replacement."""
    if len(correct) == 0:
        return math.nan, math.nan
    _, inv = np.unique(chunk, return_inverse=True)
    hits = np.bincount(inv, weights=correct.astype(np.float64))
    counts = np.bincount(inv).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(counts), size=(BOOTSTRAP_SAMPLES, len(counts)))
    means = hits[draws].sum(axis=1) / np.maximum(counts[draws].sum(axis=1), 1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


def decile_flags(score: np.ndarray, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top / bottom decile membership of each row, with the cut computed within its test block."""
    top = np.zeros(len(score), bool)
    bottom = np.zeros(len(score), bool)
    for b in np.unique(block):
        m = block == b
        s = score[m]
        hi, lo = np.quantile(s, 0.9), np.quantile(s, 0.1)
        if hi == lo:  # constant score: no deciles
            continue
        top[m] = s >= hi
        bottom[m] = s <= lo
    return top, bottom


def rule_trades(score: np.ndarray, threshold: np.ndarray, ts_ms: np.ndarray, series: np.ndarray,
                hold_ms: int) -> np.ndarray:
    """Position (+1/-1/0) opened at each row by the threshold rule, one open position per series at a time."""
    want = np.where((score >= threshold) & (score > 0), 1, np.where((score <= -threshold) & (score < 0), -1, 0))
    pos = np.zeros(len(score), np.int8)
    cand = np.flatnonzero(want != 0)
    busy_until: dict[str, int] = {}
    # sequential by nature (a position blocks the next signals of its series): a short loop over signals only
    for i in cand[np.argsort(ts_ms[cand], kind="stable")]:
        key = series[i]
        if ts_ms[i] >= busy_until.get(key, -1):
            pos[i] = want[i]
            busy_until[key] = int(ts_ms[i]) + hold_ms
    return pos


def summarize(score: np.ndarray, p_up: np.ndarray | None, pred_dir: np.ndarray, ret: np.ndarray,
              direction: np.ndarray, prior: np.ndarray, top: np.ndarray, bottom: np.ndarray,
              trade: np.ndarray, chunk: np.ndarray, seed: int = 0) -> dict[str, float | int | None]:
    """Every metric for one set of rows (a test block, or all test rows pooled)."""
    nf = direction != 0
    up = (direction[nf] == 1).astype(np.float64)
    correct = pred_dir[nf] == direction[nf]
    acc = float(correct.mean()) if nf.any() else math.nan
    lo, hi = bootstrap_ci(correct, chunk[nf], seed) if nf.any() else (math.nan, math.nan)
    out: dict[str, float | int | None] = {
        "rows": len(score), "nonflat_rows": int(nf.sum()),
        "ic": ic(score, ret), "rank_ic": rank_ic(score, ret),
        "accuracy": acc, "accuracy_ci_lo": lo, "accuracy_ci_hi": hi,
        "majority_share": float(max(up.mean(), 1 - up.mean())) if nf.any() else math.nan,
        "auc": auc(score[nf], up) if nf.any() else math.nan,
    }
    if p_up is not None and nf.any():
        out["log_loss"] = log_loss(p_up[nf], up)
        out["log_loss_prior"] = log_loss(prior[nf], up)
    else:
        out["log_loss"] = out["log_loss_prior"] = None
    t_nf, b_nf = top & nf, bottom & nf
    out["top_decile_precision"] = float((direction[t_nf] == 1).mean()) if t_nf.any() else None
    out["bottom_decile_precision"] = float((direction[b_nf] == -1).mean()) if b_nf.any() else None
    traded = trade != 0
    gross = trade[traded] * ret[traded] * 1e4
    out["trades"] = int(traded.sum())
    out["gross_bp_per_trade"] = float(gross.mean()) if traded.any() else None
    out["trade_hit_rate"] = float((gross > 0).mean()) if traded.any() else None
    out["break_even_cost_bp_round_trip"] = (max(0.0, float(gross.mean())) if traded.any() else None)
    return out


def block_summary(block_metrics: list[dict[str, float | int | None]]) -> dict[str, float]:
    """Mean/std/IR of per-block IC and rank IC, and the share of blocks with IC > 0."""
    ics = np.array([m["ic"] for m in block_metrics], dtype=float)
    rics = np.array([m["rank_ic"] for m in block_metrics], dtype=float)
    sd = float(ics.std(ddof=1)) if len(ics) > 1 else math.nan
    rsd = float(rics.std(ddof=1)) if len(rics) > 1 else math.nan
    return {
        "ic_mean": float(ics.mean()), "ic_std": sd, "icir": float(ics.mean() / sd) if sd and sd > 0 else math.nan,
        "ic_positive_share": float((ics > 0).mean()),
        "rank_ic_mean": float(rics.mean()), "rank_icir": float(rics.mean() / rsd) if rsd and rsd > 0 else math.nan,
        "log_loss_beats_prior_share": float(np.mean([
            (m["log_loss"] is not None and m["log_loss_prior"] is not None and m["log_loss"] < m["log_loss_prior"])
            for m in block_metrics])),
    }
