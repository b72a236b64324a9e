"""Binance spot recordings -> bronze rows, rebuilding each symbol's book by the U/u rules (exchange-apis.md §1.7).

Frames: raw (`{"e": "depthUpdate", ...}`) or combined-stream (`{"stream": "...", "data": {...}}`); REST depth
snapshots (`{"lastUpdateId", "bids", "asks"}`) as http lines whose URL names the symbol (cryptofeed), or as a
plain line of a one-symbol recording (the sandbox writes the REST body at the start of the file and after every
gap): such a snapshot belongs to the symbol the file's next frames name.

Sync, per symbol:
1. diffs received before a snapshot are buffered (and written as raw depth updates regardless);
2. on a snapshot with lastUpdateId L: drop buffered diffs with u <= L; the first kept diff must satisfy
   U <= L+1 <= u, later ones are contiguous (U == previous u + 1);
3. a diff with U > book id + 1 is a gap: a raw_book_gaps row, the book is dropped, and it restarts only from the
   next snapshot.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import parse_qs, urlparse

from ingest.recordings.base import Rebuilder, Row, SymbolState, loads, need, text_levels
from ingest.recordings.book import L2Book
from ingest.recordings.lines import RawLine, RecordingError

MAX_BUFFER = 50_000  # diffs kept per symbol while waiting for a snapshot (older ones cannot be needed)


class BinanceRebuilder(Rebuilder):
    venue = "binance"

    def __init__(self, snapshot_interval_ns: int = 1_000_000_000, depth: int = 25) -> None:
        super().__init__(snapshot_interval_ns, depth)
        self.file_symbol: dict[str, str] = {}  # recording file -> the symbol its frames name first
        self.pending_snapshot: dict[str, tuple[RawLine, dict[str, Any]]] = {}

    def feed(self, line: RawLine) -> list[Row]:
        msg = loads(line, self.venue)
        if line.kind == "http":
            return self._http(line, msg)
        wrapped = isinstance(msg, dict) and "data" in msg and "stream" in msg
        if wrapped:
            msg = msg["data"]
        if not isinstance(msg, dict):
            self.counts["ignored"] += 1
            return []
        event = msg.get("e")
        if event is None and "lastUpdateId" in msg:
            if wrapped:  # <s>@depthN[@100ms] partial book streams: top N only, not a base for a local book
                self.counts["partial_depth_ignored"] += 1
                return []
            symbol = msg.get("symbol") or msg.get("s") or self.file_symbol.get(line.file)
            if symbol:
                return self._snapshot(line, str(symbol).upper(), msg)
            # a REST body has no symbol: a one-symbol recording names it in its next frame
            self.pending_snapshot[line.file] = (line, msg)
            return []
        symbol = msg.get("s")
        rows = self._symbol_seen(line.file, str(symbol).upper()) if symbol else []
        if event == "depthUpdate":
            return rows + self._depth_update(line, msg)
        if event == "trade":
            return [*rows, self._trade(line, msg)]
        if event == "aggTrade":
            return [*rows, self._agg_trade(line, msg)]
        if event == "kline":
            return rows + self._kline(line, msg)
        if event is None and {"u", "s", "b", "B", "a", "A"} <= msg.keys():
            return [*rows, self._book_ticker(line, msg)]
        self.counts["ignored"] += 1
        return rows

    def _symbol_seen(self, file: str, symbol: str) -> list[Row]:
        """The symbol of a recording file is known: apply a snapshot that waited for it."""
        self.file_symbol.setdefault(file, symbol)
        pending = self.pending_snapshot.pop(file, None)
        if pending is None:
            return []
        if self.file_symbol[file] != symbol:
            raise RecordingError(f"{pending[0].where}: binance depth snapshot without a symbol in a recording of "
                                 f"several symbols ({self.file_symbol[file]}, {symbol}); cannot tell whose it is")
        return self._snapshot(pending[0], symbol, pending[1])

    def finish(self) -> list[Row]:
        for line, _ in self.pending_snapshot.values():
            self.warnings.append(f"{line.where}: binance depth snapshot without a symbol and no later frame in "
                                 "that file names one: not used")
        return super().finish()

    # -- book ------------------------------------------------------------------------------------
    def _http(self, line: RawLine, msg: Any) -> list[Row]:
        url = urlparse(line.url or "")
        if not url.path.endswith("/api/v3/depth"):
            self.counts["http_ignored"] += 1
            return []
        symbol = (parse_qs(url.query).get("symbol") or [""])[0].upper()
        if not symbol:
            raise RecordingError(f"{line.where}: binance depth snapshot URL without symbol: {line.url}")
        return self._snapshot(line, symbol, msg)

    def _snapshot(self, line: RawLine, symbol: str, msg: dict[str, Any]) -> list[Row]:
        what = f"depth snapshot {symbol}"
        last_id = int(need(msg, "lastUpdateId", line, self.venue, what))
        bids = text_levels(need(msg, "bids", line, self.venue, what), line, self.venue, what)
        asks = text_levels(need(msg, "asks", line, self.venue, what), line, self.venue, what)
        st = self.state(symbol)
        rows = self.tick(symbol, line.recv_ns)
        self.counts["rest_snapshots"] += 1
        if st.book is not None:
            return rows  # already in sync: the diff chain decides, a later snapshot is not needed
        book = L2Book()
        self.apply_levels(book, "bid", bids, line, symbol)
        self.apply_levels(book, "ask", asks, line, symbol)
        st.book, st.book_id = book, last_id
        self.book_ready(symbol, line.recv_ns)
        st.extra["synced"] = False
        buffered: deque[tuple[RawLine, dict[str, Any]]] = st.extra.pop("buffer", deque())
        while buffered:
            bline, bmsg = buffered.popleft()
            rows += self._apply(symbol, st, bline, bmsg)
            if st.book is None:  # a gap while replaying: the rest waits for the next snapshot
                self._buffer(st).extend([(bline, bmsg), *buffered])
                break
        return rows

    @staticmethod
    def _buffer(st: SymbolState) -> deque[tuple[RawLine, dict[str, Any]]]:
        return st.extra.setdefault("buffer", deque(maxlen=MAX_BUFFER))

    def _depth_update(self, line: RawLine, msg: dict[str, Any]) -> list[Row]:
        symbol = str(need(msg, "s", line, self.venue, "depthUpdate")).upper()
        what = f"depthUpdate {symbol}"
        fields = {
            "E": int(need(msg, "E", line, self.venue, what)),
            "U": int(need(msg, "U", line, self.venue, what)),
            "u": int(need(msg, "u", line, self.venue, what)),
            "b": text_levels(need(msg, "b", line, self.venue, what), line, self.venue, what),
            "a": text_levels(need(msg, "a", line, self.venue, what), line, self.venue, what),
        }
        rows = self.tick(symbol, line.recv_ns)
        rows.append(self.row("raw_binance_depth_updates", symbol, line, "depthUpdate", fields))
        st = self.state(symbol)
        if st.book is not None:
            rows += self._apply(symbol, st, line, fields)
        if st.book is None:  # waiting for a snapshot (or a gap just happened): keep the diff for the resync
            self._buffer(st).append((line, fields))
        return rows

    def _apply(self, symbol: str, st: SymbolState, line: RawLine, f: dict[str, Any]) -> list[Row]:
        assert st.book is not None and st.book_id is not None
        first, final = f["U"], f["u"]
        if final <= st.book_id:
            self.counts["stale_diffs_dropped"] += 1
            return []
        if not st.extra.get("synced"):
            if not first <= st.book_id + 1 <= final:
                return [self.gap(symbol, line, f"first diff after snapshot does not bridge it: U={first} u={final} "
                                 f"lastUpdateId={st.book_id}", st.book_id, first)]
            st.extra["synced"] = True
        elif first > st.book_id + 1:
            return [self.gap(symbol, line, f"update id gap: expected U={st.book_id + 1}, got U={first}",
                             st.book_id, first)]
        self.apply_levels(st.book, "bid", f["b"], line, symbol)
        self.apply_levels(st.book, "ask", f["a"], line, symbol)
        st.book_id = final
        self.counts["diffs_applied"] += 1
        return []

    def snapshot_record(self, symbol: str, state: SymbolState) -> dict[str, Any]:
        assert state.book is not None
        bids, asks = state.book.top(self.depth)
        return {"lastUpdateId": state.book_id, "bids": bids, "asks": asks}

    # -- trades, bbo, klines ---------------------------------------------------------------------
    def _trade(self, line: RawLine, m: dict[str, Any]) -> Row:
        symbol = str(need(m, "s", line, self.venue, "trade")).upper()
        w = f"trade {symbol}"
        return self.row("raw_binance_trades", symbol, line, "trade", {
            "id": int(need(m, "t", line, self.venue, w)), "price": str(need(m, "p", line, self.venue, w)),
            "qty": str(need(m, "q", line, self.venue, w)),
            "quoteQty": None,  # the @trade stream does not send it (REST and dumps do)
            "time": int(need(m, "T", line, self.venue, w)), "isBuyerMaker": bool(need(m, "m", line, self.venue, w)),
            "isBestMatch": bool(m["M"]) if "M" in m else None,
        })

    def _agg_trade(self, line: RawLine, m: dict[str, Any]) -> Row:
        symbol = str(need(m, "s", line, self.venue, "aggTrade")).upper()
        w = f"aggTrade {symbol}"
        return self.row("raw_binance_aggtrades", symbol, line, "aggTrade", {
            "a": int(need(m, "a", line, self.venue, w)), "p": str(need(m, "p", line, self.venue, w)),
            "q": str(need(m, "q", line, self.venue, w)), "f": int(need(m, "f", line, self.venue, w)),
            "l": int(need(m, "l", line, self.venue, w)), "T": int(need(m, "T", line, self.venue, w)),
            "m": bool(need(m, "m", line, self.venue, w)), "M": bool(m["M"]) if "M" in m else None,
        })

    def _book_ticker(self, line: RawLine, m: dict[str, Any]) -> Row:
        symbol = str(m["s"]).upper()
        return self.row("raw_binance_bbo", symbol, line, "bookTicker", {
            "u": int(m["u"]), "b": str(m["b"]), "B": str(m["B"]), "a": str(m["a"]), "A": str(m["A"])})

    def _kline(self, line: RawLine, m: dict[str, Any]) -> list[Row]:
        symbol = str(need(m, "s", line, self.venue, "kline")).upper()
        k = need(m, "k", line, self.venue, f"kline {symbol}")
        w = f"kline {symbol}"
        if not need(k, "x", line, self.venue, w):
            self.counts["open_klines_skipped"] += 1  # still-open candle: only the closed one is final
            return []
        return [self.row("raw_binance_klines", symbol, line, "kline", {
            "interval": str(need(k, "i", line, self.venue, w)), "openTime": int(need(k, "t", line, self.venue, w)),
            "open": str(need(k, "o", line, self.venue, w)), "high": str(need(k, "h", line, self.venue, w)),
            "low": str(need(k, "l", line, self.venue, w)), "close": str(need(k, "c", line, self.venue, w)),
            "volume": str(need(k, "v", line, self.venue, w)), "closeTime": int(need(k, "T", line, self.venue, w)),
            "quoteVolume": str(need(k, "q", line, self.venue, w)), "trades": int(need(k, "n", line, self.venue, w)),
            "takerBuyBaseVolume": str(need(k, "V", line, self.venue, w)),
            "takerBuyQuoteVolume": str(need(k, "Q", line, self.venue, w)),
        })]
