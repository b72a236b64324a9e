"""The volatility replay page: a plotly figure with a timeline slider, written as one offline HTML file.

Rows: (1) each venue's trades and mid, (2) each venue's spread in bp, (3) the cross-venue disagreement in bp
(max minus min mid over the median mid), (4) the lead-lag cross-correlation curves. Frames step through the
event every `frame_ms`: lines are revealed up to the frame time, the last second of trades is the bright
"tape", and a cursor marks the time on every row. plotly.js is inlined, so the page works offline.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from demos.leadlag import LeadLag, sample_last
from demos.replay_data import ReplayData
from demos.timeutil import iso_ms, to_ns

COLORS = {"BINANCE": "#f0b90b", "COINBASE": "#1652f0", "KRAKEN": "#7132f5"}
FALLBACK = ["#2ca02c", "#d62728", "#17becf", "#8c564b"]
GRID_MS = 50  # sampling of mids, spreads and disagreement for drawing


def color(venue: str, i: int = 0) -> str:
    return COLORS.get(venue.upper(), FALLBACK[i % len(FALLBACK)])


@dataclass
class Grid:
    """Per-venue mid and spread sampled on a regular grid over the display window (seconds from `at`)."""

    t_s: np.ndarray
    mid: dict[str, np.ndarray]
    spread_bp: dict[str, np.ndarray]
    disagreement_bp: np.ndarray
    mid_source: dict[str, str]


def sample_grid(data: ReplayData, step_ms: int = GRID_MS) -> Grid:
    start_ns, end_ns, at_ns = to_ns(data.start), to_ns(data.end), to_ns(data.at)
    grid = np.arange(start_ns, end_ns + 1, step_ms * 1_000_000, dtype=np.int64)
    mid: dict[str, np.ndarray] = {}
    spread: dict[str, np.ndarray] = {}
    source: dict[str, str] = {}
    for venue in data.venues:
        book = data.books.get(venue)
        if book is not None and len(book.ts_ns):
            mid[venue] = sample_last(book.ts_ns, book.mid, grid)
            spread[venue] = sample_last(book.ts_ns, book.spread_bp, grid)
            source[venue] = "book"
        elif venue in data.trades:
            tr = data.trades[venue]
            mid[venue] = sample_last(tr.ts_ns, tr.price, grid)
            spread[venue] = np.full(grid.shape, np.nan)
            source[venue] = "last trade"
    stack = np.vstack(list(mid.values())) if mid else np.full((1, len(grid)), np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns before the first quote
        med = np.nanmedian(stack, axis=0)
        spread_all = (np.nanmax(stack, axis=0) - np.nanmin(stack, axis=0)) / med * 1e4
    enough = np.sum(np.isfinite(stack), axis=0) >= 2
    disagreement = np.where(enough, spread_all, np.nan)
    return Grid((grid - at_ns) / 1e9, mid, spread, disagreement, source)


def _r(values: np.ndarray, nd: int = 3) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), nd) for v in values]


def build_figure(data: ReplayData, leadlags: list[LeadLag], *, frame_ms: int = 100) -> go.Figure:
    g = sample_grid(data)
    at_ns = to_ns(data.at)
    half = (data.end - data.start).total_seconds() / 2
    sim = "SIMULATED DATA (sandbox exchange) · " if data.provenance.simulated else ""
    title = f"{sim}{data.symbol} volatility replay around {iso_ms(data.at)} (±{half:g} s)"
    fig = make_subplots(
        rows=4, cols=1, vertical_spacing=0.07, row_heights=[0.42, 0.18, 0.18, 0.22],
        subplot_titles=(f"Trades (dots, size ~ quantity) and mid per venue; x: seconds from {iso_ms(data.at)}", "Spread per venue (bp)",
                        "Cross-venue disagreement: (max − min mid) / median (bp)",
                        "Lead-lag: corr(250 ms returns of A at t, of B at t + lag), 10 ms steps, exchange time"),
    )
    venues = data.venues
    win = {}
    for v in venues:
        if v in data.trades:
            tr = data.trades[v]
            m = (tr.ts_ns >= to_ns(data.start)) & (tr.ts_ns <= to_ns(data.end))
            win[v] = ((tr.ts_ns[m] - at_ns) / 1e9, tr.price[m], tr.qty[m], tr.side[m])
    prices = np.concatenate([w[1] for w in win.values()] + [m for m in g.mid.values()])
    prices = prices[np.isfinite(prices)]
    lo, hi = (float(prices.min()), float(prices.max())) if len(prices) else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or 1.0
    sp_vals = np.concatenate([s for s in g.spread_bp.values()] + [g.disagreement_bp])
    sp_vals = sp_vals[np.isfinite(sp_vals)]
    sp_hi = float(sp_vals.max()) * 1.1 if len(sp_vals) else 1.0
    dis = g.disagreement_bp[np.isfinite(g.disagreement_bp)]
    dis_hi = float(dis.max()) * 1.1 if len(dis) else 1.0

    def size(q: np.ndarray) -> list[float]:
        return [round(float(x), 1) for x in np.clip(4 + 10 * np.sqrt(q / (np.nanmedian(q) or 1) / 4), 4, 18)]

    # static layer: all trades of the window, faded (traces 0..n-1)
    for i, v in enumerate(venues):
        t, p, q, _ = win.get(v, (np.array([]), np.array([]), np.array([]), np.array([])))
        fig.add_trace(go.Scattergl(x=_r(t), y=_r(p, 4), mode="markers", name=f"{v} trades", legendgroup=v,
                                   marker={"color": color(v, i), "opacity": 0.18, "size": size(q) if len(q) else 4},
                                   hoverinfo="skip", showlegend=False), row=1, col=1)
    animated: list[int] = []

    def add(trace: go.BaseTraceType, row: int) -> None:
        fig.add_trace(trace, row=row, col=1)
        animated.append(len(fig.data) - 1)

    for i, v in enumerate(venues):  # mid lines (revealed)
        add(go.Scatter(x=[], y=[], mode="lines", line={"color": color(v, i), "width": 2, "shape": "hv"},
                       name=f"{v} mid ({g.mid_source.get(v, '-')})", legendgroup=v), 1)
    for i, v in enumerate(venues):  # tape: trades of the last second
        add(go.Scatter(x=[], y=[], mode="markers", name=f"{v} trades (last 1 s)", legendgroup=v,
                       marker={"color": color(v, i), "size": 8, "line": {"width": 1, "color": "#222"}}), 1)
    for i, v in enumerate(venues):  # spreads
        add(go.Scatter(x=[], y=[], mode="lines", line={"color": color(v, i), "shape": "hv"},
                       name=f"{v} spread bp", legendgroup=v, showlegend=False), 2)
    add(go.Scatter(x=[], y=[], mode="lines", line={"color": "#d62728", "width": 2}, fill="tozeroy",
                   name="disagreement bp"), 3)
    for row in (1, 2, 3):
        add(go.Scatter(x=[], y=[], mode="lines", line={"color": "#444", "dash": "dot", "width": 1},
                       showlegend=False, hoverinfo="skip", name=f"cursor{row}"), row)

    # lead-lag curves (static)
    for k, ll in enumerate(leadlags):
        fig.add_trace(go.Scatter(x=list(ll.lags_ms), y=_r(np.asarray(ll.curve), 4), mode="lines",
                                 line={"color": FALLBACK[k % len(FALLBACK)]},
                                 name=f"{ll.venue_a}→{ll.venue_b}: {ll.describe()}"), row=4, col=1)
        fig.add_trace(go.Scatter(x=[ll.lag_ms], y=[round(ll.corr, 4)], mode="markers+text",
                                 text=[f"{ll.lag_ms:+d} ms"], textposition="top center", showlegend=False,
                                 marker={"color": FALLBACK[k % len(FALLBACK)], "size": 9}), row=4, col=1)

    # frames
    frame_times = np.arange(-half, half + 1e-9, frame_ms / 1000)
    frames = []
    for ft in frame_times:
        shown = g.t_s <= ft + 1e-9
        upd: list[go.BaseTraceType] = []
        for v in venues:
            upd.append(go.Scatter(x=_r(g.t_s[shown]), y=_r(g.mid[v][shown], 4) if v in g.mid else []))
        for v in venues:
            t, p, _, _ = win.get(v, (np.array([]), np.array([]), None, None))
            m = (t > ft - 1.0) & (t <= ft + 1e-9)
            upd.append(go.Scatter(x=_r(t[m]), y=_r(p[m], 4)))
        for v in venues:
            upd.append(go.Scatter(x=_r(g.t_s[shown]), y=_r(g.spread_bp[v][shown], 3) if v in g.spread_bp else []))
        upd.append(go.Scatter(x=_r(g.t_s[shown]), y=_r(g.disagreement_bp[shown], 3)))
        for ylo, yhi in ((lo - pad, hi + pad), (0, sp_hi), (0, dis_hi)):
            upd.append(go.Scatter(x=[round(float(ft), 3)] * 2, y=[ylo, yhi]))
        frames.append(go.Frame(name=f"{ft:+.2f}", data=upd, traces=animated))
    fig.frames = frames
    # the whole event as the initial view (slider at the end); "Replay" animates it from the start
    for idx, tr in zip(animated, frames[-1].data, strict=True):
        fig.data[idx].x, fig.data[idx].y = tr.x, tr.y

    steps = [{"method": "animate", "label": f.name,
              "args": [[f.name], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                  "transition": {"duration": 0}}]} for f in frames]
    fig.update_layout(
        title={"text": title, "font": {"color": "#b00020" if data.provenance.simulated else "#222"},
               "y": 0.995, "yref": "container", "yanchor": "top"},
        height=1100, template="plotly_white", hovermode="closest",
        legend={"orientation": "h", "y": -0.12},
        sliders=[{"active": len(steps) - 1, "steps": steps, "x": 0.2, "len": 0.8, "y": 1.06, "yanchor": "bottom",
                  "currentvalue": {"prefix": "t − at = ", "suffix": " s", "xanchor": "right"},
                  "pad": {"t": 0}}],
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.0, "y": 1.075, "xanchor": "left", "yanchor": "bottom", "showactive": False,
                      "buttons": [
                          {"label": "⟲ Replay", "method": "animate",
                           "args": [None, {"frame": {"duration": frame_ms, "redraw": False}, "fromcurrent": False,
                                           "transition": {"duration": 0}}]},
                          {"label": "▶ Play", "method": "animate",
                           "args": [None, {"frame": {"duration": frame_ms, "redraw": False}, "fromcurrent": True,
                                           "transition": {"duration": 0}}]},
                          {"label": "❚❚ Pause", "method": "animate",
                           "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}]}],
        margin={"t": 190},
    )
    xr = [-half, half]
    for row in (1, 2, 3):
        fig.update_xaxes(range=xr, row=row, col=1)
    fig.update_yaxes(range=[lo - pad, hi + pad], title_text="price", row=1, col=1)
    fig.update_yaxes(range=[0, sp_hi], title_text="bp", row=2, col=1)
    fig.update_yaxes(range=[0, dis_hi], title_text="bp", row=3, col=1)
    fig.update_xaxes(title_text="lag (ms); > 0: A moved first", row=4, col=1)
    fig.update_yaxes(title_text="correlation", row=4, col=1)
    return fig


def summary_lines(data: ReplayData, leadlags: list[LeadLag]) -> list[str]:
    g = sample_grid(data)
    lines = []
    if data.provenance.simulated:
        lines.append(f"SIMULATED DATA: from the sandbox exchange ({data.provenance.reason})")
    lines.append(f"{data.symbol} replay {iso_ms(data.start)} .. {iso_ms(data.end)}")
    for v in data.venues:
        tr = data.trades.get(v)
        n = 0
        move = float("nan")
        if tr is not None:
            m = (tr.ts_ns >= to_ns(data.start)) & (tr.ts_ns <= to_ns(data.end))
            n = int(m.sum())
            if n >= 2:
                p = tr.price[m]
                move = (p[-1] / p[0] - 1) * 1e4
        sp = g.spread_bp.get(v)
        sp_txt = "n/a"
        if sp is not None and np.isfinite(sp).any():
            sp_txt = f"{np.nanmin(sp):.3f}..{np.nanmax(sp):.3f} bp"
        lines.append(f"  {v:<9} {n:>6} trades, move {move:+.1f} bp, spread {sp_txt}, mid from {g.mid_source.get(v)}")
    dis = g.disagreement_bp[np.isfinite(g.disagreement_bp)]
    if len(dis):
        at_max = float(g.t_s[np.nanargmax(g.disagreement_bp)])
        lines.append(f"  cross-venue disagreement: median {np.median(dis):.2f} bp, max {dis.max():.2f} bp "
                     f"at {at_max:+.2f} s")
    span = (data.leadlag_end - data.leadlag_start).total_seconds()
    for ll in leadlags:
        lines.append(f"  lead-lag over {span:g} s: {ll.describe()}")
    lines.extend(f"  note: {n}" for n in data.notes)
    return lines


def write_page(fig: go.Figure, path: Path, data: ReplayData, leadlags: list[LeadLag]) -> Path:
    """One self-contained HTML file (plotly.js inline: no CDN, works offline) with the summary above the plot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plot = fig.to_html(full_html=False, include_plotlyjs=True, auto_play=False, div_id="replay",
                       config={"displaylogo": False})
    from html import escape

    banner = ""
    if data.provenance.simulated:
        banner = ('<div style="background:#b00020;color:#fff;padding:8px 12px;font-weight:bold">'
                  "SIMULATED DATA: this replay shows the SchemaHub sandbox exchange, not a real market "
                  f"({escape(data.provenance.reason)})</div>")
    summary = "\n".join(escape(x) for x in summary_lines(data, leadlags))
    title = f"{'SIMULATED · ' if data.provenance.simulated else ''}{data.symbol} replay {iso_ms(data.at)}"
    html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;margin:0'>{banner}"
            f"<pre style='margin:8px 12px;font-size:12px'>{summary}</pre>{plot}</body></html>")
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
