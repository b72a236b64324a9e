"""`schemahub predict`: score gold feature rows with a registered model version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ml import registry
from ml.dataset import load_features
from ml.errors import GoldDataError
from ml.models import prediction_from_output
from ml.walkforward import EXCHANGE_FEATURE

PREDICTIONS_DIR = "predictions"


@dataclass
class Scored:
    name: str
    version: str
    table: pa.Table
    metadata: dict[str, Any]
    uri: str | None


def score(lake: Any, name: str, version: str = "latest", *, start: str | None = None, end: str | None = None,
          exchanges: tuple[str, ...] = (), write: bool = True) -> Scored:
    import lightgbm as lgb

    version, model_text, meta = registry.load_version(lake, name, version)
    booster = lgb.Booster(model_str=model_text)
    names: list[str] = meta["feature_names"]
    source_cols = [n for n in names if n != EXCHANGE_FEATURE]
    data = meta["data"]
    table, _, _ = load_features(lake, base=data["base"], symbol=data.get("symbol"), exchanges=exchanges,
                                start=start, end=end, columns=source_cols)
    if table.num_rows == 0:
        raise GoldDataError(f"no gold feature rows for base={data['base']} between {start or 'the start'} and "
                            f"{end or 'the end'}; nothing to score with {name} {version}")
    cols = [table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in source_cols]
    X = np.column_stack(cols)
    X[~np.isfinite(X)] = np.nan
    all_nan = [c for j, c in enumerate(source_cols) if np.isnan(X[:, j]).all()]
    if all_nan:
        raise GoldDataError(f"gold feature column(s) {all_nan} are NULL/NaN on all {table.num_rows} rows to score")
    exch = np.asarray(table.column("_exchange").to_pylist(), dtype=object).astype(str)
    if EXCHANGE_FEATURE in names:
        codes = meta["exchange_codes"]
        code = np.array([codes.get(e, np.nan) for e in exch], dtype=np.float64)
        X = np.column_stack([X, code])
    raw = np.asarray(booster.predict(X))
    p = prediction_from_output(meta["run"]["target"], raw)
    thr = float(meta["final_model"]["signal_threshold"])
    signal = np.where((p.score >= thr) & (p.score > 0), 1, np.where((p.score <= -thr) & (p.score < 0), -1, 0))
    ts = table.column("_ts_ms").to_numpy(zero_copy_only=False)
    out = pa.table({
        "feature_ts": pa.array(ts, pa.timestamp("ms", tz="UTC")),
        "exchange": exch.tolist(), "symbol": table.column("_symbol"),
        "score": p.score,
        "p_up": p.p_up if p.p_up is not None else pa.nulls(len(ts), pa.float64()),
        "signal": signal.astype(np.int8),
        "model_version": [version] * len(ts),
    })
    uri = None
    if write:
        fname = f"{int(ts.min())}__{int(ts.max())}.parquet"
        uri = lake.write_parquet(out, PREDICTIONS_DIR, name, version, fname)
    return Scored(name, version, out, meta, uri)
