"""The per-run report: a markdown page plus PNG plots, written beside the model in the registry.

Plots (matplotlib, Agg backend): IC per test block, feature importance, calibration, cumulative gross bp.
`render(...)` returns {file name: bytes}; the caller writes them through the Lake.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import numpy as np

from ml import metrics as M
from ml.dataset import is_cross_venue

PLOTS = {
    "ic_per_block.png": "IC per test block",
    "feature_importance.png": "Feature importance (gain, final model)",
    "calibration.png": "Calibration",
    "cumulative_gross_bp.png": "Cumulative gross bp of the threshold rule",
}


def _ts(ms: int | float | None, seconds: bool = False) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _f(v: Any, fmt: str = "{:.4f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return fmt.format(v)


def block_label(block_ms: int) -> str:
    if block_ms % 86_400_000 == 0:
        return f"{block_ms // 86_400_000} d"
    if block_ms % 3_600_000 == 0:
        return f"{block_ms // 3_600_000} h"
    return f"{block_ms / 60_000:g} min"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def plot_ic_per_block(metrics: dict[str, dict[str, Any]]) -> bytes:
    import matplotlib.pyplot as plt

    models = list(metrics)
    blocks = [b["block_start_ms"] for b in metrics[models[0]]["blocks"]]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(blocks) + 3), 4))
    width = 0.8 / len(models)
    x = np.arange(len(blocks))
    for i, m in enumerate(models):
        ics = [b["ic"] for b in metrics[m]["blocks"]]
        ax.bar(x + i * width - 0.4 + width / 2, ics, width, label=f"{m} (mean {metrics[m]['summary']['ic_mean']:.3f})")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [_ts(b) for b in blocks], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("IC (Pearson, score vs realised return)")
    ax.set_title("Out-of-sample IC per walk-forward test block")
    ax.legend(fontsize=7, ncol=2)
    return _png(fig)


def plot_importance(names: list[str], gains: np.ndarray, top: int = 25) -> bytes:
    import matplotlib.pyplot as plt

    order = np.argsort(gains)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(order) + 1)))
    colors = ["tab:orange" if is_cross_venue(names[j]) else "tab:blue" for j in order]
    total = gains.sum() or 1.0
    ax.barh([names[j] for j in order], gains[order] / total, color=colors)
    ax.set_xlabel("share of total gain (in-sample; orange = cross-venue)")
    ax.set_title("LightGBM feature importance (final model)")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def plot_calibration(preds: dict[str, dict[str, np.ndarray]], direction: np.ndarray, ret: np.ndarray) -> bytes:
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    nf = direction != 0
    up = (direction == 1).astype(float)
    a1.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    lo, hi = 1.0, 0.0
    for m, p in preds.items():
        pu = p["p_up"]
        if np.isnan(pu).all() or len(np.unique(pu[nf])) < 20:  # a handful of values (majority, persistence)
            continue
        q = np.unique(np.quantile(pu[nf], np.linspace(0, 1, 11)))
        if len(q) < 3:
            continue
        b = np.clip(np.searchsorted(q, pu[nf], side="right") - 1, 0, len(q) - 2)
        xs = np.array([pu[nf][b == k].mean() for k in range(len(q) - 1) if (b == k).any()])
        ys = np.array([up[nf][b == k].mean() for k in range(len(q) - 1) if (b == k).any()])
        a1.plot(xs, ys, marker="o", ms=3, label=m)
        lo, hi = min(lo, xs.min(), ys.min()), max(hi, xs.max(), ys.max())
    pad = 0.01
    a1.set_xlim(lo - pad, hi + pad)
    a1.set_ylim(lo - pad, hi + pad)
    a1.set_xlabel("predicted P(up | not flat), decile mean")
    a1.set_ylabel("observed up share")
    a1.set_title("Reliability (non-flat test rows)")
    if a1.get_legend_handles_labels()[0]:
        a1.legend(fontsize=7)
    else:
        a1.text(0.5, 0.5, "no probabilistic model\n(return target)", ha="center", va="center", transform=a1.transAxes)
    for m, p in preds.items():
        s = p["score"]
        if np.std(s) == 0:
            continue
        q = np.unique(np.quantile(s, np.linspace(0, 1, 11)))
        if len(q) < 3:
            continue
        b = np.clip(np.searchsorted(q, s, side="right") - 1, 0, len(q) - 2)
        a2.plot(range(len(q) - 1), [ret[b == k].mean() * 1e4 if (b == k).any() else np.nan for k in range(len(q) - 1)],
                marker="o", ms=3, label=m)
    a2.axhline(0, color="black", lw=0.8)
    a2.set_xlabel("score decile (0 = most bearish)")
    a2.set_ylabel("mean realised return (bp)")
    a2.set_title("Realised return by score decile")
    a2.legend(fontsize=7)
    return _png(fig)


def plot_cumulative(preds: dict[str, dict[str, np.ndarray]], ret: np.ndarray, ts_ms: np.ndarray) -> bytes:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    order = np.argsort(ts_ms, kind="stable")
    for m, p in preds.items():
        tr = p["trade"][order]
        k = tr != 0
        if not k.any():
            continue
        gross = np.cumsum(tr[k] * ret[order][k] * 1e4)
        times = [dt.datetime.fromtimestamp(t / 1000, tz=dt.UTC) for t in ts_ms[order][k]]
        ax.plot(times, gross, lw=1, label=f"{m} ({k.sum()} trades)")
    ax.axhline(0, color="black", lw=0.8)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    fig.autofmt_xdate()
    ax.set_ylabel("cumulative gross bp (before any cost)")
    ax.set_title("Threshold rule, mid to mid, one position per venue: gross, not net")
    ax.legend(fontsize=7)
    return _png(fig)


def render_markdown(meta: dict[str, Any], metrics: dict[str, dict[str, Any]], folds: list[dict[str, Any]]) -> str:
    run, data = meta["run"], meta["data"]
    v = meta["verdict"]
    lines = [
        f"# {meta['model_name']} {meta['version']}",
        "",
        f"Target **{run['target']}** at **{run['horizon_s']} s**, base {data['base']}"
        f"{' symbol ' + data['symbol'] if data.get('symbol') else ''}, venues {', '.join(data['exchanges'])}. "
        f"{data['rows']} gold rows ({data['rows_dropped_invalid']} more left out: label not valid) "
        f"from {_ts(data['start_ms'])} to {_ts(data['end_ms'])} UTC; "
        f"walk-forward over {block_label(run['block_ms'])} blocks, {len(folds)} test blocks, purge gap {run['gap_s']} s, "
        f"flat band {data['flat_bp']:.3g} bp.",
        "",
        f"- model sha256 `{meta['model_sha256']}`; data sha256 `{data['data_sha256']}`; "
        f"code `{meta['code_version']['git_commit']}`",
        f"- final model: trained {_ts(meta['final_model']['train_start_ms'])} - {_ts(meta['final_model']['train_end_ms'])}, "
        f"early-stopped on {_ts(meta['final_model']['valid_start_ms'])} - {_ts(meta['final_model']['valid_end_ms'])} "
        f"({meta['final_model']['best_iteration']} trees)",
        "",
        "## Verdict",
        "",
        f"- LightGBM mean block IC {v['lightgbm_ic_mean']:.4f}; "
        + ("**beats every baseline on IC**" if v["beats_every_baseline_on_ic"] else "**does NOT beat every baseline on IC**")
        + " (margins: " + ", ".join(f"{k} {x:+.4f}" for k, x in v["ic_margin_over"].items()) + ")",
    ]
    n_test = sum(int(f["test_rows"]) for f in folds)
    overlap = max(1.0, run["horizon_s"] / 2.0)  # 2 s grid: neighbouring labels overlap this many times
    lines.append(f"- Sampling noise: {n_test} test rows, labels overlapping {overlap:g}x, so the standard error of "
                 f"the pooled IC is about {math.sqrt(overlap / max(n_test, 1)):.4f}; margins smaller than about "
                 "twice that are not evidence.")
    for flag in v.get("red_flags", []):
        lines.append(f"- RED FLAG: {flag}")
    lines += ["- No net-profit claim: the economics below are gross, mid to mid; typical taker round trips cost "
              "10 bp (perp) to 20 bp (spot).", ""]
    lines += ["## Overall (all test rows)", "",
              "| model | IC mean | IC IR | IC>0 blocks | rank IC | pooled IC | acc non-flat [95% CI] | AUC | log loss / prior "
              "| top / bottom decile prec. | trades | gross bp/trade | break-even bp (round trip) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m, x in metrics.items():
        s, o = x["summary"], x["overall"]
        lines.append(
            f"| {m} | {_f(s['ic_mean'])} | {_f(s['icir'], '{:.2f}')} | {_f(s['ic_positive_share'], '{:.0%}')} | "
            f"{_f(s['rank_ic_mean'])} | {_f(o['ic'])} | {_f(o['accuracy'], '{:.2%}')} "
            f"[{_f(o['accuracy_ci_lo'], '{:.2%}')}, {_f(o['accuracy_ci_hi'], '{:.2%}')}] | {_f(o['auc'], '{:.3f}')} | "
            f"{_f(o['log_loss'])} / {_f(o['log_loss_prior'])} | {_f(o['top_decile_precision'], '{:.1%}')} / "
            f"{_f(o['bottom_decile_precision'], '{:.1%}')} | {o['trades']} | {_f(o['gross_bp_per_trade'], '{:.3f}')} | "
            f"{_f(o['break_even_cost_bp_round_trip'], '{:.3f}')} |")
    models = list(metrics)
    lines += ["", "## IC per test block", "", "| block (UTC) | rows | " + " | ".join(models) + " |",
              "|---|---|" + "---|" * len(models)]
    for i, b in enumerate(metrics[models[0]]["blocks"]):
        lines.append(f"| {_ts(b['block_start_ms'])} | {b['rows']} | "
                     + " | ".join(_f(metrics[m]["blocks"][i]["ic"]) for m in models) + " |")
    lines += ["", "## IC by venue (pooled test rows)", "", "| model | " + " | ".join(data["exchanges"]) + " |",
              "|---|" + "---|" * len(data["exchanges"])]
    for m in models:
        lines.append(f"| {m} | " + " | ".join(_f(metrics[m]["ic_by_exchange"].get(e)) for e in data["exchanges"]) + " |")
    lines += ["", "## Plots", ""]
    lines += [f"![{title}]({name})" for name, title in PLOTS.items()]
    lines += ["", "## Purge checks (leak canary on every fold)", "",
              "| fold | train from | early stop on | test block | train rows | last train label end | first test feature | gap ok |",
              "|---|---|---|---|---|---|---|---|"]
    for f in folds:
        p = f["purge"]
        lines.append(f"| {f['fold']} | {_ts(f['train_start_ms'])} | {_ts(f['valid_start_ms'])} | {_ts(f['test_start_ms'])} | "
                     f"{f['train_rows']} | {_ts(p['last_train_label_end_ms'], True)} | {_ts(p['first_test_feature_ms'], True)} | "
                     f"{'yes' if p['ok'] else 'NO'} |")
    canary = meta.get("canaries")
    if canary:
        lines += ["", "## Shuffled-label canary", "",
                  f"LightGBM on labels shuffled within each block, {len(canary['ic_means'])} seeds: mean IC "
                  f"{canary['mean_ic']:+.4f} (must stay within +-{canary['tolerance']}): "
                  f"{'pass' if canary['pass'] else 'FAIL'}."]
    lines += ["", "## Features", "", f"{len(meta['feature_names'])} inputs: " + ", ".join(f"`{n}`" for n in meta["feature_names"]),
              "", "Excluded columns: " + ", ".join(f"`{k}` ({r})" for k, r in sorted(data["excluded"].items())),
              "", "## How the numbers are computed", "", (M.__doc__ or "").split("\n\n", 1)[1].strip(), ""]
    return "\n".join(lines)


def render(meta: dict[str, Any], metrics: dict[str, dict[str, Any]], folds: list[dict[str, Any]],
           preds: dict[str, dict[str, np.ndarray]], direction: np.ndarray, ret: np.ndarray, ts_ms: np.ndarray,
           importance_names: list[str], importance_gain: np.ndarray) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    return {
        "report.md": render_markdown(meta, metrics, folds).encode(),
        "ic_per_block.png": plot_ic_per_block(metrics),
        "feature_importance.png": plot_importance(importance_names, importance_gain),
        "calibration.png": plot_calibration(preds, direction, ret),
        "cumulative_gross_bp.png": plot_cumulative(preds, ret, ts_ms),
    }
