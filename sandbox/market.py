"""A deterministic simulated market (BTC, ETH on Binance, Coinbase, Kraken) from a seed over a time window.

SIMULATED DATA. Model (per asset, on a 100 ms grid, vectorised with numpy/scipy):
- log-volatility: Ornstein-Uhlenbeck (30 min memory) times volatility bursts (Poisson arrivals, ~90 min apart,
  decaying over ~3 min);
- a hidden order-flow state `f` (OU, ~20 s memory, unit variance) drives the latent price drift
  (`dlog p = KAPPA * f * sigma * dt + sigma * dW`): the flow is visible FIRST in trade signs (P(buy) =
  sigmoid(SIGN_BETA * f), with persistence) and in the touch imbalance of the books, so a 10 s-ahead model can
  learn something real but modest;
- BTC and ETH share part of their shocks and flow.
Each venue follows the latent price with its own lag (Binance ~2-12 ms, Coinbase 40-120 ms, Kraken 150-400 ms),
basis, spread (in ticks), taker-order rate (scaled by volatility and |flow|), fills per order and fill-size
distribution (log-normal body + Pareto tail). Trades happen at the touch of the venue's book in force at that
instant (buys at the ask, sells at the bid); best bid < best ask always.

Venue quotes are sticky (a venue re-prices only when its lagged view of the latent price has moved more than a
small band), like discrete real price moves. Books beyond the touch are stateless functions of (price block,
slow epoch) through a counter-based hash, so a book at any instant costs O(depth) and consecutive books differ
only where levels really changed.

Same seed + same window => byte-identical output. Everything is generated lazily per (venue, asset) and cached.

Ids (trade_id, order_id, Binance update_id, Coinbase sequence) are increasing within a window and by default start
from a base derived from the window start (elapsed time * mean rate), so separate windows are only ROUGHLY
continuous. To build a long history window by window (bounded memory), pass `after=previous.carry()`: the new
window continues every id stream strictly after the previous window's last ids, starts its latent prices at the
previous window's last ones, and draws fresh randomness (keyed by seed AND window start).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
from scipy.signal import lfilter

from sandbox.specs import ASSET_SPECS, ASSETS, MARKETS, STICKY_BP, VENUES, MarketSpec, resolve

STEP_NS = 100_000_000  # 100 ms grid
DT = STEP_NS / 1e9
KAPPA = 0.06  # drift per unit flow, in sigma units per second
FLOW_TAU_S = 20.0
SIGN_BETA = 1.0
SIGN_PERSISTENCE = 0.1  # probability that a taker order copies the previous order's side
IMBALANCE_BETA = 0.5  # log touch-size imbalance per unit flow
LEVEL_REFRESH_STEPS = 25  # a block of resting levels beyond the touch changes about every 2.5 s
LEVELS_PER_BLOCK = 4
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def to_ns(t: dt.datetime) -> int:
    if t.tzinfo is None:
        raise ValueError(f"datetime {t!r} must be timezone-aware (UTC)")
    return int(Decimal(t.timestamp()).quantize(Decimal("0.000001")) * 1_000_000) * 1000


def _splitmix(x: np.ndarray) -> np.ndarray:
    """Counter-based hash (splitmix64 finaliser) on uint64 arrays; wraps modulo 2**64."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _M64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M64
        return z ^ (z >> np.uint64(31))


def _hash(*parts: np.ndarray | int) -> np.ndarray:
    h = np.zeros((), dtype=np.uint64)
    for p in parts:
        arr = np.asarray(p).astype(np.int64).view(np.uint64) if np.asarray(p).dtype != np.uint64 else np.asarray(p)
        with np.errstate(over="ignore"):
            h = _splitmix(h ^ arr)
    return h


def _unit(h: np.ndarray) -> np.ndarray:
    """uint64 hash -> uniform float in (0, 1)."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def _ou(eps: np.ndarray, tau_steps: float, std: float) -> np.ndarray:
    """Stationary OU path with the given memory (in steps) and standard deviation, driven by N(0,1) shocks."""
    a = math.exp(-1.0 / tau_steps)
    b = std * math.sqrt(1 - a * a)
    x0 = std * eps[0]
    out, _ = lfilter([b], [1.0, -a], eps[1:], zi=[a * x0])
    return np.concatenate([[x0], out])


def _sticky(x: np.ndarray, band: float) -> np.ndarray:
    """Hysteresis: hold the previous value until x moves more than `band` away from it (then jump to x).
    Sequential by nature (no numpy formulation); a tight loop over Python floats is fast enough here."""
    out: list[float] = []
    append = out.append
    cur = float(x[0])
    lo, hi = cur - band, cur + band
    for v in x.tolist():
        if v > hi or v < lo:
            cur, lo, hi = v, v - band, v + band
        append(cur)
    return np.asarray(out)


def _block_shape(spec: MarketSpec) -> tuple[int, int]:
    """(ticks per block, level slots per block) for a market's level density."""
    return max(8, round(LEVELS_PER_BLOCK / spec.level_density)), 3 * LEVELS_PER_BLOCK


def _persist(fresh: np.ndarray, copy_prob: float, u: np.ndarray) -> np.ndarray:
    """Each element copies its predecessor with probability copy_prob, else keeps its fresh value."""
    keep = u >= copy_prob
    keep[0] = True
    idx = np.maximum.accumulate(np.where(keep, np.arange(len(fresh)), 0))
    return fresh[idx]


@dataclass
class Latent:
    """The latent (fair) log price of one asset on the 100 ms grid."""

    logp: np.ndarray
    sigma: np.ndarray  # per sqrt-second
    flow: np.ndarray


@dataclass
class Tape:
    """One venue's market for one asset: quotes per step and every trade, as integer ticks/lots and ns."""

    spec: MarketSpec
    bid: np.ndarray  # best bid per step (ticks)
    ask: np.ndarray
    bid_top: np.ndarray  # size at the touch per step (lots)
    ask_top: np.ndarray
    update_id: np.ndarray  # Binance-style last update id of the book at the end of each step
    sequence: np.ndarray  # Coinbase-style sequence after each step (l2update + matches consume numbers)
    t_ns: np.ndarray  # trades: event time (ns), ascending
    price: np.ndarray  # ticks
    qty: np.ndarray  # lots
    buy: np.ndarray  # taker bought
    trade_id: np.ndarray
    order_id: np.ndarray  # one taker order = one Binance aggTrade id
    step: np.ndarray  # grid step of each trade

    def first_trade_at_or_after(self, t_ns: int) -> int:
        return int(np.searchsorted(self.t_ns, t_ns, side="left"))

    def visible(self, now_ns: int | None) -> int:
        """Number of trades with event time <= now (all when now is None)."""
        return len(self.t_ns) if now_ns is None else int(np.searchsorted(self.t_ns, now_ns, side="right"))


@dataclass(frozen=True)
class LastIds:
    """The last id of each stream of one venue and asset at the end of a window."""

    trade_id: int
    order_id: int
    update_id: int  # Binance-style book update id
    sequence: int  # Coinbase-style sequence


@dataclass(frozen=True)
class Carry:
    """What a following window needs to continue this one (`Market.carry()` -> `Market(..., after=carry)`)."""

    end_ns: int  # end of the window it was taken from; a following window must not start before it
    ids: dict[tuple[str, str], LastIds]  # (venue, asset) -> last ids
    logp: dict[str, float]  # asset -> latent log price at the last step


@dataclass
class Book:
    """Top of a venue's book at one instant: prices in ticks, sizes in lots, best first."""

    spec: MarketSpec
    step: int
    at_ns: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
    update_id: int
    sequence: int


def fmt_fixed(value: int, decimals: int, pad: int | None = None) -> str:
    """Integer in units of 10**-decimals -> decimal text with `pad` (default `decimals`) fraction digits."""
    pad = decimals if pad is None else pad
    sign = "-" if value < 0 else ""
    v = abs(int(value))
    if decimals == 0:
        whole, frac = str(v), ""
    else:
        s = str(v).rjust(decimals + 1, "0")
        whole, frac = s[:-decimals], s[-decimals:]
    frac = (frac + "0" * pad)[:pad] if pad >= len(frac) else frac[:pad]
    return f"{sign}{whole}.{frac}" if pad else f"{sign}{whole}"


class Market:
    """The simulated market of a seed over [start, end]. Thread-safe lazy generation, cached per venue/asset."""

    def __init__(self, seed: int, start: dt.datetime, end: dt.datetime, assets: tuple[str, ...] = ASSETS,
                 after: Carry | None = None) -> None:
        """`after`: continue from an earlier window (`earlier.carry()`) ending at or before `start`: ids go on
        strictly increasing, latent prices go on from where they were; None (default) = a standalone window."""
        if end <= start:
            raise ValueError(f"sandbox market window is empty: start {start.isoformat()} >= end {end.isoformat()}")
        unknown = [a for a in assets if a not in ASSET_SPECS]
        if unknown:
            raise ValueError(f"unknown sandbox asset(s) {unknown}; known: {', '.join(ASSETS)}")
        self.seed = int(seed)
        self.start, self.end = start, end
        self.assets = tuple(assets)
        # Align the grid to whole steps so that windows with the same start share their grid.
        self.start_ns = to_ns(start) // STEP_NS * STEP_NS
        self.end_ns = to_ns(end)
        self.n_steps = math.ceil((self.end_ns - self.start_ns) / STEP_NS)
        if after is not None:
            if after.end_ns > self.start_ns:
                raise ValueError(f"sandbox market window starting {start.isoformat()} cannot continue a window ending "
                                 f"later ({after.end_ns} ns)")
            missing = sorted({a for a in self.assets if a not in after.logp})
            if missing:
                raise ValueError(f"sandbox market: the carried state has no asset(s) {missing}")
        self.after = after
        # a continued window draws fresh randomness: keyed by the window start too (else it would replay the first)
        self._seed_key = (self.seed,) if after is None else (self.seed, self.start_ns // STEP_NS)
        self._latent: dict[str, Latent] = {}
        self._tapes: dict[tuple[str, str], Tape] = {}
        self._common: dict[str, np.ndarray] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ random streams
    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([*self._seed_key, *key]))

    def _common_shocks(self, name: str) -> np.ndarray:
        with self._lock:
            if name not in self._common:
                self._common[name] = self._rng(999, {"price": 0, "flow": 1}[name]).standard_normal(self.n_steps)
            return self._common[name]

    # ------------------------------------------------------------------ latent price
    def latent(self, asset: str) -> Latent:
        with self._lock:
            if asset not in self._latent:
                self._latent[asset] = self._make_latent(asset)
            return self._latent[asset]

    def _make_latent(self, asset: str) -> Latent:
        spec = ASSET_SPECS[asset]
        n = self.n_steps
        rng = self._rng(1, spec.index)
        sigma0 = spec.sigma_day / math.sqrt(86400.0)
        h = _ou(rng.standard_normal(n), 30 * 60 / DT, 0.35)
        burst_imp = np.where(rng.random(n) < DT / (90 * 60), rng.uniform(1.0, 3.0, n), 0.0)
        burst = lfilter([1.0], [1.0, -math.exp(-DT / 180.0)], burst_imp)
        sigma = sigma0 * np.exp(h - 0.35**2 / 2) * (1.0 + burst)
        rho = 0.0 if asset == "BTC" else 0.75  # ETH shares BTC's shocks
        eps = rho * self._common_shocks("price") + math.sqrt(1 - rho * rho) * rng.standard_normal(n) \
            if asset != "BTC" else self._common_shocks("price")
        frho = 0.0 if asset == "BTC" else 0.5
        feps = frho * self._common_shocks("flow") + math.sqrt(1 - frho * frho) * rng.standard_normal(n) \
            if asset != "BTC" else self._common_shocks("flow")
        flow = _ou(feps, FLOW_TAU_S / DT, 1.0)
        dlogp = KAPPA * flow * sigma * DT + sigma * math.sqrt(DT) * eps
        p0 = math.log(spec.price0) + 0.05 * self._rng(2, spec.index).standard_normal() if self.after is None \
            else self.after.logp[asset]
        logp = p0 + np.cumsum(dlogp)
        return Latent(logp=logp, sigma=sigma / sigma0, flow=flow)

    # ------------------------------------------------------------------ venue tapes
    def tape(self, venue: str, symbol_or_asset: str) -> Tape:
        spec = MARKETS.get((venue, symbol_or_asset)) or resolve(venue, symbol_or_asset)
        if spec.asset not in self.assets:
            raise ValueError(f"{venue}: asset {spec.asset} is not simulated in this sandbox (assets {self.assets})")
        with self._lock:
            if spec.key not in self._tapes:
                self._tapes[spec.key] = self._make_tape(spec)
            return self._tapes[spec.key]

    def _make_tape(self, spec: MarketSpec) -> Tape:
        lat = self.latent(spec.asset)
        n = self.n_steps
        key = (3, ASSET_SPECS[spec.asset].index, spec.venue_index)
        rng = self._rng(*key)
        # Venue view of the latent price: lagged (interpolated on the grid), plus basis.
        lo, hi = spec.lag_ms
        lag_steps = (lo + (hi - lo) * (0.5 + 0.5 * np.tanh(_ou(rng.standard_normal(n), 50.0, 1.0)))) / (DT * 1000)
        pos = np.clip(np.arange(n) - lag_steps, 0, n - 1)
        logmid = np.interp(pos, np.arange(n), lat.logp)
        basis = (spec.basis_bp + _ou(rng.standard_normal(n), 600.0, spec.basis_noise_bp)) * 1e-4
        mid_ticks = np.exp(_sticky(logmid + basis, STICKY_BP[spec.venue] * 1e-4)) / spec.tick
        ticks, probs = zip(*spec.spread_ticks, strict=True)
        fresh = rng.choice(np.array(ticks), size=n, p=np.array(probs) / sum(probs))
        spread = _persist(fresh, 0.95, rng.random(n))
        spread = np.maximum(1, np.round(spread * np.sqrt(np.maximum(lat.sigma, 0.5)))).astype(np.int64)
        bid = np.floor(mid_ticks - spread / 2.0).astype(np.int64)
        ask = bid + spread
        # Touch sizes carry the hidden flow (imbalance) -- visible before the price moves.
        lot = 10.0**spec.lot_decimals
        top_mu = spec.level_size_log_mean + math.log(lot)
        # (the noise persists: a touch size is redrawn on about 40% of the steps)
        noise_b = _persist(rng.standard_normal(n), 0.6, rng.random(n))
        noise_a = _persist(rng.standard_normal(n), 0.6, rng.random(n))
        bid_top = np.maximum(1, np.exp(top_mu + IMBALANCE_BETA * np.round(lat.flow, 1) + 0.6 * noise_b))
        ask_top = np.maximum(1, np.exp(top_mu - IMBALANCE_BETA * np.round(lat.flow, 1) + 0.6 * noise_a))
        # Taker orders: Poisson per step, rate scaled by volatility and |flow| (normalised to the spec's mean).
        # (a fast log-normal "burstiness" factor with ~5 s memory makes arrivals cluster like real ones)
        burst = np.exp(_ou(rng.standard_normal(n), 50.0, 0.8))
        activity = np.sqrt(lat.sigma) * (1.0 + 0.4 * np.abs(lat.flow)) * burst
        activity /= activity.mean()
        order_rate = spec.fills_per_s / spec.fills_per_order
        counts = rng.poisson(order_rate * DT * activity)
        n_orders = int(counts.sum())
        o_step = np.repeat(np.arange(n, dtype=np.int64), counts)
        quantum = 100 if spec.venue == "kraken" else 1000  # Kraken times carry 100 ns digits, others µs
        o_off = (rng.random(n_orders) * STEP_NS // quantum).astype(np.int64) * quantum
        o_t = self.start_ns + o_step * STEP_NS + o_off
        order = np.argsort(o_t, kind="stable")
        o_t, o_step = o_t[order], o_step[order]
        p_buy = 1.0 / (1.0 + np.exp(-SIGN_BETA * lat.flow[o_step]))
        o_buy = _persist(rng.random(n_orders) < p_buy, SIGN_PERSISTENCE, rng.random(n_orders))
        o_fills = rng.geometric(1.0 / spec.fills_per_order, n_orders)
        # Fills
        f_order = np.repeat(np.arange(n_orders, dtype=np.int64), o_fills)
        n_fills = len(f_order)
        size = np.exp(spec.size_log_mean + spec.size_log_sd * rng.standard_normal(n_fills))
        tail = rng.random(n_fills) < spec.tail_prob
        size = np.where(tail, size * (1.0 + rng.pareto(spec.tail_alpha, n_fills)), size)
        qty = np.maximum(1, np.round(size * lot)).astype(np.int64)
        f_step = o_step[f_order]
        f_buy = o_buy[f_order]
        price = np.where(f_buy, ask[f_step], bid[f_step])
        t_ns = o_t[f_order]
        if spec.venue == "coinbase":  # Coinbase stamps each fill of an order a few µs apart (matching engine order)
            first = np.r_[0, np.flatnonzero(np.diff(f_order)) + 1]
            k = np.arange(n_fills) - np.repeat(first, np.diff(np.r_[first, n_fills]))
            t_ns = t_ns + k * 7_000
            # the engine matches in id order: a fill never carries an earlier time than the fill before it
            t_ns = np.maximum.accumulate(t_ns)
        keep = t_ns < self.end_ns
        f_order, f_step, f_buy, price, qty, t_ns = (a[keep] for a in (f_order, f_step, f_buy, price, qty, t_ns))
        # Ids: per venue and symbol, increasing, large, roughly continuous across windows (exactly when `after`).
        elapsed = self.start_ns / 1e9 - 1.6e9
        tid0 = spec.trade_id_base + int(max(elapsed, 0) * spec.fills_per_s)
        oid0 = spec.trade_id_base // 2 + int(max(elapsed, 0) * order_rate)
        upd0 = 10_000_000_000 + spec.trade_id_base + int(max(elapsed, 0) * 40)
        seq0 = 20_000_000_000 + spec.trade_id_base * 3 + int(max(elapsed, 0) * 15)
        last = self.after.ids.get(spec.key) if self.after is not None else None
        if last is not None:
            tid0, oid0, upd0, seq0 = last.trade_id + 1, last.order_id + 1, last.update_id, last.sequence
        trade_id = tid0 + np.arange(len(t_ns), dtype=np.int64)
        order_id = oid0 + f_order
        # Book versions: Binance update ids and Coinbase sequence numbers per step.
        per_step_fills = np.bincount(f_step, minlength=n)
        upd = 1 + rng.poisson(3.0 * activity)
        update_id = upd0 + np.cumsum(upd)
        sequence = seq0 + np.cumsum(1 + per_step_fills)
        return Tape(spec, bid, ask, bid_top.astype(np.int64), ask_top.astype(np.int64), update_id, sequence,
                    t_ns, price.astype(np.int64), qty, f_buy, trade_id, order_id, f_step)

    def carry(self, venues: tuple[str, ...] = VENUES) -> Carry:
        """The state a window starting at (or after) this one's end continues from (see `after`). Generates the
        tapes of every venue and asset not generated yet. (A tape without trades carries its predecessor's last
        trade and order ids, or 0: it issued none.)"""
        ids: dict[tuple[str, str], LastIds] = {}
        for venue in venues:
            for asset in self.assets:
                t = self.tape(venue, asset)
                prev = self.after.ids.get(t.spec.key) if self.after is not None else None
                n_trades = len(t.trade_id)
                ids[t.spec.key] = LastIds(
                    trade_id=int(t.trade_id[-1]) if n_trades else (prev.trade_id if prev else 0),
                    order_id=int(t.order_id[-1]) if n_trades else (prev.order_id if prev else 0),
                    update_id=int(t.update_id[-1]), sequence=int(t.sequence[-1]))
        return Carry(end_ns=self.end_ns, ids=ids, logp={a: float(self.latent(a).logp[-1]) for a in self.assets})

    # ------------------------------------------------------------------ books
    def step_at(self, at_ns: int) -> int:
        return int(min(max((at_ns - self.start_ns) // STEP_NS, 0), self.n_steps - 1))

    def book_levels(self, venue: str, symbol: str, steps: np.ndarray, depth: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top `depth` levels for many steps at once: (bid_px, bid_qty, ask_px, ask_qty), each (len(steps), depth),
        prices in ticks (best first), sizes in lots."""
        tape = self.tape(venue, symbol)
        spec = tape.spec
        steps = np.asarray(steps, dtype=np.int64)
        out = []
        for side, best, top in ((0, tape.bid[steps], tape.bid_top[steps]), (1, tape.ask[steps], tape.ask_top[steps])):
            px, qty = self._side_levels(spec, side, steps, best, depth)
            qty[:, 0] = top
            out += [px, qty]
        return out[0], out[1], out[2], out[3]

    def _side_levels(self, spec: MarketSpec, side: int, steps: np.ndarray, best: np.ndarray, depth: int
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Resting levels beyond the touch. The price axis is cut into blocks of B ticks holding ~LEVELS_PER_BLOCK
        levels each; a block's levels (offsets, sizes) are a hash of (block, epoch), and each block refreshes every
        LEVEL_REFRESH_STEPS steps at its own phase. Cost O(depth), whatever the density."""
        rows = len(steps)
        if depth <= 1:
            return best[:, None], np.zeros((rows, 1), dtype=np.int64)
        b, m_slots = _block_shape(spec)
        p_slot = spec.level_density * b / m_slots
        salt = self._salt(spec, side)
        big = np.iinfo(np.int64).max
        nb = max(2, math.ceil((depth - 1) / LEVELS_PER_BLOCK * 1.5) + 2)
        while True:
            sign = -1 if side == 0 else 1
            j0 = (best - 1) // b if side == 0 else (best + 1) // b
            j = j0[:, None] + sign * np.arange(nb, dtype=np.int64)[None, :]
            phase = (_hash(salt, j, 1) % np.uint64(LEVEL_REFRESH_STEPS)).astype(np.int64)
            epoch = (steps[:, None] + phase) // LEVEL_REFRESH_STEPS
            slot = np.arange(m_slots, dtype=np.int64)[None, None, :]
            h = _hash(salt, j[:, :, None], epoch[:, :, None], slot)
            present = _unit(h) < p_slot
            px = j[:, :, None] * b + (_splitmix(h ^ np.uint64(0x5EED)) % np.uint64(b)).astype(np.int64)
            valid = present & ((px < best[:, None, None]) if side == 0 else (px > best[:, None, None]))
            px2, h2 = px.reshape(rows, -1), h.reshape(rows, -1)
            key = np.where(valid.reshape(rows, -1), -px2 if side == 0 else px2, big)
            order = np.argsort(key, axis=1, kind="stable")
            skey = np.take_along_axis(key, order, axis=1)
            dup = np.concatenate([np.zeros((rows, 1), dtype=bool), skey[:, 1:] == skey[:, :-1]], axis=1)
            skey = np.where(dup, big, skey)
            order2 = np.argsort(skey, axis=1, kind="stable")[:, : depth - 1]
            if (np.take_along_axis(skey, order2, axis=1) != big).all():
                break
            nb *= 2
        idx = np.take_along_axis(order, order2, axis=1)
        sel_px = np.take_along_axis(px2, idx, axis=1)
        sel_h = np.take_along_axis(h2, idx, axis=1)
        u1, u2 = _unit(_splitmix(sel_h)), _unit(_splitmix(sel_h ^ np.uint64(0xABCDEF)))
        z = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
        lots = np.maximum(1, np.round(np.exp(spec.level_size_log_mean + 1.0 * z) * 10.0**spec.lot_decimals))
        all_px = np.concatenate([best[:, None], sel_px], axis=1)
        all_qty = np.concatenate([np.zeros((rows, 1), dtype=np.int64), lots.astype(np.int64)], axis=1)
        return all_px, all_qty

    def _salt(self, spec: MarketSpec, side: int) -> int:
        return self.seed * 1_000_003 + ASSET_SPECS[spec.asset].index * 101 + spec.venue_index * 7 + side

    def level_changed_steps(self, venue: str, symbol: str, side: int, step: int, prices: list[int]) -> np.ndarray:
        """Grid step at which each resting level (side 0 = bids, 1 = asks) last changed, as of `step`."""
        tape = self.tape(venue, symbol)
        px = np.asarray(prices, dtype=np.int64)
        block = px // _block_shape(tape.spec)[0]
        phase = (_hash(self._salt(tape.spec, side), block, 1) % np.uint64(LEVEL_REFRESH_STEPS)).astype(np.int64)
        changed = np.maximum((step + phase) // LEVEL_REFRESH_STEPS * LEVEL_REFRESH_STEPS - phase, 0)
        best = tape.bid[step] if side == 0 else tape.ask[step]
        return np.where(px == best, step, changed)

    def book(self, venue: str, symbol: str, at: dt.datetime | int, depth: int = 10) -> Book:
        """The venue's book at an instant (datetime or ns): top `depth` levels per side."""
        at_ns = at if isinstance(at, int) else to_ns(at)
        tape = self.tape(venue, symbol)
        s = self.step_at(at_ns)
        bp, bq, ap, aq = self.book_levels(venue, symbol, np.array([s]), depth)
        return Book(tape.spec, s, at_ns, list(zip(bp[0].tolist(), bq[0].tolist(), strict=True)),
                    list(zip(ap[0].tolist(), aq[0].tolist(), strict=True)), int(tape.update_id[s]),
                    int(tape.sequence[s]))

    def mid(self, venue: str, symbol: str, at: dt.datetime | int) -> float:
        """Mid price of the venue's book at an instant."""
        at_ns = at if isinstance(at, int) else to_ns(at)
        tape = self.tape(venue, symbol)
        s = self.step_at(at_ns)
        return float((tape.bid[s] + tape.ask[s]) / 2 * tape.spec.tick)

    def latent_mid(self, asset: str, at: dt.datetime | int) -> float:
        at_ns = at if isinstance(at, int) else to_ns(at)
        return float(np.exp(self.latent(asset).logp[self.step_at(at_ns)]))

    # ------------------------------------------------------------------ ground truth
    def trades(self, venue: str, symbol: str) -> pa.Table:
        """Every simulated trade of a venue and symbol in the window, venue-native values as text.

        Columns: trade_id (int64), price, qty (decimal text at the venue's precision), time_ns (int64 event time),
        time (the venue's own time text: Binance ms, Coinbase ISO-8601 µs, Kraken decimal seconds),
        taker_side ("buy"/"sell"), order_id (int64; Binance aggTrade id).
        """
        from sandbox import formats  # local import: formats imports this module

        tape = self.tape(venue, symbol)
        spec = tape.spec
        prices = formats.price_texts(spec, tape.price)
        qtys = formats.qty_texts(spec, tape.qty)
        times = formats.time_texts(spec.venue, tape.t_ns)
        return pa.table({
            "trade_id": pa.array(tape.trade_id, pa.int64()),
            "price": pa.array(prices, pa.string()),
            "qty": pa.array(qtys, pa.string()),
            "time_ns": pa.array(tape.t_ns, pa.int64()),
            "time": pa.array(times, pa.string()),
            "taker_side": pa.array(np.where(tape.buy, "buy", "sell"), pa.string()),
            "order_id": pa.array(tape.order_id, pa.int64()),
        })
