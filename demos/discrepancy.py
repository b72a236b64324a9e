"""Cross-venue price disagreement (pure): quotes in, per-venue deviation from the median mid and flags out.

For one base asset (BTC) each venue quotes its own pair (BTCUSDT, BTC-USD, XBTUSD). At each moment we take
every venue's latest best bid/ask, its mid, the median of the venues' mids, and each venue's deviation from
that median in basis points. A venue whose |deviation| exceeds the threshold is flagged, and the flag
becomes an event recorded to the lake. Staleness is how old the quote is (now minus the venue's own book
time when it gives one, else our receive time), so a stale venue can be told apart from a real move.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime

import pyarrow as pa


@dataclass(frozen=True)
class Quote:
    venue: str
    symbol: str
    bid: float
    ask: float
    book_ts: datetime | None  # the venue's own time of the book, when it gives one
    recv_ts: datetime  # when we received it (or the snapshot time, for historical books)

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True)
class VenueRow:
    venue: str
    symbol: str
    bid: float
    ask: float
    mid: float
    spread_bp: float
    deviation_bp: float | None  # from the cross-venue median mid (None with fewer than 2 venues)
    staleness_ms: float
    flagged: bool


@dataclass(frozen=True)
class DiscrepancyEvent:
    detected_ts: datetime
    base: str
    venue: str
    symbol: str
    bid: float
    ask: float
    mid: float
    median_mid: float
    deviation_bp: float
    threshold_bp: float
    staleness_ms: float
    venues_quoted: int
    source: str  # live:<base url host> | lake
    simulated: bool


EVENT_SCHEMA = pa.schema([
    pa.field("detected_ts", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("base", pa.string(), nullable=False),
    pa.field("venue", pa.string(), nullable=False),
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("bid", pa.float64(), nullable=False),
    pa.field("ask", pa.float64(), nullable=False),
    pa.field("mid", pa.float64(), nullable=False),
    pa.field("median_mid", pa.float64(), nullable=False),
    pa.field("deviation_bp", pa.float64(), nullable=False),
    pa.field("threshold_bp", pa.float64(), nullable=False),
    pa.field("staleness_ms", pa.float64(), nullable=False),
    pa.field("venues_quoted", pa.int32(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("simulated", pa.bool_(), nullable=False),
])


def check_quote(q: Quote) -> None:
    """A crossed, empty or non-positive book is a data error, never a discrepancy."""
    if not (q.bid > 0 and q.ask > 0):
        raise ValueError(f"{q.venue} {q.symbol}: non-positive best bid/ask {q.bid}/{q.ask}")
    if q.bid > q.ask:
        raise ValueError(f"{q.venue} {q.symbol}: crossed book, best bid {q.bid} > best ask {q.ask}")


def assess(quotes: list[Quote], now: datetime, threshold_bp: float) -> tuple[list[VenueRow], float | None]:
    """Per-venue rows (sorted by venue) and the median mid across venues."""
    for q in quotes:
        check_quote(q)
    mids = [q.mid for q in quotes]
    median = statistics.median(mids) if len(mids) >= 2 else None
    rows = []
    for q in sorted(quotes, key=lambda x: x.venue):
        dev = (q.mid / median - 1) * 1e4 if median else None
        age = (now - (q.book_ts or q.recv_ts)).total_seconds() * 1000
        rows.append(VenueRow(q.venue, q.symbol, q.bid, q.ask, q.mid, (q.ask - q.bid) / q.mid * 1e4, dev,
                             max(age, 0.0), dev is not None and abs(dev) > threshold_bp))
    return rows, median


def events(rows: list[VenueRow], median: float | None, now: datetime, base: str, threshold_bp: float,
           source: str, simulated: bool) -> list[DiscrepancyEvent]:
    if median is None:
        return []
    return [DiscrepancyEvent(now, base, r.venue, r.symbol, r.bid, r.ask, r.mid, median, float(r.deviation_bp or 0.0),
                             threshold_bp, r.staleness_ms, len(rows), source, simulated)
            for r in rows if r.flagged]


def events_table(evts: list[DiscrepancyEvent]) -> pa.Table:
    return pa.Table.from_pylist([asdict(e) for e in evts], schema=EVENT_SCHEMA)
