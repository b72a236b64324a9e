"""Walk-forward evaluation of the model and its baselines on one GoldFrame. No I/O: tests call it directly.

For every fold: fit each model on the fold's (purged) training rows, early-stop LightGBM on the block just
before the test block, take the trading threshold from that same block, predict the test block. Then score
every model on the same test rows with `ml.metrics`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ml import metrics as M
from ml.dataset import GoldFrame, is_cross_venue
from ml.errors import GoldDataError, TooFewRowsError
from ml.models import (
    FitData,
    LGBMModel,
    LinearModel,
    MajorityModel,
    PersistenceModel,
    lgbm_params,
    make_labels,
    training_rows,
    up_prior,
)
from ml.splits import Fold, choose_block_ms, parse_block, purge_report, walk_forward

log = logging.getLogger(__name__)

MAIN_MODEL = "lightgbm"
ALL_MODELS = ("lightgbm", "lightgbm_no_xv", "linear_imbalance", "persistence", "majority")
BASELINE_COLUMNS = {"persistence": ["ret_10s"], "linear_imbalance": ["ob_imbalance", "vol_imbalance_10s"]}
EXCHANGE_FEATURE = "exchange_code"
CHUNK_MS = 300_000  # bootstrap chunk: 5 minutes, longer than every label horizon


@dataclass(frozen=True)
class WalkForwardConfig:
    target: str = "direction"
    block: str = "auto"
    gap_s: int = 300
    min_train_blocks: int = 2
    train_blocks: int = 0
    min_test_blocks: int = 4
    min_rows: int = 2000
    min_rows_per_block: int = 50
    threads: int = 2
    seed: int = 7
    models: tuple[str, ...] = ALL_MODELS
    max_rounds: int = 1000
    stopping_rounds: int = 30


@dataclass
class Design:
    """The model matrix: gold features plus the venue as a categorical code (when there is more than one)."""

    X: np.ndarray
    names: list[str]
    categorical: list[str]
    exchange_codes: dict[str, int]


@dataclass
class WalkForwardResult:
    config: WalkForwardConfig
    block_ms: int
    gap_ms: int
    design: Design
    folds: list[dict[str, object]]
    test_rows: np.ndarray  # frame row index of every test prediction (fold order)
    test_fold: np.ndarray
    test_block_start_ms: np.ndarray
    preds: dict[str, dict[str, np.ndarray]]  # model -> score / p_up / pred_dir / trade / prior
    metrics: dict[str, dict[str, object]]
    verdict: dict[str, object] = field(default_factory=dict)
    final_model: LGBMModel | None = None
    final_window: dict[str, int] = field(default_factory=dict)


def design_matrix(frame: GoldFrame, exchange_codes: dict[str, int] | None = None) -> Design:
    if exchange_codes is None:
        venues = sorted(set(frame.exchange.tolist()))
        exchange_codes = {v: i for i, v in enumerate(venues)} if len(venues) > 1 else {}
    if not exchange_codes:
        return Design(frame.X, list(frame.feature_names), [], {})
    code = np.array([exchange_codes.get(e, np.nan) for e in frame.exchange], dtype=np.float64)
    return Design(np.column_stack([frame.X, code]), [*frame.feature_names, EXCHANGE_FEATURE],
                  [EXCHANGE_FEATURE], exchange_codes)


def _build_models(cfg: WalkForwardConfig, design: Design) -> list[object]:
    out: list[object] = []
    names = design.names
    for name in cfg.models:
        if name in ("lightgbm", "lightgbm_no_xv"):
            cols = [j for j, n in enumerate(names) if name == "lightgbm" or not is_cross_venue(n)]
            if name == "lightgbm_no_xv" and len(cols) == len(names):
                log.warning("gold has no cross-venue (xv_*, leader_ret_*) features: lightgbm_no_xv = lightgbm")
            out.append(LGBMModel(
                name=name, target=cfg.target, columns=cols, feature_names=[names[j] for j in cols],
                categorical=[n for n in design.categorical if n in [names[j] for j in cols]],
                params=lgbm_params(cfg.target, threads=cfg.threads, seed=cfg.seed),
                max_rounds=cfg.max_rounds, stopping_rounds=cfg.stopping_rounds))
        elif name == "persistence":
            out.append(PersistenceModel(column=_col(names, "ret_10s", name)))
        elif name == "linear_imbalance":
            out.append(LinearModel(target=cfg.target,
                                   columns=[_col(names, c, name) for c in BASELINE_COLUMNS[name]]))
        elif name == "majority":
            out.append(MajorityModel())
        else:
            raise ValueError(f"unknown model {name!r}; known: {ALL_MODELS}")
    return out


def _col(names: list[str], col: str, model: str) -> int:
    if col not in names:
        raise GoldDataError(f"baseline {model} needs gold feature column {col!r}, which is missing or excluded")
    return names.index(col)


def _fit_data(target: str, frame: GoldFrame, X: np.ndarray, tr: np.ndarray, va: np.ndarray) -> FitData:
    scale = float(np.std(frame.ret[tr])) or 1e-4  # return target: scale fitted on the training window only
    return FitData(
        X_train=X[tr], y_train=make_labels(target, frame.ret[tr], frame.direction[tr], scale),
        dir_train=frame.direction[tr], X_valid=X[va],
        y_valid=make_labels(target, frame.ret[va], frame.direction[va], scale))


def run_walk_forward(frame: GoldFrame, cfg: WalkForwardConfig, *, progress: bool = True) -> WalkForwardResult:
    if frame.n < cfg.min_rows:
        raise TooFewRowsError(f"only {frame.n} valid gold rows (need >= {cfg.min_rows}) for an honest walk-forward")
    gap_ms = cfg.gap_s * 1000
    if cfg.gap_s < frame.horizon_s:
        raise GoldDataError(f"purge gap {cfg.gap_s}s is shorter than the {frame.horizon_s}s label horizon")
    block_ms = parse_block(cfg.block) or choose_block_ms(frame.ts_ms, gap_ms, cfg.min_train_blocks,
                                                         cfg.min_rows_per_block)
    design = design_matrix(frame)
    folds = walk_forward(frame.ts_ms, frame.label_end_ms, block_ms=block_ms, gap_ms=gap_ms,
                         min_train_blocks=cfg.min_train_blocks, train_blocks=cfg.train_blocks,
                         min_rows_per_block=cfg.min_rows_per_block)
    usable, skipped = [], []
    for f in folds:
        n_tr = len(training_rows(cfg.target, f.train_idx, frame.direction))
        n_va = len(training_rows(cfg.target, f.valid_idx, frame.direction))
        if n_tr < 10 * cfg.min_rows_per_block or n_va < cfg.min_rows_per_block:
            skipped.append({"test_block_start_ms": f.test_start_ms, "train_rows": n_tr, "valid_rows": n_va})
        else:
            usable.append(f)
    if len(usable) < cfg.min_test_blocks:
        raise TooFewRowsError(
            f"{len(usable)} usable test blocks of {block_ms / 3_600_000:g} h (need {cfg.min_test_blocks}); "
            f"{len(skipped)} skipped for too few training/early-stopping rows; {frame.n} rows from "
            f"{_fmt(frame.ts_ms.min())} to {_fmt(frame.ts_ms.max())}. Load more data or choose a smaller --block")

    series = np.char.add(np.char.add(frame.exchange.astype(str), "|"), frame.symbol.astype(str))
    preds: dict[str, dict[str, list[np.ndarray]]] = {m: {k: [] for k in ("score", "p_up", "pred_dir", "trade",
                                                                         "prior")} for m in cfg.models}
    fold_info: list[dict[str, object]] = []
    rows, fold_of, block_start = [], [], []
    for f in tqdm(usable, desc="walk-forward folds", unit="fold", disable=not progress):
        info = _run_fold(f, frame, design, cfg, series, preds, gap_ms)
        info["skipped"] = False
        fold_info.append(info)
        rows.append(f.test_idx)
        fold_of.append(np.full(len(f.test_idx), f.index))
        block_start.append(np.full(len(f.test_idx), f.test_start_ms, dtype=np.int64))
    flat = {m: {k: np.concatenate(v) for k, v in d.items()} for m, d in preds.items()}
    test_rows = np.concatenate(rows)
    result = WalkForwardResult(
        config=cfg, block_ms=block_ms, gap_ms=gap_ms, design=design, folds=fold_info, test_rows=test_rows,
        test_fold=np.concatenate(fold_of), test_block_start_ms=np.concatenate(block_start), preds=flat,
        metrics={})
    result.metrics = evaluate(frame, result)
    result.verdict = verdict(result.metrics)
    if skipped:
        result.verdict["skipped_folds"] = skipped
    return result


def _run_fold(f: Fold, frame: GoldFrame, design: Design, cfg: WalkForwardConfig, series: np.ndarray,
              preds: dict[str, dict[str, list[np.ndarray]]], gap_ms: int) -> dict[str, object]:
    tr = training_rows(cfg.target, f.train_idx, frame.direction)
    va = training_rows(cfg.target, f.valid_idx, frame.direction)
    data = _fit_data(cfg.target, frame, design.X, tr, va)
    prior = up_prior(frame.direction[tr])
    majority = 1 if prior >= 0.5 else -1
    X_test, X_valid = design.X[f.test_idx], design.X[f.valid_idx]
    info: dict[str, object] = {
        "fold": f.index, "train_start_ms": f.train_start_ms, "valid_start_ms": f.valid_start_ms,
        "test_start_ms": f.test_start_ms, "test_end_ms": f.test_end_ms, "train_rows": len(tr),
        "valid_rows": len(va), "test_rows": len(f.test_idx), "train_up_prior": prior,
        "purge": purge_report(f, frame.ts_ms, frame.label_end_ms, gap_ms), "best_iteration": {}, "threshold": {},
    }
    if not info["purge"]["ok"]:  # type: ignore[index]
        raise RuntimeError(f"purge violated in fold {f.index} (a bug in ml.splits): {info['purge']}")
    for model in _build_models(cfg, design):
        model.fit(data)
        p = model.predict(X_test)
        thr = float(np.quantile(np.abs(model.predict(X_valid).score), 0.9))
        pred_dir = np.where(p.score > 0, 1, np.where(p.score < 0, -1, majority)).astype(np.int8)
        trade = M.rule_trades(p.score, np.full(len(p.score), thr), frame.ts_ms[f.test_idx], series[f.test_idx],
                              frame.horizon_s * 1000 + frame.label_lag_ms)
        d = preds[model.name]
        d["score"].append(p.score)
        d["p_up"].append(p.p_up if p.p_up is not None else np.full(len(p.score), np.nan))
        d["pred_dir"].append(pred_dir)
        d["trade"].append(trade)
        d["prior"].append(np.full(len(p.score), prior))
        info["threshold"][model.name] = thr  # type: ignore[index]
        if isinstance(model, LGBMModel):
            info["best_iteration"][model.name] = model.best_iteration  # type: ignore[index]
    return info


def evaluate(frame: GoldFrame, res: WalkForwardResult) -> dict[str, dict[str, object]]:
    rows = res.test_rows
    ret, direction, ts = frame.ret[rows], frame.direction[rows], frame.ts_ms[rows]
    chunk = ts // CHUNK_MS
    block = res.test_block_start_ms
    exch = frame.exchange[rows]
    out: dict[str, dict[str, object]] = {}
    for name, p in res.preds.items():
        has_p = not np.isnan(p["p_up"]).all()
        top, bottom = M.decile_flags(p["score"], block)

        def summ(m: np.ndarray, p=p, has_p=has_p, top=top, bottom=bottom) -> dict[str, object]:
            return M.summarize(p["score"][m], p["p_up"][m] if has_p else None, p["pred_dir"][m], ret[m],
                               direction[m], p["prior"][m], top[m], bottom[m], p["trade"][m], chunk[m],
                               seed=res.config.seed)

        blocks = []
        for b in np.unique(block):
            bm = summ(block == b)
            bm["block_start_ms"] = int(b)
            blocks.append(bm)
        out[name] = {
            "overall": summ(np.ones(len(rows), bool)),
            "summary": M.block_summary(blocks),
            "blocks": blocks,
            "ic_by_exchange": {e: M.ic(p["score"][exch == e], ret[exch == e]) for e in sorted(set(exch.tolist()))},
        }
    return out


def verdict(metrics: dict[str, dict[str, object]]) -> dict[str, object]:
    """Does LightGBM beat every baseline on mean block IC; and the red flags the anchors call leak suspects."""
    if MAIN_MODEL not in metrics:
        return {}
    main_ic = metrics[MAIN_MODEL]["summary"]["ic_mean"]  # type: ignore[index]
    margins = {m: main_ic - v["summary"]["ic_mean"] for m, v in metrics.items() if m != MAIN_MODEL}  # type: ignore[index]
    acc = metrics[MAIN_MODEL]["overall"]["accuracy"]  # type: ignore[index]
    flags = []
    if main_ic > 0.3:
        flags.append(f"mean IC {main_ic:.3f} > 0.3 at a short horizon: leak review before reporting")
    if isinstance(acc, float) and not math.isnan(acc) and acc > 0.60:
        flags.append(f"non-flat accuracy {acc:.3f} > 60%: leak review before reporting")
    return {"lightgbm_ic_mean": main_ic, "ic_margin_over": margins,
            "beats_every_baseline_on_ic": bool(margins) and all(v > 0 for v in margins.values()),
            "red_flags": flags}


def fit_final(frame: GoldFrame, res: WalkForwardResult) -> None:
    """The registry's model: train on every block but the last (purged), early-stop on the last block."""
    cfg = res.config
    bid = frame.ts_ms // res.block_ms
    last = int(bid.max())
    last_start = last * res.block_ms
    tr = training_rows(cfg.target, np.flatnonzero((bid < last) & (frame.label_end_ms < last_start - res.gap_ms)),
                       frame.direction)
    va = training_rows(cfg.target, np.flatnonzero(bid == last), frame.direction)
    if len(va) < cfg.min_rows_per_block:  # a stub last block: stop on the one before it instead
        last -= 1
        last_start = last * res.block_ms
        tr = training_rows(cfg.target, np.flatnonzero((bid < last) & (frame.label_end_ms < last_start - res.gap_ms)),
                           frame.direction)
        va = training_rows(cfg.target, np.flatnonzero(bid >= last), frame.direction)
    model = _build_models(WalkForwardConfig(**{**cfg.__dict__, "models": (MAIN_MODEL,)}), res.design)[0]
    model.fit(_fit_data(cfg.target, frame, res.design.X, tr, va))
    res.final_model = model
    res.final_window = {"train_start_ms": int(frame.ts_ms[tr].min()), "train_end_ms": int(frame.ts_ms[tr].max()),
                        "valid_start_ms": int(frame.ts_ms[va].min()), "valid_end_ms": int(frame.ts_ms[va].max()),
                        "train_rows": len(tr), "valid_rows": len(va), "best_iteration": model.best_iteration}


def _fmt(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
