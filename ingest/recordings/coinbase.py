"""Coinbase Exchange feed recordings -> bronze rows, rebuilding books by per-product `sequence` (§2.7).

Messages: `snapshot` {product_id, bids, asks, sequence?} then `l2update` {product_id, changes [[side, price, size]],
time, sequence}; `match` / `last_match` (trades), `ticker` (best bid/ask), `heartbeat`, `subscriptions`, `error`.
REST books (`/products/{id}/book`, http lines) are snapshots too.

A product's messages share one sequence space (matches and tickers take numbers too), so an l2update whose
sequence jumps by more than one is a gap unless every number in between was seen on another channel of the
same product. A gap yields a raw_book_gaps row and the book restarts from the next snapshot.

Feeds recorded before Coinbase added `sequence` to level2 (e.g. the 2021 cryptofeed capture) cannot be checked
for gaps; their depth messages are counted as `unsequenced_depth_skipped` and no book is rebuilt from them
(a book that cannot be verified is never presented as one). Their trades and tickers are imported.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urlparse

from ingest.recordings.base import Rebuilder, Row, SymbolState, loads, need, text_levels
from ingest.recordings.book import L2Book
from ingest.recordings.lines import RawLine, RecordingError

SEEN_WINDOW = 4096  # recent non-book sequence numbers remembered per product


class CoinbaseRebuilder(Rebuilder):
    venue = "coinbase"

    def feed(self, line: RawLine) -> list[Row]:
        msg = loads(line, self.venue)
        if line.kind == "http":
            return self._http(line, msg)
        if not isinstance(msg, dict):
            self.counts["ignored"] += 1
            return []
        kind = msg.get("type")
        if kind == "error":
            self.warnings.append(f"{line.where}: coinbase feed error: {msg.get('message')} {msg.get('reason', '')}")
            return []
        if kind in ("match", "last_match"):
            return self._match(line, msg)
        if kind == "ticker":
            return self._ticker(line, msg)
        if kind == "snapshot":
            product = str(need(msg, "product_id", line, self.venue, "snapshot"))
            return self._snapshot(line, product, msg)
        if kind == "l2update":
            return self._l2update(line, msg)
        self.counts["ignored"] += 1  # subscriptions, heartbeat, status, ...
        return []

    # -- book ------------------------------------------------------------------------------------
    def _http(self, line: RawLine, msg: Any) -> list[Row]:
        parts = urlparse(line.url or "").path.rstrip("/").split("/")
        if len(parts) >= 3 and parts[-1] == "book" and parts[-3] == "products" and isinstance(msg, dict):
            return self._snapshot(line, parts[-2], msg)
        self.counts["http_ignored"] += 1
        return []

    def _snapshot(self, line: RawLine, product: str, msg: dict[str, Any]) -> list[Row]:
        what = f"snapshot {product}"
        bids = text_levels(need(msg, "bids", line, self.venue, what), line, self.venue, what)
        asks = text_levels(need(msg, "asks", line, self.venue, what), line, self.venue, what)
        st = self.state(product)
        rows = self.tick(product, line.recv_ns)
        if msg.get("sequence") is None:
            st.extra["unsequenced"] = True
            self.counts["unsequenced_depth_skipped"] += 1
            return rows
        book = L2Book()
        self.apply_levels(book, "bid", bids, line, product)
        self.apply_levels(book, "ask", asks, line, product)
        st.book, st.book_id = book, int(msg["sequence"])
        self.book_ready(product, line.recv_ns)
        st.extra["snapshot_time"] = msg.get("time")
        self.counts["snapshots"] += 1
        return rows

    def _l2update(self, line: RawLine, msg: dict[str, Any]) -> list[Row]:
        product = str(need(msg, "product_id", line, self.venue, "l2update"))
        what = f"l2update {product}"
        changes = text_levels(need(msg, "changes", line, self.venue, what), line, self.venue, what)
        if any(len(c) != 3 for c in changes):
            raise RecordingError(f"{line.where}: coinbase {what}: a change is not [side, price, size]")
        st = self.state(product)
        rows = self.tick(product, line.recv_ns)
        if msg.get("sequence") is None:
            st.extra["unsequenced"] = True
            self.counts["unsequenced_depth_skipped"] += 1
            return rows
        seq = int(msg["sequence"])
        rows.append(self.row("raw_coinbase_depth_updates", product, line, "l2update",
                             {"sequence": seq, "time": msg.get("time"), "changes": changes}))
        if st.book is None or st.book_id is None:
            self.counts["updates_without_book"] += 1
            return rows
        if seq <= st.book_id:
            self.counts["stale_updates_dropped"] += 1
            return rows
        if seq > st.book_id + 1:
            seen = st.extra.get("seen", ())
            if any(s not in seen for s in range(st.book_id + 1, seq)):
                rows.append(self.gap(product, line, f"sequence gap: expected {st.book_id + 1}, got {seq}",
                                     st.book_id, seq))
                return rows
        for side, price, size in changes:
            self.apply_levels(st.book, side, [[price, size]], line, product)
        st.book_id = seq
        st.extra["time"] = msg.get("time")
        self.counts["updates_applied"] += 1
        return rows

    def _remember(self, product: str, seq: Any) -> None:
        if seq is None:
            return
        st = self.state(product)
        seen: deque[int] = st.extra.setdefault("seen_q", deque(maxlen=SEEN_WINDOW))
        if len(seen) == seen.maxlen:
            st.extra.setdefault("seen", set()).discard(seen[0])
        seen.append(int(seq))
        st.extra.setdefault("seen", set()).add(int(seq))

    def snapshot_record(self, symbol: str, state: SymbolState) -> dict[str, Any]:
        assert state.book is not None
        bids, asks = state.book.top(self.depth)
        return {"sequence": state.book_id, "time": state.extra.get("time") or state.extra.get("snapshot_time"),
                "bids": bids, "asks": asks}

    # -- trades, bbo -----------------------------------------------------------------------------
    def _match(self, line: RawLine, m: dict[str, Any]) -> list[Row]:
        product = str(need(m, "product_id", line, self.venue, "match"))
        w = f"{m.get('type')} {product}"
        self._remember(product, m.get("sequence"))
        return [self.row("raw_coinbase_trades", product, line, str(m["type"]), {
            "trade_id": int(need(m, "trade_id", line, self.venue, w)),
            "price": str(need(m, "price", line, self.venue, w)), "size": str(need(m, "size", line, self.venue, w)),
            "time": str(need(m, "time", line, self.venue, w)), "side": str(need(m, "side", line, self.venue, w)),
        })]

    def _ticker(self, line: RawLine, m: dict[str, Any]) -> list[Row]:
        product = str(need(m, "product_id", line, self.venue, "ticker"))
        w = f"ticker {product}"
        self._remember(product, m.get("sequence"))
        if m.get("best_bid") is None or m.get("best_ask") is None:
            self.counts["ticker_without_bbo"] += 1
            return []

        def opt(key: str) -> str | None:
            return None if m.get(key) is None else str(m[key])

        return [self.row("raw_coinbase_bbo", product, line, "ticker", {
            "sequence": int(need(m, "sequence", line, self.venue, w)), "time": opt("time"),
            "best_bid": str(m["best_bid"]), "best_bid_size": opt("best_bid_size"),
            "best_ask": str(m["best_ask"]), "best_ask_size": opt("best_ask_size"),
        })]
