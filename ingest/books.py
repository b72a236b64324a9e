"""`schemahub books`: poll REST order-book depth on a fixed clock and land it in raw_<venue>_depth.

Every poll goes through the venue connector (`ingest.connectors`) and therefore the one shared HTTP client:
its per-venue rate limits, retries and error classes apply. Each row carries the receive time (`_recv_ts`)
and, where the venue gives one, the venue's own time (Coinbase `time`; Kraken per-level timestamps inside the
levels; Binance sends none, only `lastUpdateId`).

One thread per venue keeps its own schedule (Kraken's ~1 request/s must not slow Binance down). Ticks are at
start + k * interval; when a venue falls behind (rate limit, retries) the missed ticks are skipped and counted,
never bunched up. Rows are written in bounded batches; a fatal error (unknown symbol, a response with missing
fields, an unreachable host) stops every venue, the rows already fetched are written, and the error is raised.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemahub.cli import SchemaHubError
from schemahub.config import VENUES

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class BooksError(SchemaHubError):
    """Bad arguments for, or a failed, depth polling run (names venue and symbol)."""


def parse_duration(text: str, what: str) -> float:
    """'1s', '500ms', '60s', '5m', '1h' or plain seconds -> seconds."""
    m = _DURATION.match(text.strip())
    if not m or float(m[1]) <= 0:
        raise BooksError(f"bad {what} {text!r}: expected a positive duration like 500ms, 1s, 60s, 5m, 1h")
    return float(m[1]) * _UNITS[m[2]]


def parse_targets(venues_arg: str, symbols_arg: str | None) -> list[tuple[str, str]]:
    """(venue, symbol) pairs. Symbols: `venue:SYMBOL` entries, or plain symbols when one venue is selected;
    without --symbols each venue's default symbols."""
    from ingest.connectors import binance, coinbase, kraken

    defaults = {"binance": binance.Binance.default_symbols, "coinbase": coinbase.Coinbase.default_symbols,
                "kraken": kraken.Kraken.default_symbols}
    venues = [v.strip().lower() for v in venues_arg.split(",") if v.strip()]
    for v in venues:
        if v not in VENUES:
            raise BooksError(f"unknown venue {v!r}; known venues: {', '.join(VENUES)}")
    if not venues:
        raise BooksError("no venue given")
    if not symbols_arg:
        return [(v, s) for v in venues for s in defaults[v]]
    out = []
    for item in (x.strip() for x in symbols_arg.split(",")):
        if not item:
            continue
        if ":" in item:
            v, s = item.split(":", 1)
            v = v.strip().lower()
            if v not in venues:
                raise BooksError(f"symbol {item!r} names venue {v!r}, which is not in --venue {venues_arg!r}")
        elif len(venues) == 1:
            v, s = venues[0], item
        else:
            raise BooksError(f"symbol {item!r}: with several venues write venue:SYMBOL "
                             "(e.g. binance:BTCUSDT,coinbase:BTC-USD,kraken:XBTUSD)")
        if not re.match(r"^[A-Za-z0-9./-]{2,30}$", s.strip()):
            raise BooksError(f"{v}: bad symbol {s!r}")
        out.append((v, s.strip()))
    return out


@dataclass
class BooksSummary:
    polls: Counter[str] = field(default_factory=Counter)  # venue:symbol -> successful polls
    late_ticks: Counter[str] = field(default_factory=Counter)  # venue -> ticks skipped because it fell behind
    rows: Counter[str] = field(default_factory=Counter)  # table -> rows written
    files: int = 0


def fetch_depth(connector: Any, venue: str, symbol: str, levels: int) -> Any:
    """One depth page through the venue's connector (top `levels` where the venue takes a limit)."""
    if venue == "binance":
        return connector.depth(symbol, limit=levels)
    if venue == "coinbase":
        return connector.book(symbol, level=2)  # level 2 = the aggregated book; no size parameter exists
    return connector.depth(symbol, count=levels)


def poll_books(client: Any, targets: list[tuple[str, str]], *, interval_s: float, duration_s: float,
               writer: Any, levels: int = 25, batch_rows: int = 2_000,
               clock: Callable[[], float] = time.monotonic, progress: Any = None) -> BooksSummary:
    """Poll every target each `interval_s` for `duration_s`; write raw_<venue>_depth rows; return counts."""
    from ingest.connectors.binance import Binance
    from ingest.connectors.coinbase import Coinbase
    from ingest.connectors.kraken import Kraken
    from ingest.recordings.batches import PendingRows

    connectors = {"binance": Binance, "coinbase": Coinbase, "kraken": Kraken}
    summary = BooksSummary()
    batches = PendingRows(writer, batch_rows)
    stop = threading.Event()
    errors: list[BaseException] = []
    by_venue: dict[str, list[str]] = {}
    for v, s in targets:
        by_venue.setdefault(v, []).append(s)
    start = clock()

    def run_venue(venue: str, symbols: list[str]) -> None:
        conn = connectors[venue](client)
        tick = 0
        try:
            while not stop.is_set():
                due = start + tick * interval_s
                if due - start >= duration_s:
                    return
                wait = due - clock()
                if wait > 0 and stop.wait(wait):
                    return
                for sym in symbols:
                    page = fetch_depth(conn, venue, sym, levels)
                    for row in page.bronze_rows():
                        batches.add(page.records[0].table, sym, row)
                    summary.polls[f"{venue}:{sym}"] += 1
                    if progress is not None:
                        progress.update(1)
                behind = int((clock() - start) // interval_s)  # the tick whose slot we are in now
                skipped = max(0, behind - tick)
                summary.late_ticks[venue] += skipped
                tick = max(tick + 1, behind + 1) if skipped else tick + 1
        except BaseException as exc:  # any failure stops every venue; re-raised by the caller's thread
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=run_venue, args=(v, s), name=f"books-{v}", daemon=True)
               for v, s in by_venue.items()]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
        batches.flush(final=True)
        raise
    batches.flush(final=True)  # whatever was fetched before a failure is complete and is kept
    summary.rows.update(batches.rows_written)
    summary.files = batches.files_written
    if errors:
        exc = errors[0]
        if isinstance(exc, SchemaHubError):
            raise exc
        raise BooksError(f"depth polling failed: {type(exc).__name__}: {exc}") from exc
    return summary
