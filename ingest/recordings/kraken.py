"""Kraken spot websocket recordings (v2 objects and legacy v1 arrays) -> bronze rows, books verified by CRC32.

Kraken books carry no sequence numbers: the CRC32 `checksum` of the top 10 levels after each message is the only
gap detector (exchange-apis.md §3.5). Checksum string: asks low->high then bids high->low, each level's price then
qty at the pair's fixed precision with the `.` removed and leading zeros stripped; CRC32 as unsigned 32-bit.

- v2: `{"channel": "book", "type": "snapshot"|"update", "data": [{"symbol", "bids": [{"price","qty"}], "asks",
  "checksum", "timestamp"}]}`; numbers are JSON floats, read as Decimal and formatted at the pair's precision
  (from an `instrument` message or an AssetPairs response in the recording; else inferred from the snapshot's
  digits, with a warning).
- v1: `[channelID, {"as": [...], "bs": [...]}, "book-<depth>", "XBT/USD"]` then updates
  `[channelID, {"a": [...]}, {"b": [...], "c": "<crc>"}, "book-<depth>", pair]`; levels are
  `[price, volume, timestamp(, "r")]` strings at the feed's fixed precision, used as sent. That precision is not
  AssetPairs' `pair_decimals` (XMR/USD prices come with 8 decimals, pair_decimals is 2): all 4269 checksums of
  the real 2021 capture validate over the strings as sent, none over re-formatted ones.
After each message the book is truncated to the subscribed depth (Kraken sends no deletes for levels that fall
out). A checksum mismatch yields a raw_book_gaps row; the book restarts from the next snapshot.

Trades go to raw_kraken_trades in the REST row forms (side `b`/`s`, order type `m`/`l`, time as decimal
seconds text; the WS v2 forms stay in `_raw_payload`). Legacy v1 trades carry no trade id, which the bronze
table is keyed by: they are counted (`v1_trades_without_id_skipped`) and reported, not written.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from ingest.recordings.base import Rebuilder, Row, SymbolState, loads, need, text_levels
from ingest.recordings.book import L2Book
from ingest.recordings.lines import RawLine, RecordingError

VALID_DEPTHS = (10, 25, 100, 500, 1000)
ALIASES = {"BTC": "XBT", "DOGE": "XDG"}
_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")


def checksum_field(text: str, decimals: int | None) -> str:
    """One price or qty for the checksum: at `decimals` (None = the text as sent), no '.', no leading zeros."""
    if decimals is not None:
        text = f"{Decimal(text):.{decimals}f}"
    return text.replace(".", "").lstrip("0")


def book_checksum(book: L2Book, price_decimals: int | None = None, qty_decimals: int | None = None) -> int:
    """Kraken's CRC32 of the top 10 asks (low->high) then top 10 bids (high->low)."""
    parts = [checksum_field(p, price_decimals) + checksum_field(q, qty_decimals)
             for p, q in [*book.asks.top(10), *book.bids.top(10)]]
    return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


def iso_to_seconds_text(ts: str) -> str:
    """'2023-09-25T07:48:36.925533Z' -> '1695628116.925533' exactly (no float on the way)."""
    m = _ISO.match(ts)
    if not m:
        raise ValueError(f"not an RFC 3339 UTC timestamp: {ts!r}")
    secs = int(dt.datetime.fromisoformat(m[1]).replace(tzinfo=dt.UTC).timestamp())
    return f"{secs}.{m[2]}" if m[2] else str(secs)


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


class KrakenRebuilder(Rebuilder):
    venue = "kraken"

    def __init__(self, snapshot_interval_ns: int = 1_000_000_000, depth: int = 25) -> None:
        super().__init__(snapshot_interval_ns, depth)
        self.pairs: dict[str, dict[str, Any]] = {}  # ws name (v1 XBT/USD or v2 BTC/USD) -> altname, precisions
        self.sub_depth: dict[str, int] = {}

    # -- symbols and precision ---------------------------------------------------------------
    @staticmethod
    def _norm(wsname: str) -> str:
        return "/".join(ALIASES.get(p, p) for p in wsname.split("/"))

    def altname(self, wsname: str) -> str:
        info = self.pairs.get(self._norm(wsname))
        return info["altname"] if info and info.get("altname") else self._norm(wsname).replace("/", "")

    def _learn_asset_pairs(self, line: RawLine, msg: Any) -> None:
        result = msg.get("result") if isinstance(msg, dict) else None
        if not isinstance(result, dict):
            raise RecordingError(f"{line.where}: kraken AssetPairs response without a result object")
        for info in result.values():
            if isinstance(info, dict) and info.get("wsname"):
                self.pairs[self._norm(str(info["wsname"]))] = {
                    "altname": info.get("altname"), "price": info.get("pair_decimals"), "qty": info.get("lot_decimals")}

    def _learn_instruments(self, msg: dict[str, Any]) -> None:
        data = msg.get("data") or {}
        for p in data.get("pairs", []) if isinstance(data, dict) else []:
            if p.get("symbol"):
                info = self.pairs.setdefault(self._norm(str(p["symbol"])), {})
                info["price"] = p.get("price_precision", info.get("price"))
                info["qty"] = p.get("qty_precision", info.get("qty"))

    # -- dispatch --------------------------------------------------------------------------------
    def feed(self, line: RawLine) -> list[Row]:
        msg = loads(line, self.venue)
        if line.kind == "http":
            if urlparse(line.url or "").path.endswith("/AssetPairs"):
                self._learn_asset_pairs(line, msg)
            else:
                self.counts["http_ignored"] += 1
            return []
        if isinstance(msg, list):
            return self._v1(line, msg)
        if not isinstance(msg, dict):
            self.counts["ignored"] += 1
            return []
        channel = msg.get("channel")
        if msg.get("method") == "subscribe" and isinstance(msg.get("result"), dict):
            res = msg["result"]
            if res.get("channel") == "book" and res.get("depth") and res.get("symbol"):
                self.sub_depth[self._norm(str(res["symbol"]))] = int(res["depth"])
            return []
        if msg.get("event") == "subscriptionStatus" and isinstance(msg.get("subscription"), dict):
            sub = msg["subscription"]
            if sub.get("name") == "book" and sub.get("depth") and msg.get("pair"):
                self.sub_depth[self._norm(str(msg["pair"]))] = int(sub["depth"])
            return []
        if channel == "instrument":
            self._learn_instruments(msg)
            return []
        if channel == "book":
            return self._v2_book(line, msg)
        if channel == "trade":
            return self._v2_trades(line, msg)
        if channel == "ticker":
            return self._v2_ticker(line, msg)
        self.counts["ignored"] += 1  # heartbeat, status, pong, ...
        return []

    # -- v2 --------------------------------------------------------------------------------------
    def _v2_levels(self, levels: Any, line: RawLine, what: str) -> list[list[str]]:
        if not isinstance(levels, list):
            raise RecordingError(f"{line.where}: kraken {what}: levels are not a list")
        try:
            return [[str(lv["price"]), str(lv["qty"])] for lv in levels]
        except (KeyError, TypeError):
            raise RecordingError(f"{line.where}: kraken {what}: a level without price/qty") from None

    def _v2_book(self, line: RawLine, msg: dict[str, Any]) -> list[Row]:
        rows: list[Row] = []
        kind = msg.get("type")
        for d in need(msg, "data", line, self.venue, "book"):
            ws = str(need(d, "symbol", line, self.venue, "book"))
            what = f"book {kind} {ws}"
            bids = self._v2_levels(d.get("bids", []), line, what)
            asks = self._v2_levels(d.get("asks", []), line, what)
            crc = d.get("checksum")
            if crc is None:
                raise RecordingError(f"{line.where}: kraken {what}: missing field 'checksum'")
            symbol = self.altname(ws)
            if kind == "update":
                rows.append(self.row("raw_kraken_depth_updates", symbol, line, "book", {
                    "timestamp": d.get("timestamp"), "checksum": int(crc), "bids": bids, "asks": asks}))
            elif kind != "snapshot":
                raise RecordingError(f"{line.where}: kraken {what}: unknown book message type {kind!r}")
            rows += self._book_message(line, ws, symbol, kind == "snapshot", bids, asks, int(crc), v2=True)
        return rows

    def _v2_trades(self, line: RawLine, msg: dict[str, Any]) -> list[Row]:
        rows = []
        for d in need(msg, "data", line, self.venue, "trade"):
            ws = str(need(d, "symbol", line, self.venue, "trade"))
            w = f"trade {ws}"
            side = str(need(d, "side", line, self.venue, w))
            otype = str(d.get("ord_type") or "")
            try:
                ts = iso_to_seconds_text(str(need(d, "timestamp", line, self.venue, w)))
            except ValueError as exc:
                raise RecordingError(f"{line.where}: kraken {w}: {exc}") from exc
            rows.append(self.row("raw_kraken_trades", self.altname(ws), line, "trade", {
                "price": str(need(d, "price", line, self.venue, w)), "volume": str(need(d, "qty", line, self.venue, w)),
                "time": ts, "side": {"buy": "b", "sell": "s"}.get(side, side),
                "ordertype": {"market": "m", "limit": "l"}.get(otype, otype), "misc": "",
                "trade_id": int(need(d, "trade_id", line, self.venue, w)),
            }))
        return rows

    def _v2_ticker(self, line: RawLine, msg: dict[str, Any]) -> list[Row]:
        rows = []
        for d in need(msg, "data", line, self.venue, "ticker"):
            ws = str(need(d, "symbol", line, self.venue, "ticker"))
            w = f"ticker {ws}"
            rows.append(self.row("raw_kraken_bbo", self.altname(ws), line, "ticker", {
                k: str(need(d, k, line, self.venue, w)) for k in ("bid", "bid_qty", "ask", "ask_qty")}))
        return rows

    # -- v1 --------------------------------------------------------------------------------------
    def _v1(self, line: RawLine, msg: list[Any]) -> list[Row]:
        if len(msg) < 4 or not isinstance(msg[-1], str) or not isinstance(msg[-2], str):
            raise RecordingError(f"{line.where}: kraken v1 frame is not [channelID, ..., channelName, pair]")
        channel, ws = msg[-2], msg[-1]
        symbol = self.altname(ws)
        payloads = msg[1:-2]
        if channel.startswith("book"):
            if channel.startswith("book-") and self._norm(ws) not in self.sub_depth:
                self.sub_depth[self._norm(ws)] = int(channel.split("-", 1)[1])
            return self._v1_book(line, ws, symbol, payloads)
        if channel == "trade":
            self.counts["v1_trades_without_id_skipped"] += sum(len(p) for p in payloads if isinstance(p, list))
            return []
        if channel == "spread":
            p = payloads[0]
            if not isinstance(p, list) or len(p) < 5:
                raise RecordingError(f"{line.where}: kraken v1 spread {ws}: expected [bid, ask, time, bidVol, askVol]")
            return [self.row("raw_kraken_bbo", symbol, line, "spread",
                             {"bid": str(p[0]), "bid_qty": str(p[3]), "ask": str(p[1]), "ask_qty": str(p[4])})]
        self.counts["ignored"] += 1
        return []

    def _v1_book(self, line: RawLine, ws: str, symbol: str, payloads: list[Any]) -> list[Row]:
        what = f"v1 book {ws}"
        if not all(isinstance(p, dict) for p in payloads):
            raise RecordingError(f"{line.where}: kraken {what}: payload is not an object")
        if any("as" in p or "bs" in p for p in payloads):
            bids = [lv for p in payloads for lv in text_levels(p.get("bs", []), line, self.venue, what)]
            asks = [lv for p in payloads for lv in text_levels(p.get("as", []), line, self.venue, what)]
            return self._book_message(line, ws, symbol, True, bids, asks, None, v2=False)
        bids = [lv for p in payloads for lv in text_levels(p.get("b", []), line, self.venue, what)]
        asks = [lv for p in payloads for lv in text_levels(p.get("a", []), line, self.venue, what)]
        crcs = [p["c"] for p in payloads if "c" in p]
        crc = int(crcs[-1]) if crcs else None
        rows = [self.row("raw_kraken_depth_updates", symbol, line, "book",
                         {"timestamp": None, "checksum": crc, "bids": bids, "asks": asks})]
        return rows + self._book_message(line, ws, symbol, False, bids, asks, crc, v2=False)

    # -- the book --------------------------------------------------------------------------------
    def _precision(self, ws: str, st: SymbolState) -> tuple[int | None, int | None]:
        if not st.extra.get("v2"):
            return None, None  # v1 strings are already at the pair's precision
        info = self.pairs.get(self._norm(ws)) or {}
        price, qty = info.get("price"), info.get("qty")
        if price is None or qty is None:
            return st.extra["inferred"]
        return int(price), int(qty)

    def _book_message(self, line: RawLine, ws: str, symbol: str, snapshot: bool, bids: list[list[str]],
                      asks: list[list[str]], crc: int | None, *, v2: bool) -> list[Row]:
        st = self.state(symbol)
        rows = self.tick(symbol, line.recv_ns)
        if snapshot:
            book = L2Book()
            self.apply_levels(book, "bid", bids, line, symbol)
            self.apply_levels(book, "ask", asks, line, symbol)
            st.book, st.extra["v2"] = book, v2
            self.book_ready(symbol, line.recv_ns)
            st.extra["depth"] = self.sub_depth.get(self._norm(ws)) or next(
                (d for d in VALID_DEPTHS if d >= max(len(bids), len(asks))), VALID_DEPTHS[-1])
            st.extra["ws"] = ws
            known = self.pairs.get(self._norm(ws)) or {}
            if v2 and (known.get("price") is None or known.get("qty") is None):
                inferred = (max((_decimals(p) for p, _ in bids + asks), default=0),
                            max((_decimals(q) for _, q in bids + asks), default=0))
                st.extra["inferred"] = inferred
                msg = (f"kraken {ws}: no instrument/AssetPairs precision in the recording; checksums use the "
                       f"precision inferred from the snapshot digits {inferred}")
                if msg not in self.warnings:
                    self.warnings.append(msg)
            self.counts["snapshots"] += 1
        elif st.book is None:
            self.counts["updates_without_book"] += 1
            return rows
        else:
            self.apply_levels(st.book, "bid", bids, line, symbol)
            self.apply_levels(st.book, "ask", asks, line, symbol)
            st.book.bids.truncate(st.extra["depth"])
            st.book.asks.truncate(st.extra["depth"])
            self.counts["updates_applied"] += 1
        assert st.book is not None
        if crc is not None:
            ours = book_checksum(st.book, *self._precision(ws, st))
            if ours != crc:
                rows.append(self.gap(symbol, line, f"checksum mismatch: venue {crc}, rebuilt book {ours}",
                                     st.book_id, crc))
                return rows
            self.counts["checksums_ok"] += 1
            st.book_id = crc
        return rows

    def snapshot_record(self, symbol: str, state: SymbolState) -> dict[str, Any]:
        assert state.book is not None
        bids, asks = state.book.top(self.depth)
        crc = book_checksum(state.book, *self._precision(state.extra["ws"], state))
        return {"bids": bids, "asks": asks, "checksum": crc}
