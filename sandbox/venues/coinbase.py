"""Coinbase Exchange REST dialect (under /coinbase): /products, /products/{id}, /products/{id}/trades, /book,
/candles, /ticker, /stats, /time. Errors are `{"message": ...}` (404 "NotFound" for unknown products).

Trade pagination (as in the real recorded pages): pages are NEWEST FIRST, `limit` <= 1000 (default 1000).
- no cursor: the newest `limit` trades;
- `after=X`: the newest `limit` trades with trade_id < X (older page);
- `before=Y`: the OLDEST `limit` trades with trade_id > Y (the page adjacent to the cursor), still newest first;
- both: trade_id strictly between them.
Headers (lower-case, as the real server sends them): `cb-before` = trade_id of the first (newest) row and
`cb-after` = trade_id of the last (oldest) row; an empty page carries neither. Walking backwards with
`after=<cb-after>` until an empty page returns every trade exactly once.

Candles: `granularity` in {60,300,900,3600,21600,86400}; `start`/`end` ISO-8601 (or epoch seconds);
rows `[time, low, high, open, close, volume]` as JSON numbers, newest first, no rows for empty buckets,
at most 300 buckets (else 400).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np

from sandbox import formats
from sandbox.bars import compute_bars
from sandbox.market import Tape, to_ns
from sandbox.specs import ASSETS, MarketSpec, UnknownSymbol, market_for, resolve
from sandbox.venues.common import BadParam, Ctx, PageInfo, Reply, int_arg

GRANULARITIES = (60, 300, 900, 3600, 21600, 86400)
_ROUTE = re.compile(r"^/products(?:/(?P<id>[^/]+)(?:/(?P<what>trades|book|candles|ticker|stats))?)?/?$")


def error_reply(message: str, status: int) -> Reply:
    return Reply.json({"message": message}, status)


class CoinbaseError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def parse_time(raw: str, name: str) -> int:
    """ISO-8601 (with Z or offset) or epoch seconds -> ns."""
    try:
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            return int(float(raw) * 1e9)
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return to_ns(t if t.tzinfo else t.replace(tzinfo=dt.UTC))
    except ValueError:
        raise CoinbaseError(f"Invalid {name}: {raw}") from None


class Coinbase:
    name = "coinbase"

    def weight(self, path: str, args: Any) -> int:
        return 1

    def page_info(self, path: str, args: Any) -> PageInfo | None:
        m = _ROUTE.match(path)
        if not m or m["what"] != "trades":
            return None
        cursor = bool(args.get("after") or args.get("before"))
        return PageInfo(f"coinbase{path}", cursor, repeatable=cursor)

    def handle(self, path: str, ctx: Ctx) -> Reply:
        try:
            if path in ("/time", "/time/"):
                now = ctx.now_ns
                return Reply.json({"iso": formats.iso_ms(now), "epoch": round(now / 1e9, 3)})
            m = _ROUTE.match(path)
            if not m:
                return error_reply("NotFound", 404)
            if m["id"] is None:
                return Reply.json([self._product(s) for s in self._specs(ctx)])
            spec = self._spec(ctx, m["id"])
            if m["what"] is None:
                return Reply.json(self._product(spec))
            tape = ctx.market.tape("coinbase", spec.asset)
            if m["what"] == "trades":
                return self.trades(ctx, spec, tape)
            if m["what"] == "book":
                return Reply.json(self.book(ctx, spec))
            if m["what"] == "candles":
                return Reply.json(self.candles(ctx, spec, tape))
            if m["what"] == "ticker":
                return Reply.json(self.ticker(ctx, spec, tape))
            return Reply.json(self.stats(ctx, spec, tape))
        except CoinbaseError as exc:
            return error_reply(exc.message, exc.status)
        except BadParam as exc:
            return error_reply(f"Invalid {exc.name}", 400)

    @staticmethod
    def _specs(ctx: Ctx) -> list[MarketSpec]:
        return [market_for("coinbase", a) for a in ASSETS if a in ctx.market.assets]

    @staticmethod
    def _spec(ctx: Ctx, product_id: str) -> MarketSpec:
        try:
            spec = resolve("coinbase", product_id)
        except UnknownSymbol:
            raise CoinbaseError("NotFound", 404) from None
        if spec.asset not in ctx.market.assets or product_id != spec.symbol:
            raise CoinbaseError("NotFound", 404)
        return spec

    @staticmethod
    def _product(spec: MarketSpec) -> dict[str, Any]:
        return {
            "id": spec.symbol, "base_currency": spec.asset, "quote_currency": "USD",
            "quote_increment": formats.fixed_texts([1], spec.price_decimals, spec.price_decimals)[0],
            "base_increment": formats.fixed_texts([1], spec.lot_decimals, spec.lot_decimals)[0],
            "display_name": f"{spec.asset}-USD", "min_market_funds": "1", "margin_enabled": False,
            "post_only": False, "limit_only": False, "cancel_only": False, "status": "online",
            "status_message": "", "trading_disabled": False, "fx_stablecoin": False, "max_slippage_percentage":
                "0.02000000", "auction_mode": False, "high_bid_limit_percentage": "",
        }

    def trades(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> Reply:
        limit = int_arg(ctx.args, "limit", 1000, 1, 1000)
        after = int_arg(ctx.args, "after", None)
        before = int_arg(ctx.args, "before", None)
        n = ctx.visible(tape.visible)
        id0 = int(tape.trade_id[0]) if len(tape.trade_id) else 0
        # index range of ids strictly between before and after
        hi = n if after is None else min(n, max(0, after - id0))  # ids < after
        lo = 0 if before is None else min(n, max(0, before - id0 + 1))  # ids > before
        if after is not None and ctx.overlap:
            hi = min(n, hi + ctx.overlap)  # the overlap fault: the page starts some trades newer than the cursor
        if before is not None and ctx.overlap:
            lo = max(0, lo - ctx.overlap)
        if before is not None and after is None:
            page = slice(lo, min(hi, lo + limit))
        else:
            page = slice(max(lo, hi - limit), hi)
        if ctx.repeat:  # the page just on the other side of the cursor: what the walker already holds
            if after is not None and hi < n:
                page = slice(hi, min(n, hi + limit))
            elif after is None and before is not None and lo > 0:
                page = slice(max(0, lo - limit), lo)
            else:
                ctx.fault_unused = True
        rows = formats.coinbase_trades(spec, tape.trade_id[page], tape.price[page], tape.qty[page], tape.t_ns[page],
                                       tape.buy[page])[::-1]
        headers = [("cb-before", str(rows[0]["trade_id"])), ("cb-after", str(rows[-1]["trade_id"]))] if rows else []
        return Reply.json(rows, headers=headers)

    def book(self, ctx: Ctx, spec: MarketSpec) -> dict[str, Any]:
        level = int_arg(ctx.args, "level", 1)
        if level not in (1, 2, 3):
            raise CoinbaseError("Invalid level")
        depth = 1 if level == 1 else 200
        b = ctx.market.book("coinbase", spec.symbol, ctx.visible_until_ns, depth=depth)
        salt = b.sequence

        def rows(levels: list[tuple[int, int]]) -> list[list[Any]]:
            pxs = formats.price_texts(spec, [p for p, _ in levels])
            qs = formats.qty_texts(spec, [q for _, q in levels])
            if level == 3:
                return [[p, q, f"{(salt * 31 + i) & 0xFFFFFFFF:08x}-sim-order"] for i, (p, q) in
                        enumerate(zip(pxs, qs, strict=True))]
            return [[p, q, 1 + (lv[0] * 7 + salt) % 5] for p, q, lv in zip(pxs, qs, levels, strict=True)]

        return {"bids": rows(b.bids), "asks": rows(b.asks), "sequence": b.sequence, "auction_mode": False,
                "auction": None, "time": formats.iso_us([ctx.visible_until_ns])[0]}

    def candles(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> list[list[float]]:
        gran = int_arg(ctx.args, "granularity", 60)
        if gran not in GRANULARITIES:
            raise CoinbaseError("Unsupported granularity")
        g_ns = gran * 1_000_000_000
        n = ctx.visible(tape.visible)
        end_raw, start_raw = ctx.args.get("end"), ctx.args.get("start")
        end_ns = parse_time(end_raw, "end") if end_raw else ctx.visible_until_ns
        start_ns = parse_time(start_raw, "start") if start_raw else end_ns - 299 * g_ns
        if start_ns > end_ns:
            raise CoinbaseError("start must be before end")
        if (end_ns // g_ns - start_ns // g_ns) + 1 > 300:
            raise CoinbaseError("granularity too small for the requested time range. Count of aggregations "
                                "requested exceeds 300")
        bars = compute_bars(tape, n, g_ns, start_ns // g_ns * g_ns, end_ns)
        tick = spec.tick
        lot = 10.0**-spec.lot_decimals
        out = [[int(o // 1_000_000_000), round(lo * tick, spec.price_decimals), round(hi * tick, spec.price_decimals),
                round(op * tick, spec.price_decimals), round(cl * tick, spec.price_decimals),
                round(v * lot, spec.lot_decimals)]
               for o, lo, hi, op, cl, v in zip(bars.open_ns.tolist(), bars.low.tolist(), bars.high.tolist(),
                                               bars.open.tolist(), bars.close.tolist(), bars.volume.tolist(),
                                               strict=True)]
        return out[::-1]

    def ticker(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> dict[str, Any]:
        n = ctx.visible(tape.visible)
        if n == 0:
            raise CoinbaseError("NotFound", 404)
        i = n - 1
        b = ctx.market.book("coinbase", spec.symbol, ctx.visible_until_ns, depth=1)
        day = int(np.searchsorted(tape.t_ns[:n], ctx.visible_until_ns - 86_400 * 10**9, side="left"))
        return {"ask": formats.price_texts(spec, [b.asks[0][0]])[0], "bid": formats.price_texts(spec, [b.bids[0][0]])[0],
                "volume": formats.qty_texts(spec, [int(tape.qty[day:n].sum())])[0], "trade_id": int(tape.trade_id[i]),
                "price": formats.price_texts(spec, [tape.price[i]])[0], "size": formats.qty_texts(spec, [tape.qty[i]])[0],
                "time": formats.iso_us([tape.t_ns[i]])[0], "rfq_volume": "0.00000000", "conversions_volume": "0"}

    def stats(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> dict[str, Any]:
        n = ctx.visible(tape.visible)
        if n == 0:
            raise CoinbaseError("NotFound", 404)
        day = int(np.searchsorted(tape.t_ns[:n], ctx.visible_until_ns - 86_400 * 10**9, side="left"))
        px = tape.price[day:n]
        return {"open": formats.price_texts(spec, [px[0]])[0], "high": formats.price_texts(spec, [px.max()])[0],
                "low": formats.price_texts(spec, [px.min()])[0], "last": formats.price_texts(spec, [px[-1]])[0],
                "volume": formats.qty_texts(spec, [int(tape.qty[day:n].sum())])[0],
                "volume_30day": formats.qty_texts(spec, [int(tape.qty[:n].sum())])[0]}
