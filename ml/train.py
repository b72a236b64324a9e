"""`schemahub train`: gold -> walk-forward evaluation -> final model -> registry version + report."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ml import registry
from ml.dataset import GoldFrame, load_gold
from ml.walkforward import WalkForwardConfig, WalkForwardResult, fit_final, run_walk_forward

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainRequest:
    base: str = "BTC"
    symbol: str | None = None
    exchanges: tuple[str, ...] = ()
    horizon_s: int = 10
    start: str | None = None
    end: str | None = None
    exclude: tuple[str, ...] = ()
    flat_bp: float | None = None
    model_name: str | None = None
    canary_seeds: tuple[int, ...] = ()  # run the shuffled-label canary with these seeds (slower)
    wf: WalkForwardConfig = field(default_factory=WalkForwardConfig)

    @property
    def name(self) -> str:
        return self.model_name or f"{self.base.lower()}_predictor"


@dataclass
class TrainOutcome:
    name: str
    version: str
    uri: str
    model_sha256: str
    data_sha256: str
    metadata: dict[str, Any]
    result: WalkForwardResult


def train(req: TrainRequest, lake: Any = None, *, progress: bool = True) -> TrainOutcome:
    from schemahub.storage import Lake

    lake = lake or Lake.from_env()
    frame = load_gold(lake, base=req.base, symbol=req.symbol, exchanges=req.exchanges, horizon_s=req.horizon_s,
                      start=req.start, end=req.end, exclude=req.exclude, flat_bp=req.flat_bp)
    log.info("gold: %d rows, %d features, venues %s", frame.n, len(frame.feature_names),
             ", ".join(sorted(set(frame.exchange.tolist()))))
    res = run_walk_forward(frame, req.wf, progress=progress)
    fit_final(frame, res)
    assert res.final_model is not None
    canaries = None
    if req.canary_seeds:
        from ml.canaries import shuffled_label_canary

        canaries = shuffled_label_canary(frame, req.wf, res.block_ms, req.canary_seeds)
    model_text = res.final_model.model_string()
    model_sha = hashlib.sha256(model_text.encode()).hexdigest()
    now = dt.datetime.now(dt.UTC)
    version = f"{now:%Y%m%dT%H%M%SZ}-{model_sha[:8]}"
    meta = build_metadata(req, frame, res, lake, version, model_sha, now, canaries)
    preds = predictions_table(frame, res)
    gains = np.asarray(res.final_model.booster.feature_importance(  # type: ignore[union-attr]
        importance_type="gain", iteration=res.final_model.best_iteration), dtype=float)
    from ml.report import render

    rows = res.test_rows
    files = render(meta, res.metrics, res.folds, res.preds, frame.direction[rows], frame.ret[rows],
                   frame.ts_ms[rows], res.final_model.feature_names, gains)
    uri = registry.save_version(lake, req.name, version, model_text=model_text, metadata=meta, predictions=preds,
                                files=files)
    return TrainOutcome(req.name, version, uri, model_sha, meta["data"]["data_sha256"], meta, res)


def build_metadata(req: TrainRequest, frame: GoldFrame, res: WalkForwardResult, lake: Any, version: str,
                   model_sha: str, now: dt.datetime, canaries: dict[str, Any] | None) -> dict[str, Any]:
    import duckdb
    import lightgbm
    import sklearn

    final = res.final_model
    assert final is not None
    valid_rows = np.flatnonzero((frame.ts_ms >= res.final_window["valid_start_ms"])
                                & (frame.ts_ms <= res.final_window["valid_end_ms"]))
    threshold = float(np.quantile(np.abs(final.predict(res.design.X[valid_rows]).score), 0.9))
    files_hash = hashlib.sha256("\n".join(f"{p}\t{s}" for p, s in frame.source_files).encode()).hexdigest()
    return {
        "model_name": req.name, "version": version, "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model_file": registry.MODEL_FILE, "model_sha256": model_sha, "lake_root": lake.root,
        "feature_names": final.feature_names, "categorical_features": final.categorical,
        "exchange_codes": res.design.exchange_codes,
        "run": {**{k: v for k, v in asdict(req.wf).items()}, "horizon_s": frame.horizon_s,
                "block_ms": res.block_ms, "block_hours": res.block_ms / 3_600_000,
                "lightgbm_params": final.params, "max_rounds": final.max_rounds},
        "data": {"base": req.base, "symbol": req.symbol, "exchanges": sorted(set(frame.exchange.tolist())),
                 "rows": frame.n, "rows_dropped_invalid": frame.rows_dropped_invalid, "start_ms": int(frame.ts_ms.min()), "end_ms": int(frame.ts_ms.max()),
                 "date_filter": {"start": req.start, "end": req.end},
                 "data_sha256": frame.data_hash(), "gold_files": len(frame.source_files),
                 "gold_files_sha256": files_hash, "flat_bp": frame.flat_bp, "label_lag_ms": frame.label_lag_ms,
                 "excluded": frame.excluded},
        "final_model": {**res.final_window, "signal_threshold": threshold},
        "folds": res.folds,
        "metrics": res.metrics,
        "verdict": res.verdict,
        "canaries": canaries,
        "code_version": registry.code_version(),
        "libraries": {"lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__,
                      "numpy": np.__version__, "duckdb": duckdb.__version__},
    }


def predictions_table(frame: GoldFrame, res: WalkForwardResult) -> pa.Table:
    rows = res.test_rows
    cols: dict[str, Any] = {
        "feature_ts": pa.array(frame.ts_ms[rows], pa.timestamp("ms", tz="UTC")),
        "exchange": frame.exchange[rows].tolist(), "symbol": frame.symbol[rows].tolist(),
        "fold": res.test_fold.astype(np.int32),
        "block_start": pa.array(res.test_block_start_ms, pa.timestamp("ms", tz="UTC")),
        f"return_{frame.horizon_s}s": frame.ret[rows], "direction": frame.direction[rows].astype(np.int8),
    }
    for m, p in res.preds.items():
        cols[f"{m}_score"] = p["score"]
        if not np.isnan(p["p_up"]).all():
            cols[f"{m}_p_up"] = p["p_up"]
        cols[f"{m}_trade"] = p["trade"].astype(np.int8)
    return pa.table(cols)
