"""What every venue rebuilder shares: output rows, the book-snapshot clock, gap records and field access errors.

A rebuilder is fed `RawLine`s in receive-time order and returns bronze rows (`Row`). Rows carry the venue's
own fields; the importer adds the lineage columns and writes them. Pure logic: no I/O here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ingest.recordings.book import BookError, L2Book
from ingest.recordings.lines import RawLine, RecordingError


@dataclass(frozen=True)
class Row:
    """One bronze row: table, venue symbol, receive time and the record (native fields + lineage keys)."""

    table: str
    symbol: str
    recv_ns: int
    record: dict[str, Any]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ns_to_dt(ns: int) -> dt.datetime:
    """Epoch nanoseconds -> aware UTC datetime, exact to the microsecond (no float rounding)."""
    return _EPOCH + dt.timedelta(microseconds=ns // 1000)


def loads(line: RawLine, venue: str) -> Any:
    """JSON of a recording line; numbers that are not integers stay exact (Decimal)."""
    try:
        return json.loads(line.text, parse_float=Decimal)
    except ValueError as exc:
        raise RecordingError(f"{line.where}: {venue}: malformed JSON payload ({exc})") from exc


def need(msg: Mapping[str, Any], key: str, line: RawLine, venue: str, what: str) -> Any:
    """A required field of a message; a missing one is a RecordingError naming file, line, venue and message."""
    try:
        value = msg[key]
    except (KeyError, TypeError):
        raise RecordingError(f"{line.where}: {venue} {what}: missing field {key!r}") from None
    if value is None:
        raise RecordingError(f"{line.where}: {venue} {what}: field {key!r} is null")
    return value


def text_levels(levels: Any, line: RawLine, venue: str, what: str) -> list[list[str]]:
    """Venue level arrays ([[price, size, ...], ...]) as text lists, exactly as sent."""
    if not isinstance(levels, list):
        raise RecordingError(f"{line.where}: {venue} {what}: levels are not a list: {str(levels)[:60]}")
    out = []
    for lv in levels:
        if not isinstance(lv, list) or len(lv) < 2:
            raise RecordingError(f"{line.where}: {venue} {what}: bad level {str(lv)[:60]}")
        out.append([str(x) for x in lv])
    return out


@dataclass
class SymbolState:
    """A symbol's rebuilt book and its snapshot clock."""

    book: L2Book | None = None
    next_snapshot_ns: int | None = None
    book_id: int | None = None  # venue update id / sequence of the last applied message
    extra: dict[str, Any] = field(default_factory=dict)


class Rebuilder:
    """Base of the per-venue rebuilders: owns the symbol states, the snapshot grid and the gap rows."""

    venue: str = ""

    def __init__(self, snapshot_interval_ns: int = 1_000_000_000, depth: int = 25) -> None:
        if snapshot_interval_ns <= 0:
            raise ValueError("snapshot interval must be positive")
        self.interval = snapshot_interval_ns
        self.depth = depth
        self.states: dict[str, SymbolState] = {}
        self.counts: Counter[str] = Counter()
        self.last_recv_ns = 0
        self.warnings: list[str] = []

    # -- to implement --------------------------------------------------------------------------
    def feed(self, line: RawLine) -> list[Row]:
        raise NotImplementedError

    def snapshot_record(self, symbol: str, state: SymbolState) -> dict[str, Any]:
        """Native fields of a depth snapshot of the rebuilt book."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def state(self, symbol: str) -> SymbolState:
        return self.states.setdefault(symbol, SymbolState())

    def tick(self, symbol: str, now_ns: int) -> list[Row]:
        """Snapshots of the book at every grid time <= now (state before the message received at now)."""
        self.last_recv_ns = max(self.last_recv_ns, now_ns)
        st = self.state(symbol)
        rows: list[Row] = []
        if st.book is None:
            st.next_snapshot_ns = None
            return rows
        if st.next_snapshot_ns is None:
            st.next_snapshot_ns = (now_ns // self.interval + 1) * self.interval
            return rows
        while st.next_snapshot_ns <= now_ns:
            rows.append(self._snapshot_row(symbol, st, st.next_snapshot_ns))
            st.next_snapshot_ns += self.interval
        return rows

    def book_ready(self, symbol: str, now_ns: int) -> None:
        """A (re)loaded book: snapshots resume at the next grid time after `now_ns`."""
        self.state(symbol).next_snapshot_ns = (now_ns // self.interval + 1) * self.interval

    def _snapshot_row(self, symbol: str, st: SymbolState, at_ns: int) -> Row:
        rec = self.snapshot_record(symbol, st)
        rec["_raw_payload"] = json.dumps(rec, separators=(",", ":"), default=str)
        rec["_source"] = f"{self.venue}.recording.book"
        rec["_recv_ts"] = ns_to_dt(at_ns)
        self.counts["book_snapshots"] += 1
        return Row(f"raw_{self.venue}_depth", symbol, at_ns, rec)

    def finish(self) -> list[Row]:
        """Snapshots up to the end of the recording for every symbol with a valid book."""
        rows: list[Row] = []
        for symbol in sorted(self.states):
            rows += self.tick(symbol, self.last_recv_ns)
        return rows

    def gap(self, symbol: str, line: RawLine, reason: str, last_good: Any, first_after: Any) -> Row:
        """An explicit gap record; the symbol's book is dropped until the next snapshot."""
        st = self.state(symbol)
        st.book, st.book_id, st.next_snapshot_ns = None, None, None
        self.counts["gaps"] += 1
        rec = {
            "venue": self.venue, "detected_at": ns_to_dt(line.recv_ns), "reason": reason,
            "last_good": None if last_good is None else str(last_good),
            "first_after": None if first_after is None else str(first_after),
            "_raw_payload": line.text, "_source": f"{self.venue}.recording.gap", "_recv_ts": ns_to_dt(line.recv_ns),
        }
        return Row("raw_book_gaps", symbol, line.recv_ns, rec)

    def row(self, table: str, symbol: str, line: RawLine, source: str, fields: dict[str, Any]) -> Row:
        rec = {**fields, "_raw_payload": line.text, "_source": f"{self.venue}.recording.{source}",
               "_recv_ts": ns_to_dt(line.recv_ns)}
        self.counts[table] += 1
        return Row(table, symbol, line.recv_ns, rec)

    def apply_levels(self, book: L2Book, side: str, levels: list[list[str]], line: RawLine, symbol: str) -> None:
        try:
            s = book.side(side)
            for lv in levels:
                s.set(lv[0], lv[1])
        except BookError as exc:
            raise RecordingError(f"{line.where}: {self.venue} {symbol}: {exc}") from exc
