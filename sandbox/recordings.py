"""Venue-native websocket recordings of the simulated market (SIMULATED DATA), for the recording importer.

Files: `<out>/<venue>/<symbol>/<YYYY-MM-DD>.rec` (symbol = the venue's own: BTCUSDT, BTC-USD, XBTUSD; the date is
the UTC date of the receive time). One raw message per line: `<recv_ns> <raw json>`, where recv_ns is the
integer nanosecond receive time = event time + a simulated network latency (non-decreasing within a file).
Books update at a 100 ms cadence; the simulated books have BOOK_DEPTH levels per side (levels that leave that
window are sent as deletions, levels that enter it as inserts), except Kraken (depth-10 subscription semantics).

Binance (combined-stream frames, as `/stream?streams=...` sends them):
- a REST depth snapshot body `{"lastUpdateId":..,"bids":[[p,q]..],"asks":[..]}` as a raw line at the start, and
  again after every injected gap;
- `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":ms,"s":..,"U":..,"u":..,"b":[[p,q]],"a":[..]}}`,
  with `U` = previous `u` + 1 (a jump means a dropped message), quantity "0.00000000" = delete;
- `{"stream":"btcusdt@trade","data":{"e":"trade","E":..,"s":..,"t":..,"p":..,"q":..,"T":..,"m":..,"M":true}}`;
- `{"stream":"btcusdt@bookTicker","data":{"u":..,"s":..,"b":..,"B":..,"a":..,"A":..}}` (no event time).
Coinbase Exchange feed:
- `{"type":"snapshot","product_id":..,"bids":[[p,size]],"asks":..,"sequence":..,"time":..}` at the start and after
  every gap (the sandbox adds `sequence` and `time` to the snapshot so it can be aligned with the updates);
- `{"type":"l2update","product_id":..,"changes":[["buy"|"sell",p,size]],"time":..,"sequence":..}` (size "0" =>
  remove); `match` (side = MAKER side) and `ticker` messages. `sequence` is per product and shared by all
  message types: +1 per message (a ticker repeats its match's sequence); a jump means a dropped message.
Kraken WS v2:
- `{"channel":"book","type":"snapshot"|"update","data":[{"symbol":"BTC/USD","bids":[{"price":..,"qty":..}],
  "asks":[..],"checksum":<crc32>,"timestamp":..}]}` -- prices/quantities are JSON numbers written at the pair's
  fixed precision; the checksum is computed exactly as Kraken documents it over the top 10 levels (see
  `kraken_checksum`); a snapshot is written again after every gap (as after a resubscribe);
- `trade` (one message per taker order, side = TAKER side) and `ticker` messages.
Gaps: with `gap_rate` > 0, book update messages are dropped with that probability (deterministic from
`gap_seed`); the importer must notice (Binance U/u jump, Coinbase sequence jump, Kraken checksum mismatch) and
rebuild from the next snapshot.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sandbox import formats
from sandbox.formats import RawJson, dumps
from sandbox.market import STEP_NS, Market
from sandbox.specs import ASSETS, KRAKEN_PAIRS, VENUES, MarketSpec, market_for

BOOK_DEPTH = 10
KRAKEN_DEPTH = 10
RESNAPSHOT_AFTER_STEPS = 3  # a recorder notices a gap and re-snapshots ~300 ms later
LATENCY_MS = {"binance": (30.0, 8.0), "coinbase": (25.0, 6.0), "kraken": (40.0, 10.0)}  # base, mean jitter


def kraken_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken book checksum: top 10 asks (low->high) then top 10 bids (high->low); for each level price then qty
    at the pair's fixed precision with the '.' removed and leading zeros stripped; CRC32 (unsigned)."""
    def part(levels: list[tuple[str, str]]) -> str:
        return "".join(p.replace(".", "").lstrip("0") + q.replace(".", "").lstrip("0") for p, q in levels[:10])

    return zlib.crc32((part(asks) + part(bids)).encode()) & 0xFFFFFFFF


def _diff(old: dict[int, int], new: dict[int, int]) -> list[tuple[int, int]]:
    """Level changes (price, new qty; 0 = delete) turning `old` into `new`."""
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out += [(p, 0) for p in old if p not in new]
    return out


class _Book:
    """Book rows of one venue/symbol, computed in chunks (vectorised) and handed out per step."""

    def __init__(self, market: Market, spec: MarketSpec, depth: int, steps: np.ndarray, chunk: int = 2000):
        self.market, self.spec, self.depth, self.steps, self.chunk = market, spec, depth, steps, chunk

    def __iter__(self) -> Iterator[tuple[int, dict[int, int], dict[int, int]]]:
        for i in range(0, len(self.steps), self.chunk):
            st = self.steps[i:i + self.chunk]
            bp, bq, ap, aq = self.market.book_levels(self.spec.venue, self.spec.symbol, st, self.depth)
            for j, s in enumerate(st.tolist()):
                yield s, dict(zip(bp[j].tolist(), bq[j].tolist(), strict=True)), \
                    dict(zip(ap[j].tolist(), aq[j].tolist(), strict=True))


def venue_messages(market: Market, venue: str, asset: str, gap_rate: float = 0.0, gap_seed: int = 1
                   ) -> list[tuple[int, str]]:
    """All recorded lines of one venue and asset, as (recv_ns, raw json), in receive order."""
    spec = market_for(venue, asset)
    tape = market.tape(venue, asset)
    steps = np.arange(market.n_steps, dtype=np.int64)
    gap_rng = np.random.default_rng(np.random.SeedSequence([gap_seed, 77, spec.venue_index, ord(asset[0])]))
    dropped = gap_rng.random(len(steps)) < gap_rate
    dropped[0] = False
    events: list[tuple[int, int, str]] = []  # (event_ns, order, text)
    build = {"binance": _binance, "coinbase": _coinbase, "kraken": _kraken}[venue]
    build(market, spec, tape, steps, dropped, events)
    events.sort(key=lambda e: (e[0], e[1]))
    ev = np.array([e[0] for e in events], dtype=np.int64)
    base, jitter = LATENCY_MS[venue]
    lat_rng = np.random.default_rng(np.random.SeedSequence([market.seed, 55, spec.venue_index, ord(asset[0])]))
    recv = ev + ((base + lat_rng.exponential(jitter, len(ev))) * 1e6).astype(np.int64)
    recv = np.maximum.accumulate(recv)
    return [(int(r), e[2]) for r, e in zip(recv.tolist(), events, strict=True)]


def _step_end(market: Market, s: int) -> int:
    return market.start_ns + (s + 1) * STEP_NS


def _resnapshot_steps(dropped: np.ndarray) -> set[int]:
    return {int(g) + RESNAPSHOT_AFTER_STEPS for g in np.flatnonzero(dropped)}


# ----------------------------------------------------------------------------------------------- Binance
def _binance(market: Market, spec: MarketSpec, tape: Any, steps: np.ndarray, dropped: np.ndarray,
             events: list[tuple[int, int, str]]) -> None:
    sym, low = spec.symbol, spec.symbol.lower()
    pd = spec.price_decimals

    def px(v: list[int]) -> list[str]:
        return formats.fixed_texts(v, pd, 8)

    def qs(v: list[int]) -> list[str]:
        return formats.qty_texts(spec, v)

    resnap = _resnapshot_steps(dropped)
    prev_b: dict[int, int] = {}
    prev_a: dict[int, int] = {}
    for s, bids, asks in _Book(market, spec, BOOK_DEPTH, steps):
        t = _step_end(market, s)
        uid = int(tape.update_id[s])
        if s == 0 or s in resnap:
            bl, al = sorted(bids.items(), reverse=True), sorted(asks.items())
            snap = {"lastUpdateId": uid,
                    "bids": [list(x) for x in zip(px([p for p, _ in bl]), qs([q for _, q in bl]), strict=True)],
                    "asks": [list(x) for x in zip(px([p for p, _ in al]), qs([q for _, q in al]), strict=True)]}
            events.append((t, 3, dumps(snap)))
        if s > 0 and not dropped[s]:
            db, da = _diff(prev_b, bids), _diff(prev_a, asks)
            data = {"e": "depthUpdate", "E": t // 1_000_000, "s": sym, "U": int(tape.update_id[s - 1]) + 1, "u": uid,
                    "b": [list(x) for x in zip(px([p for p, _ in db]), qs([q for _, q in db]), strict=True)],
                    "a": [list(x) for x in zip(px([p for p, _ in da]), qs([q for _, q in da]), strict=True)]}
            events.append((t, 2, dumps({"stream": f"{low}@depth@100ms", "data": data})))
        bb, ba = max(bids), min(asks)
        if s == 0 or bb != max(prev_b) or ba != min(prev_a) or bids[bb] != prev_b[bb] or asks[ba] != prev_a[ba]:
            p2, q2 = px([bb, ba]), qs([bids[bb], asks[ba]])
            events.append((t, 1, dumps({"stream": f"{low}@bookTicker", "data": {
                "u": uid, "s": sym, "b": p2[0], "B": q2[0], "a": p2[1], "A": q2[1]}})))
        prev_b, prev_a = bids, asks
    rows = formats.binance_trades(spec, tape.trade_id, tape.price, tape.qty, tape.t_ns, tape.buy)
    for t_ns, r in zip(tape.t_ns.tolist(), rows, strict=True):
        data = {"e": "trade", "E": r["time"], "s": sym, "t": r["id"], "p": r["price"], "q": r["qty"], "T": r["time"],
                "m": r["isBuyerMaker"], "M": True}
        events.append((t_ns, 0, dumps({"stream": f"{low}@trade", "data": data})))


# ----------------------------------------------------------------------------------------------- Coinbase
def _coinbase(market: Market, spec: MarketSpec, tape: Any, steps: np.ndarray, dropped: np.ndarray,
              events: list[tuple[int, int, str]]) -> None:
    pid = spec.symbol

    def px(v: list[int]) -> list[str]:
        return formats.price_texts(spec, v)

    def qs(v: list[int]) -> list[str]:
        return formats.qty_texts(spec, v)

    resnap = _resnapshot_steps(dropped)
    # matches: per step, sequence numbers seq(s-1)+1 .. in time order
    seq = tape.sequence
    first_of_step = np.searchsorted(tape.step, np.arange(len(steps)), side="left")
    rows = formats.coinbase_trades(spec, tape.trade_id, tape.price, tape.qty, tape.t_ns, tape.buy)
    last_of_order = np.r_[tape.order_id[1:] != tape.order_id[:-1], True] if len(tape.order_id) else np.zeros(0, bool)
    day_vol = np.cumsum(tape.qty)
    fills0 = int(first_of_step[1]) if len(steps) > 1 else len(tape.step)
    seq_before = np.r_[int(seq[0]) - fills0 - 1, seq[:-1]]  # sequence just before each step's first message
    for i, (r, s) in enumerate(zip(rows, tape.step.tolist(), strict=True)):
        sq = int(seq_before[s]) + 1 + (i - int(first_of_step[s]))
        t_ns = int(tape.t_ns[i])
        oid = int(tape.order_id[i])
        maker = f"{(oid * 2654435761 + i) & 0xFFFFFFFF:08x}-5e1f-4d5b-9a5e-{i & 0xFFFFFFFFFFFF:012x}"
        taker = f"{(oid * 40503) & 0xFFFFFFFF:08x}-7a1c-4c3b-8b2e-{oid & 0xFFFFFFFFFFFF:012x}"
        events.append((t_ns, 0, dumps({"type": "match", "trade_id": r["trade_id"], "maker_order_id": maker,
                                       "taker_order_id": taker, "side": r["side"], "size": r["size"],
                                       "price": r["price"], "product_id": pid, "sequence": sq, "time": r["time"]})))
        if last_of_order[i]:
            bid, ask = int(tape.bid[s]), int(tape.ask[s])
            p2, q2 = px([bid, ask]), qs([int(tape.bid_top[s]), int(tape.ask_top[s])])
            events.append((t_ns, 1, dumps({
                "type": "ticker", "sequence": sq, "product_id": pid, "price": r["price"],
                "volume_24h": qs([int(day_vol[i])])[0], "best_bid": p2[0], "best_bid_size": q2[0],
                "best_ask": p2[1], "best_ask_size": q2[1], "side": "buy" if tape.buy[i] else "sell",
                "time": r["time"], "trade_id": r["trade_id"], "last_size": r["size"]})))
    prev_b: dict[int, int] = {}
    prev_a: dict[int, int] = {}
    for s, bids, asks in _Book(market, spec, BOOK_DEPTH, steps):
        t = _step_end(market, s)
        iso = formats.iso_us([t])[0]
        if s == 0 or s in resnap:
            bl, al = sorted(bids.items(), reverse=True), sorted(asks.items())
            events.append((t, 3, dumps({
                "type": "snapshot", "product_id": pid,
                "bids": [list(x) for x in zip(px([p for p, _ in bl]), qs([q for _, q in bl]), strict=True)],
                "asks": [list(x) for x in zip(px([p for p, _ in al]), qs([q for _, q in al]), strict=True)],
                "sequence": int(seq[s]), "time": iso})))
        if s > 0 and not dropped[s]:
            db, da = _diff(prev_b, bids), _diff(prev_a, asks)
            changes = [["buy", p, q] for p, q in zip(px([p for p, _ in db]), qs([q for _, q in db]), strict=True)]
            changes += [["sell", p, q] for p, q in zip(px([p for p, _ in da]), qs([q for _, q in da]), strict=True)]
            events.append((t, 2, dumps({"type": "l2update", "product_id": pid, "changes": changes, "time": iso,
                                        "sequence": int(seq[s])})))
        prev_b, prev_a = bids, asks


# ----------------------------------------------------------------------------------------------- Kraken
def _kraken_levels(spec: MarketSpec, levels: list[tuple[int, int]]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    pxs = formats.fixed_texts([p for p, _ in levels], spec.price_decimals, spec.price_decimals)
    qts = formats.fixed_texts([q for _, q in levels], spec.lot_decimals, spec.lot_decimals)
    return [{"price": RawJson(p), "qty": RawJson(q)} for p, q in zip(pxs, qts, strict=True)], \
        list(zip(pxs, qts, strict=True))


def _kraken(market: Market, spec: MarketSpec, tape: Any, steps: np.ndarray, dropped: np.ndarray,
            events: list[tuple[int, int, str]]) -> None:
    wsym = KRAKEN_PAIRS[spec.asset][3]
    resnap = _resnapshot_steps(dropped)
    prev_b: dict[int, int] = {}
    prev_a: dict[int, int] = {}
    for s, bids, asks in _Book(market, spec, KRAKEN_DEPTH, steps):
        t = _step_end(market, s)
        iso = formats.iso_us([t])[0]
        bl, al = sorted(bids.items(), reverse=True), sorted(asks.items())
        _, btxt = _kraken_levels(spec, bl)
        _, atxt = _kraken_levels(spec, al)
        checksum = kraken_checksum(atxt, btxt)
        if s == 0 or s in resnap:
            bj, _ = _kraken_levels(spec, bl)
            aj, _ = _kraken_levels(spec, al)
            events.append((t, 3, dumps({"channel": "book", "type": "snapshot", "data": [
                {"symbol": wsym, "bids": bj, "asks": aj, "checksum": checksum, "timestamp": iso}]})))
        elif not dropped[s]:
            worst_b, worst_a = min(bids), max(asks)
            # deletions only for levels that vanished inside the new top-10 range; levels pushed out below it
            # are not sent (the client truncates to its depth), as Kraken does.
            db = [(p, q) for p, q in _diff(prev_b, bids) if q or p >= worst_b]
            da = [(p, q) for p, q in _diff(prev_a, asks) if q or p <= worst_a]
            bj, _ = _kraken_levels(spec, db)
            aj, _ = _kraken_levels(spec, da)
            events.append((t, 2, dumps({"channel": "book", "type": "update", "data": [
                {"symbol": wsym, "bids": bj, "asks": aj, "checksum": checksum, "timestamp": iso}]})))
        prev_b, prev_a = bids, asks
    n = len(tape.t_ns)
    if n == 0:
        return
    starts = np.flatnonzero(np.r_[True, tape.order_id[1:] != tape.order_id[:-1]])
    ends = np.r_[starts[1:], n]
    pxs = formats.fixed_texts(tape.price, spec.price_decimals, spec.price_decimals)
    qts = formats.fixed_texts(tape.qty, spec.lot_decimals, spec.lot_decimals)
    isos = formats.iso_us(tape.t_ns)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        market_order = (int(tape.order_id[a]) * 2654435761 % 10) < 4
        side = "buy" if tape.buy[a] else "sell"
        data = [{"symbol": wsym, "side": side, "price": RawJson(pxs[i]), "qty": RawJson(qts[i]),
                 "ord_type": "market" if market_order else "limit", "trade_id": int(tape.trade_id[i]),
                 "timestamp": isos[i]} for i in range(a, b)]
        t_ns = int(tape.t_ns[a])
        events.append((t_ns, 0, dumps({"channel": "trade", "type": "update", "data": data})))
        s = int(tape.step[a])
        bid, ask = formats.fixed_texts([int(tape.bid[s]), int(tape.ask[s])], spec.price_decimals, spec.price_decimals)
        bq, aq = formats.fixed_texts([int(tape.bid_top[s]), int(tape.ask_top[s])], spec.lot_decimals,
                                     spec.lot_decimals)
        events.append((t_ns, 1, dumps({"channel": "ticker", "type": "update", "data": [
            {"symbol": wsym, "bid": RawJson(bid), "bid_qty": RawJson(bq), "ask": RawJson(ask), "ask_qty": RawJson(aq),
             "last": RawJson(pxs[b - 1])}]})))


# ----------------------------------------------------------------------------------------------- files
def write_recordings(market: Market, out: str | Path, venues: tuple[str, ...] = VENUES,
                     assets: tuple[str, ...] | None = None, gap_rate: float = 0.0, gap_seed: int = 1,
                     progress: bool = False) -> list[Path]:
    """Write `<out>/<venue>/<symbol>/<YYYY-MM-DD>.rec` for every venue and asset; returns the files written.
    Each file is written to a temporary name and renamed when complete."""
    from tqdm import tqdm

    out = Path(out)
    jobs = [(v, a) for v in venues for a in (assets or market.assets) if a in ASSETS]
    written: list[Path] = []
    for venue, asset in tqdm(jobs, desc="recordings (SIMULATED)", disable=not progress, unit="stream"):
        spec = market_for(venue, asset)
        lines = venue_messages(market, venue, asset, gap_rate, gap_seed)
        by_date: dict[str, list[str]] = {}
        for recv, text in lines:
            day = str(np.datetime64(recv, "ns").astype("datetime64[D]"))
            by_date.setdefault(day, []).append(f"{recv} {text}\n")
        folder = out / venue / spec.symbol
        folder.mkdir(parents=True, exist_ok=True)
        for day, day_lines in sorted(by_date.items()):
            path = folder / f"{day}.rec"
            tmp = path.with_suffix(".rec.tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                fh.writelines(day_lines)
            tmp.replace(path)
            written.append(path)
    return written
