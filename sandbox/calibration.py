"""Measure the statistics the sandbox is calibrated to, on the REAL samples and on the simulated market, with the
same code. Re-run:

    .venv/bin/python -m sandbox.calibration            # prints the markdown table of sandbox/CALIBRATION.md

Real samples (../shared/data/real, see each PROVENANCE.md): Binance BTCUSDT ticks and top-of-book of
2021-01-08 (nautilus-binance-ticks), Kraken XBTUSDT REST trades of 2025-11-10 (nautilus-kraken-rest) and
Coinbase BTC-USD REST trades of 2016-05-12 (coinbase-pro-node-rest-trades).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from schemahub import config


@dataclass
class Trades:
    """Trades of one sample: time (ns), size (base units), taker bought?"""

    t_ns: np.ndarray
    qty: np.ndarray
    buy: np.ndarray


def trade_stats(tr: Trades, time_res_ns: int) -> dict[str, float]:
    """Shape statistics of a trade sample; times are compared at `time_res_ns` resolution (1 ms for Binance)."""
    t = tr.t_ns // time_res_ns
    gaps = np.diff(t).astype(float)
    dur_s = (tr.t_ns[-1] - tr.t_ns[0]) / 1e9
    new_order = np.r_[True, (np.diff(t) > 0) | (tr.buy[1:] != tr.buy[:-1])]
    sign = np.where(tr.buy, 1.0, -1.0)
    lq = np.log(tr.qty)
    return {
        "trades per second": len(t) / dur_s,
        "share of trades at the same time as the previous one": float((gaps == 0).mean()),
        "inter-arrival coefficient of variation": float(gaps.std() / gaps.mean()),
        "fills per taker order (same time and side)": len(t) / float(new_order.sum()),
        "median trade size (base units)": float(np.median(tr.qty)),
        "sd of log trade size": float(lq.std()),
        "p99 / p50 trade size": float(np.quantile(tr.qty, 0.99) / np.median(tr.qty)),
        "lag-1 autocorrelation of trade signs": float(np.corrcoef(sign[:-1], sign[1:])[0, 1]),
        "share of taker buys": float(tr.buy.mean()),
    }


def spread_stats(bid: np.ndarray, ask: np.ndarray, tick: float) -> dict[str, float]:
    spread = ask - bid
    mid = (ask + bid) / 2
    return {
        "median spread (ticks)": float(np.median(np.round(spread / tick))),
        "share of quotes at a 1-tick spread": float((np.round(spread / tick) <= 1).mean()),
        "median spread (bp)": float(np.median(spread / mid * 1e4)),
        "mean spread (bp)": float(np.mean(spread / mid * 1e4)),
    }


def level_density(bids: list[float], asks: list[float], tick: float) -> float:
    """Resting levels per tick beyond the touch: (levels - 1) / (ticks spanned), averaged over both sides."""
    dens = []
    for side in (sorted(bids, reverse=True), sorted(asks)):
        span = abs(side[-1] - side[0]) / tick
        dens.append((len(side) - 1) / span)
    return float(np.mean(dens))


# ------------------------------------------------------------------------------------------------ real samples
def real_binance(real: Path) -> tuple[Trades, dict[str, float]]:
    import pyarrow.parquet as pq

    t = pq.read_table(real / "nautilus-binance-ticks" / "btcusdt-trades.parquet")
    ts = t.column("timestamp").cast("int64").to_numpy() * 1_000_000  # ms -> ns
    trades = Trades(ts, t.column("quantity").to_numpy(),
                    np.array([v == "False" for v in t.column("buyer_maker").to_pylist()]))
    q = pq.read_table(real / "nautilus-binance-ticks" / "btcusdt-quotes.parquet")
    return trades, spread_stats(q.column("bid").to_numpy(), q.column("ask").to_numpy(), 0.01)


def real_depth_densities(real: Path) -> dict[str, float]:
    """Level density of the real REST depth snapshots (Binance BTCUSDT 2021-10, Kraken XBTUSDT 2025-11)."""
    b = json.loads((real / "nautilus-binance-rest" / "http_spot_market_depth.json").read_text())
    k = json.loads((real / "nautilus-kraken-rest" / "http_order_book.json").read_text())["result"]["XBTUSDT"]
    return {"binance": level_density([float(p) for p, _ in b["bids"]], [float(p) for p, _ in b["asks"]], 0.01),
            "kraken": level_density([float(x[0]) for x in k["bids"]], [float(x[0]) for x in k["asks"]], 0.1)}


def sandbox_depth_density(market, venue: str, levels: int) -> float:
    spec = market.tape(venue, "BTC").spec
    out = []
    for s in np.linspace(0, market.n_steps - 1, 50).astype(int):
        b = market.book(venue, spec.symbol, market.start_ns + int(s) * 100_000_000, depth=levels)
        out.append(level_density([p for p, _ in b.bids], [p for p, _ in b.asks], 1.0))
    return float(np.mean(out))


def real_kraken(real: Path) -> Trades:
    body = json.loads((real / "nautilus-kraken-rest" / "http_trades.json").read_text(), parse_float=Decimal)
    rows = body["result"]["XBTUSDT"]
    return Trades(np.array([int(r[2] * 10**9) for r in rows]), np.array([float(r[1]) for r in rows]),
                  np.array([r[3] == "b" for r in rows]))


def real_coinbase(real: Path) -> Trades:
    pages = json.loads((real / "coinbase-pro-node-rest-trades" / "pubclient_stream_trades.json").read_text())
    rows = sorted({r["trade_id"]: r for p in pages for r in p["response"]}.values(), key=lambda r: r["trade_id"])
    t = np.array([int(dt.datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() * 1e6) * 1000
                  for r in rows])
    return Trades(t, np.array([float(r["size"]) for r in rows]), np.array([r["side"] == "sell" for r in rows]))


# ------------------------------------------------------------------------------------------------ sandbox
def sandbox_trades(market, venue: str, asset: str) -> Trades:
    tape = market.tape(venue, asset)
    return Trades(tape.t_ns, tape.qty / 10.0**tape.spec.lot_decimals, tape.buy)


def table(seed: int = 7, hours: float = 1.0, real: Path | None = None) -> str:
    """The calibration table as markdown."""
    from sandbox.market import Market

    real = real or config.PROJECT_ROOT.parent / "shared" / "data" / "real"
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    m = Market(seed, end - dt.timedelta(hours=hours), end)
    try:
        shown = "../" + real.resolve().relative_to(config.PROJECT_ROOT.parent.resolve()).as_posix()
    except ValueError:
        shown = str(real)
    lines = [f"Sandbox: seed {seed}, {hours:g} h ending {end:%Y-%m-%d %H:%M} UTC. Real samples: {shown}", ""]

    def block(title: str, real_stats: dict[str, float] | None, sim_stats: dict[str, float]) -> None:
        lines.extend([f"### {title}", "", "| statistic | real | sandbox |", "|---|---:|---:|"])
        for k, v in sim_stats.items():
            r = "n/a" if real_stats is None else f"{real_stats[k]:.4g}"
            lines.append(f"| {k} | {r} | {v:.4g} |")
        lines.append("")

    have = real.is_dir()
    rb, rq = real_binance(real) if have else (None, None)
    tape = m.tape("binance", "BTC")
    block("Binance BTCUSDT trades (real: 2021-01-08 ticks)", trade_stats(rb, 10**6) if rb else None,
          trade_stats(sandbox_trades(m, "binance", "BTC"), 10**6))
    block("Binance BTCUSDT top of book (real: 2021-01-08 quotes)", rq,
          spread_stats(tape.bid * 0.01, tape.ask * 0.01, 0.01))
    block("Kraken XBTUSD trades (real: XBTUSDT 2025-11-10 REST page)",
          trade_stats(real_kraken(real), 100) if have else None, trade_stats(sandbox_trades(m, "kraken", "BTC"), 100))
    block("Coinbase BTC-USD trades (real: 2016-05-12 REST pages)",
          trade_stats(real_coinbase(real), 1000) if have else None,
          trade_stats(sandbox_trades(m, "coinbase", "BTC"), 1000))
    dens = real_depth_densities(real) if have else {}
    lines.extend(["### Book level density (resting levels per tick beyond the touch, REST depth snapshots)", "",
                  "| venue | real | sandbox |", "|---|---:|---:|"])
    for venue, levels in (("binance", 10), ("kraken", 5)):
        r = f"{dens[venue]:.4g}" if venue in dens else "n/a"
        lines.append(f"| {venue} BTC (top {levels}) | {r} | {sandbox_depth_density(m, venue, levels):.4g} |")
    lines.append("")
    return "\n".join(lines)


def plot(out: Path, seed: int = 7, hours: float = 1.0, real: Path | None = None) -> Path:
    """A PNG comparing real and simulated distributions, plus two minutes of the three venues' BTC mids (the
    lags are visible). Everything simulated is labelled SIMULATED."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sandbox.market import STEP_NS, Market

    real = real or config.PROJECT_ROOT.parent / "shared" / "data" / "real"
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    m = Market(seed, end - dt.timedelta(hours=hours), end)
    sim = sandbox_trades(m, "binance", "BTC")
    rb, rq = real_binance(real) if real.is_dir() else (None, None)
    fig, ax = plt.subplots(2, 2, figsize=(12, 8))
    bins = np.linspace(-12, 2, 60)
    ax[0, 0].hist(np.log(sim.qty), bins, density=True, alpha=0.6, label="SIMULATED Binance BTCUSDT")
    if rb is not None:
        ax[0, 0].hist(np.log(rb.qty), bins, density=True, alpha=0.6, label="real BTCUSDT 2021-01-08")
    ax[0, 0].set(title="log trade size", xlabel="log(qty BTC)")
    gap_bins = np.linspace(0, 10, 51)
    sim_gaps = np.diff(sim.t_ns // 10**6).astype(float)
    ax[0, 1].hist(sim_gaps / sim_gaps.mean(), gap_bins, density=True, alpha=0.6, label="SIMULATED (~6 trades/s)")
    if rb is not None:
        real_gaps = np.diff(rb.t_ns // 10**6).astype(float)
        ax[0, 1].hist(real_gaps / real_gaps.mean(), gap_bins, density=True, alpha=0.6, label="real (~43 trades/s)")
    ax[0, 1].set(title="inter-arrival / its mean (shape; rates differ on purpose)", xlabel="gap / mean gap",
                 yscale="log")
    tape = m.tape("binance", "BTC")
    ticks = np.sort(tape.ask - tape.bid)
    ax[1, 0].plot(ticks, np.linspace(0, 1, len(ticks)), label="SIMULATED")
    if rq is not None:
        import pyarrow.parquet as pq

        q = pq.read_table(real / "nautilus-binance-ticks" / "btcusdt-quotes.parquet")
        rt = np.sort(np.round((q.column("ask").to_numpy() - q.column("bid").to_numpy()) / 0.01))
        ax[1, 0].plot(rt, np.linspace(0, 1, len(rt)), label="real 2021-01-08")
    ax[1, 0].set(title="spread CDF (ticks of 0.01)", xscale="symlog", xlabel="ticks")
    s0 = m.n_steps // 2
    steps = np.arange(s0, s0 + 1200)
    for venue in ("binance", "coinbase", "kraken"):
        t = m.tape(venue, "BTC")
        mid = (t.bid[steps] + t.ask[steps]) / 2 * t.spec.tick
        ax[1, 1].plot((steps - s0) * STEP_NS / 1e9, mid, label=f"SIMULATED {venue}")
    ax[1, 1].plot((steps - s0) * STEP_NS / 1e9, np.exp(m.latent("BTC").logp[steps]), "k:", label="latent")
    ax[1, 1].set(title="two minutes of BTC mids (Binance leads)", xlabel="seconds")
    for a in ax.flat:
        a.legend(fontsize=8)
    fig.suptitle(f"SchemaHub sandbox calibration -- SIMULATED market (seed {seed}) vs real samples")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--real", type=Path, default=None, help="folder of the real samples (default ../shared/data/real)")
    p.add_argument("--plot", type=Path, default=None, help="also write a PNG of the distributions to this file")
    a = p.parse_args(argv)
    print(table(a.seed, a.hours, a.real))
    if a.plot:
        print(f"plot: {plot(a.plot, a.seed, a.hours, a.real)}")


if __name__ == "__main__":
    main()
