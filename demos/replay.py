"""`schemahub replay`: the tick-by-tick cross-venue volatility replay, and `--find-spikes` over gold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from demos.leadlag import LeadLag, lead_lag
from demos.replay_data import ReplayData, Spike, find_spikes, load_replay
from demos.timeutil import iso_ms, to_ns
from schemahub import config


@dataclass
class ReplayResult:
    page: Path
    data: ReplayData
    leadlags: list[LeadLag]
    summary: list[str]


def default_page_path(symbol: str, at: datetime) -> Path:
    return config.PROJECT_ROOT / "reports" / "replay" / f"{symbol.lower()}_{at.strftime('%Y%m%dT%H%M%S_%f')[:-3]}.html"


def measure_lead_lag(data: ReplayData, step_ms: int = 10, max_lag_ms: int = 1000,
                     return_ms: int = 250) -> list[LeadLag]:
    """Lead-lag from trade prices on exchange time over the lead-lag window (trades carry venue time)."""
    series = {v: (t.ts_ns, t.price) for v, t in data.trades.items() if len(t.ts_ns) >= 3}
    results = lead_lag(series, to_ns(data.leadlag_start), to_ns(data.leadlag_end), step_ms=step_ms,
                       max_lag_ms=max_lag_ms, return_ms=return_ms)
    return sorted(results, key=lambda r: -abs(r.corr) if np.isfinite(r.corr) else 0)


def replay(symbol: str, at: datetime, window: timedelta, *, leadlag_window: timedelta = timedelta(minutes=10),
           frame_ms: int = 100, out: Path | None = None) -> ReplayResult:
    from demos.replay_page import build_figure, summary_lines, write_page

    data = load_replay(symbol, at, window, leadlag_window)
    leadlags = measure_lead_lag(data)
    fig = build_figure(data, leadlags, frame_ms=frame_ms)
    page = write_page(fig, out or default_page_path(data.symbol, at), data, leadlags)
    return ReplayResult(page, data, leadlags, summary_lines(data, leadlags))


def spike_lines(spikes: list[Spike]) -> list[str]:
    lines = [f"{'#':>2}  {'feature_ts (UTC)':<27} {'max |' + (spikes[0].ret_column if spikes else 'ret') + '|':>12}"
             f"  {'venue':<9} {'price_volatility':>16}  venues"]
    for i, s in enumerate(spikes, 1):
        vol = "" if s.price_volatility is None else f"{s.price_volatility:.6g}"
        lines.append(f"{i:>2}  {iso_ms(s.feature_ts):<27} {s.score_bp:>9.1f} bp  {s.venue:<9} {vol:>16}  {s.venues}")
    return lines


def spike_center(spike: Spike) -> datetime:
    """The middle of the move a spike measures: ret_5s at t covers (t - 5 s, t]."""
    horizon = float(spike.ret_column.removeprefix("ret_").removesuffix("s") or 0)
    return spike.feature_ts - timedelta(seconds=horizon / 2)


__all__ = ["ReplayResult", "find_spikes", "replay", "spike_center", "spike_lines"]
