"""A synthetic gold layer for the ML tests: features_2s and labels_10s Parquet in the dbt layout.

    <lake>/gold/features_2s/partition_date=YYYY-MM-DD/part-0.parquet
    <lake>/gold/labels_10s/partition_date=YYYY-MM-DD/part-0.parquet

A latent leader (binance BTCUSDT) and a follower (coinbase BTC-USD) on a 1-second grid, sampled every 2 s.
Planted, modest signals (each is a number of bp per second of drift):
- book imbalance (ob_imbalance, observed with noise) drifts both venues' mids;
- trade-flow imbalance (vol_imbalance_10s) drifts the leader only when the spread is tight (non-linear);
- the follower absorbs 70% of a leader move at once and the rest one second later, so the leader's last
  2 s return (leader_ret_2s, xv_basis_bp) predicts the follower (cross-venue signal).
Everything else (volumes, intensities, clock features) is noise. One ETH venue checks base filtering.
Labels are built from the same mids: return_h = log(mid[t+h] / mid[t]), flat band 0.3 bp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy.signal import lfilter

from schemahub.storage import Lake

FLAT_BP = 0.3
HORIZONS = (5, 10, 15, 30)
START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0, sd * np.sqrt(1 - phi * phi), n)
    return lfilter([1.0], [1.0, -phi], e)


def simulate(hours: float, seed: int = 1, signal: float = 1.0, start: dt.datetime = START
             ) -> dict[str, pa.Table]:
    """{'features': table, 'labels': table} for BTC on two venues (+ ETH on one), one row per venue and 2 s."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600) + 120  # seconds, plus room for the longest label
    bp = 1e-4
    ob = np.tanh(_ar1(rng, n, 0.99, 0.6))  # book-imbalance state
    flow = np.tanh(_ar1(rng, n, 0.9, 0.8))  # trade-flow imbalance state
    spread = np.exp(_ar1(rng, n, 0.995, 0.4)) * 1.0  # bp
    tight = spread < np.median(spread)
    drift = signal * (0.035 * ob + 0.06 * flow * tight) * bp
    d_lead = np.r_[0.0, drift[:-1]] + rng.normal(0, 0.7 * bp, n)
    lead = np.cumsum(d_lead)
    c = 0.7  # follower takes 70% of a leader move now, 30% one second later (signal-scaled)
    c_eff = 1 - signal * (1 - c)
    follow = np.cumsum(c_eff * d_lead + (1 - c_eff) * np.r_[0.0, d_lead[:-1]]) + rng.normal(0, 0.15 * bp, n)
    eth = np.cumsum(rng.normal(0, 0.9 * bp, n))
    venues = {
        ("binance", "BTCUSDT", "BTC-USDT", "BTC"): (np.log(30000) + lead, ob, flow, spread * 0.3),
        ("coinbase", "BTC-USD", "BTC-USD", "BTC"): (np.log(30010) + follow, ob, flow, spread),
        ("binance", "ETHUSDT", "ETH-USDT", "ETH"): (np.log(2000) + eth, np.tanh(_ar1(rng, n, 0.99, 0.6)),
                                                    np.tanh(_ar1(rng, n, 0.9, 0.8)), spread),
    }
    t0 = int(start.timestamp())
    grid = np.arange(60, int(hours * 3600), 2)  # feature times (s offset); 60 s of history first
    feats, labels = [], []
    for (exchange, symbol, canonical, base), (logmid, ob_v, flow_v, spread_v) in venues.items():
        m = len(grid)
        other = venues[("coinbase", "BTC-USD", "BTC-USD", "BTC") if exchange == "binance" else
                       ("binance", "BTCUSDT", "BTC-USDT", "BTC")][0]
        mid = logmid[grid]
        noisy_ob = np.clip(ob_v[grid] + rng.normal(0, 0.3, m), -1, 1)
        f = {
            "exchange": [exchange] * m, "symbol": [symbol] * m, "canonical_symbol": [canonical] * m,
            "base": [base] * m,
            "feature_ts": t0 + grid, "feature_ts_ms": (t0 + grid) * 1000,
            "price": np.exp(mid), "mid_price": np.exp(mid), "weighted_mid": np.exp(mid),
            "ret_1s": mid - logmid[grid - 1], "ret_5s": mid - logmid[grid - 5], "ret_10s": mid - logmid[grid - 10],
            "ret_30s": mid - logmid[grid - 30], "ret_60s": mid - logmid[grid - 60],
            "volume_1s": rng.gamma(2, 1, m), "volume_10s": rng.gamma(4, 1, m),
            "vol_imbalance_1s": np.clip(flow_v[grid] + rng.normal(0, 0.5, m), -1, 1),
            "vol_imbalance_10s": np.clip(flow_v[grid] + rng.normal(0, 0.2, m), -1, 1),
            "spread_bp": spread_v[grid], "ob_imbalance": noisy_ob,
            "trade_intensity_1s": rng.poisson(5, m).astype(float), "avg_trade_size_1s": rng.gamma(1, 1, m),
            "hour_sin": np.sin(2 * np.pi * (grid % 86400) / 86400), "hour_cos": np.cos(2 * np.pi * (grid % 86400) / 86400),
            "is_us_hours": ((grid % 86400) // 3600 >= 13).astype(np.int32),
            "completeness": np.ones(m), "gap_indicator": np.zeros(m, bool),
            "source_quality": ["rest"] * m, "created_ts": np.full(m, t0 * 1000), "etl_version": ["test"] * m,
        }
        f["ret_60s"][0] = np.nan  # a hole, as real gold has at the start of a day
        if base == "BTC":
            f["xv_basis_bp"] = (other[grid] - mid) * 1e4
            f["leader_ret_2s"] = venues[("binance", "BTCUSDT", "BTC-USDT", "BTC")][0][grid] - \
                venues[("binance", "BTCUSDT", "BTC-USDT", "BTC")][0][grid - 2]
        else:
            f["xv_basis_bp"] = np.full(m, np.nan)
            f["leader_ret_2s"] = np.full(m, np.nan)
        feats.append(pa.table(f))
        lab: dict[str, object] = {
            "exchange": [exchange] * m, "symbol": [symbol] * m, "canonical_symbol": [canonical] * m,
            "base": [base] * m,
            "feature_ts": t0 + grid, "target_ts": t0 + grid + 10,
            "feature_ts_ms": (t0 + grid) * 1000, "target_ts_ms": (t0 + grid + 10) * 1000,
            "current_price": np.exp(mid), "target_price": np.exp(logmid[grid + 10]),
        }
        for h in HORIZONS:
            lab[f"return_{h}s"] = logmid[grid + h] - mid
        r10 = lab["return_10s"]
        band = FLAT_BP * bp
        lab["direction"] = np.where(r10 > band, 1, np.where(r10 < -band, -1, 0)).astype(np.int32)
        lab["direction_binary"] = (r10 > 0).astype(np.int32)
        lab["volume_10s"] = rng.gamma(4, 1, m)  # future volume: must never become a feature
        lab["is_valid"] = rng.random(m) > 0.01
        labels.append(pa.table(lab))
    return {"features": pa.concat_tables(feats, promote_options="default"),
            "labels": pa.concat_tables(labels, promote_options="default")}


def write_gold(lake: Lake, tables: dict[str, pa.Table]) -> None:
    """Write the tables as `partition_date=YYYY-MM-DD/part-0.parquet` (the partition column is the folder)."""
    for key, folder in (("features", "gold/features_2s"), ("labels", "gold/labels_10s")):
        t = tables[key]
        ts = t.column("feature_ts")
        secs = pc.cast(ts, pa.int64()) if pa.types.is_integer(ts.type) else pc.divide(
            pc.cast(pc.cast(ts, pa.timestamp("ms")), pa.int64()), 1000)
        day = (np.asarray(secs) // 86400).astype(np.int64)
        for d in np.unique(day):
            part = t.filter(pa.array(day == d))
            date = (dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).isoformat()
            lake.write_parquet(part, folder, f"partition_date={date}", "part-0.parquet")


@pytest.fixture
def make_gold(tmp_lake: Path) -> Callable[..., Lake]:
    """make_gold(hours=8, seed=1, signal=1.0, mutate=None) -> the Lake with synthetic gold written."""

    def _make(hours: float = 8, seed: int = 1, signal: float = 1.0,
              mutate: Callable[[dict[str, pa.Table]], dict[str, pa.Table]] | None = None) -> Lake:
        tables = simulate(hours, seed=seed, signal=signal)
        if mutate is not None:
            tables = mutate(tables)
        lake = Lake.from_env()
        write_gold(lake, tables)
        return lake

    return _make


@pytest.fixture(scope="session")
def synthetic() -> SimpleNamespace:
    """The generator functions, for tests that write gold somewhere else (e.g. an S3 lake)."""
    return SimpleNamespace(simulate=simulate, write_gold=write_gold)


def _lake_at(path: Path) -> Lake:
    path.mkdir(parents=True, exist_ok=True)
    return Lake(str(path))


@pytest.fixture(scope="session")
def gold12(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """12 hours of synthetic gold with a planted signal, shared by the (read-only) tests of the session."""
    lake = _lake_at(tmp_path_factory.mktemp("gold12") / "lake")
    write_gold(lake, simulate(12, seed=1, signal=1.5))
    return lake


@pytest.fixture(scope="session")
def gold24(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """24 hours (more test rows) for the shuffled-label canary."""
    lake = _lake_at(tmp_path_factory.mktemp("gold24") / "lake")
    write_gold(lake, simulate(24, seed=2, signal=1.5))
    return lake


@pytest.fixture(scope="session")
def trained(gold12: Lake):
    """One full `train` run (all models, report, registry) on gold12; later tests read its artifacts."""
    from ml.train import TrainRequest, train
    from ml.walkforward import WalkForwardConfig

    return train(TrainRequest(wf=WalkForwardConfig(threads=1)), gold12, progress=False)
