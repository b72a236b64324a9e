"""Klines / candles / OHLC into bronze (raw_<venue>_klines), kept for reconciliation against bars built from
trades. Only CLOSED bars are written (the venues' last row is the still-open one), so a bar in bronze never
changes; each (venue, symbol) table holds one interval, and bars bronze already holds are not written twice
(the same covered-range rule as trades, on the open time).

Paging: Binance `klines?startTime` forward (next = last open + interval); Coinbase `candles` in windows of at
most 300 buckets (`start`/`end`, answers newest first, no row for a bucket without trades); Kraken `OHLC` only
serves the 720 most recent bars whatever `since` asks, so older windows are reported, not invented.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from ingest.bronze.writer import BronzeWriter
from ingest.connectors import Binance, Coinbase, Kraken, connector
from ingest.connectors.base import Page, Record
from ingest.errors import FatalError
from ingest.http import HttpClient
from ingest.trades import IdRanges

BINANCE_INTERVALS = {"1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400,
                     "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400}
INTERVAL_COLUMN = {"binance": "interval", "coinbase": "granularity", "kraken": "interval"}


@dataclass
class KlineResult:
    venue: str
    symbol: str
    bars: int = 0
    dropped: int = 0
    files: int = 0
    pages: int = 0
    note: str = ""
    error: str | None = None


def interval_seconds(venue: str, interval: str) -> int:
    """`1m`-style (Binance names) for every venue; Coinbase/Kraken get the same length in their own units."""
    if interval not in BINANCE_INTERVALS:
        raise FatalError(f"interval {interval!r} not supported; use one of {', '.join(BINANCE_INTERVALS)}",
                         venue=venue)
    secs = BINANCE_INTERVALS[interval]
    if venue == "coinbase" and secs not in (60, 300, 900, 3600, 21600, 86400):
        raise FatalError(f"coinbase candles have no {interval} granularity (1m 5m 15m 1h 6h 1d)", venue=venue)
    if venue == "kraken" and secs // 60 not in (1, 5, 15, 30, 60, 240, 1440):
        raise FatalError(f"kraken OHLC has no {interval} interval (1m 5m 15m 30m 1h 4h 1d)", venue=venue)
    return secs


class KlineRunner:
    def __init__(self, venue: str, symbol: str, interval: str, since: dt.datetime, until: dt.datetime,
                 client: HttpClient, writer: BronzeWriter,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.venue, self.symbol, self.interval = venue, symbol, interval
        self.since, self.until = since, until
        self.conn = connector(venue, client)
        self.writer, self.now = writer, now
        self.secs = interval_seconds(venue, interval)
        self.result = KlineResult(venue, symbol)
        self.table = self.conn.klines_table

    def _check_interval(self) -> None:
        files = self.writer.files(self.table, self.symbol)
        if not files:
            return
        col = INTERVAL_COLUMN[self.venue]
        data = pq.read_table(io.BytesIO(self.writer.lake.read_bytes(files[-1])), columns=[col])
        held = data.column(0)[0].as_py()
        want = self.interval if self.venue == "binance" else self.secs if self.venue == "coinbase" \
            else self.secs // 60
        if held != want:
            raise FatalError(f"bronze {self.table} for {self.symbol} already holds {col}={held}; one interval per "
                             f"table and symbol (asked {col}={want})", venue=self.venue, symbol=self.symbol)

    def run(self) -> KlineResult:
        self._check_interval()
        covered = IdRanges(self.writer.covered_ranges(self.table, self.symbol))
        closed_before = min(self.until, self.now())
        rows: list[dict[str, Any]] = []
        seen: set[int] = set()
        for page, key in self._pages():
            self.result.pages += 1
            for rec in page.records:
                open_s = key(rec)
                if not (self.since.timestamp() <= open_s and open_s + self.secs <= closed_before.timestamp()):
                    continue
                cur = rec.cursor
                if cur in covered or cur in seen:
                    self.result.dropped += 1
                    continue
                seen.add(cur)
                rows.append({**rec.bronze(), "_source": page.source, "_source_uri": page.uri,
                             "_recv_ts": page.recv_ts})
        if rows:
            arrow = BronzeWriter.to_arrow(self.table, rows, source=rows[0]["_source"])
            files = self.writer.write(self.table, self.symbol, arrow)
            self.result.files = len(files)
            self.result.bars = sum(f.rows for f in files)
        return self.result

    def _pages(self) -> Any:
        start, end = int(self.since.timestamp()), int(min(self.until, self.now()).timestamp())
        if isinstance(self.conn, Binance):
            t = start
            while t < end:
                page = self.conn.klines(self.symbol, self.interval, start_time=t * 1000, end_time=end * 1000 - 1)
                yield page, lambda r: r.openTime // 1000
                if not page.records:
                    return
                t = max(t + self.secs, page.records[-1].openTime // 1000 + self.secs)
        elif isinstance(self.conn, Coinbase):
            t = start // self.secs * self.secs
            while t < end:
                stop = min(end, t + 299 * self.secs)
                page = self.conn.candles(self.symbol, self.secs, start=_iso(t), end=_iso(stop))
                yield page, lambda r: r.time
                t = stop + self.secs
        elif isinstance(self.conn, Kraken):
            page = self.conn.ohlc(self.symbol, self.secs // 60, since=start - 1)
            if page.records and page.records[0].time > start:
                self.result.note = (f"kraken serves only the 720 most recent bars: none before "
                                    f"{dt.datetime.fromtimestamp(page.records[0].time, dt.UTC):%Y-%m-%d %H:%M}")
            yield page, lambda r: r.time


def _iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["KlineResult", "KlineRunner", "Page", "Record", "interval_seconds"]
