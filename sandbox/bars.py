"""Pure: OHLCV bars computed from a venue's own simulated trades (so klines/candles/OHLC agree with trades)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.market import Tape


@dataclass
class Bars:
    """Non-empty bars only, ascending by open time. Prices in ticks, volumes in lots, quote volume in
    ticks*lots."""

    open_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    count: np.ndarray
    buy_volume: np.ndarray
    buy_quote_volume: np.ndarray

    def __len__(self) -> int:
        return len(self.open_ns)


def compute_bars(tape: Tape, n_visible: int, interval_ns: int, from_ns: int, to_ns: int) -> Bars:
    """Bars whose open time lies in [from_ns, to_ns] from the first `n_visible` trades of the tape."""
    lo_t = from_ns // interval_ns * interval_ns
    lo = int(np.searchsorted(tape.t_ns[:n_visible], lo_t, side="left"))
    hi = int(np.searchsorted(tape.t_ns[:n_visible], (to_ns // interval_ns + 1) * interval_ns, side="left"))
    t = tape.t_ns[lo:hi]
    px = tape.price[lo:hi].astype(np.int64)
    q = tape.qty[lo:hi].astype(np.int64)
    buy = tape.buy[lo:hi]
    if len(t) == 0:
        e = np.zeros(0, dtype=np.int64)
        return Bars(e, e, e, e, e, e, e, e, e, e)
    bucket = t // interval_ns
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(t)]
    pq = px * q
    return Bars(
        open_ns=bucket[starts] * interval_ns,
        open=px[starts],
        high=np.maximum.reduceat(px, starts),
        low=np.minimum.reduceat(px, starts),
        close=px[ends - 1],
        volume=np.add.reduceat(q, starts),
        quote_volume=np.add.reduceat(pq, starts),
        count=ends - starts,
        buy_volume=np.add.reduceat(np.where(buy, q, 0), starts),
        buy_quote_volume=np.add.reduceat(np.where(buy, pq, 0), starts),
    )


def last_close_before(tape: Tape, n_visible: int, t_ns: int) -> int | None:
    """Price (ticks) of the last visible trade strictly before t_ns, for flat bars over empty intervals."""
    i = int(np.searchsorted(tape.t_ns[:n_visible], t_ns, side="left"))
    return int(tape.price[i - 1]) if i > 0 else None
