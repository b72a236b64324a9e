"""Binance spot REST dialect (under /binance): /api/v3/{ping,time,exchangeInfo,trades,historicalTrades,aggTrades,
depth,klines,uiKlines,ticker/bookTicker}. Ascending pages, int-ms times, decimal strings with 8 fraction digits,
`isBuyerMaker`, request weights per endpoint, error bodies `{"code": -1121, "msg": "Invalid symbol."}`.

Pagination (exactly what an honest client relies on):
- historicalTrades: `fromId` inclusive, `limit` <= 1000 (default 500), no fromId => the newest `limit` trades;
  a `fromId` past the newest trade => `[]` (the end).
- aggTrades: `fromId` inclusive, or `startTime`/`endTime` (ms, or µs when > 1e14; inclusive); combining fromId with
  a time window => -1128. No parameters => the newest `limit`.
- klines: open-time keyed; `startTime` => oldest first from there; the last row may be the still-open candle.
  Intervals 1s..1d are simulated (3d/1w/1M are not: -1120).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox import formats
from sandbox.bars import compute_bars, last_close_before
from sandbox.market import Tape
from sandbox.specs import ASSETS, MarketSpec, UnknownSymbol, market_for, resolve
from sandbox.venues.common import BadParam, Ctx, PageInfo, Reply, int_arg

INTERVALS_MS = {"1s": 1_000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
                "12h": 43_200_000, "1d": 86_400_000}
WEIGHT_LIMIT = 6000
PATHS = ("/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/trades", "/api/v3/historicalTrades",
         "/api/v3/aggTrades", "/api/v3/depth", "/api/v3/klines", "/api/v3/uiKlines", "/api/v3/ticker/bookTicker")
PAGED = {"/api/v3/historicalTrades": "fromId", "/api/v3/aggTrades": "fromId", "/api/v3/trades": ""}


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def error_reply(code: int, msg: str, status: int = 400, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply.json({"code": code, "msg": msg}, status, headers)


def depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


@dataclass
class AggTape:
    a: np.ndarray
    first: np.ndarray  # index of the first fill in the tape
    last: np.ndarray  # index of the last fill
    qty: np.ndarray


class Binance:
    name = "binance"

    def __init__(self) -> None:
        self._agg: dict[tuple[str, str], AggTape] = {}

    # ------------------------------------------------------------------ metadata for the server
    def weight(self, path: str, args: Any) -> int:
        if path == "/api/v3/exchangeInfo":
            return 20
        if path in ("/api/v3/trades", "/api/v3/historicalTrades"):
            return 25
        if path == "/api/v3/aggTrades":
            return 4
        if path in ("/api/v3/klines", "/api/v3/uiKlines"):
            return 2
        if path == "/api/v3/ticker/bookTicker":
            return 2 if args.get("symbol") else 4
        if path == "/api/v3/depth":
            raw = args.get("limit", "100")
            return depth_weight(int(raw)) if raw.isdigit() else 5
        return 1

    def page_info(self, path: str, args: Any) -> PageInfo | None:
        if path not in PAGED:
            return None
        has_cursor = any(args.get(k) for k in ("fromId", "startTime")) if path != "/api/v3/trades" else False
        return PageInfo(f"binance{path}:{args.get('symbol', '')}", has_cursor,
                        repeatable=bool(args.get("fromId")) and path != "/api/v3/trades")

    # ------------------------------------------------------------------ dispatch
    def handle(self, path: str, ctx: Ctx) -> Reply:
        try:
            if path == "/api/v3/ping":
                return Reply.json({})
            if path == "/api/v3/time":
                return Reply.json({"serverTime": ctx.now_ns // 1_000_000})
            if path == "/api/v3/exchangeInfo":
                return Reply.json(self.exchange_info(ctx))
            if path == "/api/v3/ticker/bookTicker":
                return Reply.json(self.book_ticker(ctx))
            if path not in PATHS:
                return error_reply(-1000, f"Unknown path {path}.", 404)
            spec = self._symbol(ctx)
            tape = ctx.market.tape("binance", spec.asset)
            if path == "/api/v3/trades":
                return Reply.json(self.trades(ctx, spec, tape, historical=False))
            if path == "/api/v3/historicalTrades":
                return Reply.json(self.trades(ctx, spec, tape, historical=True))
            if path == "/api/v3/aggTrades":
                return Reply.json(self.agg_trades(ctx, spec, tape))
            if path == "/api/v3/depth":
                return Reply.json(self.depth(ctx, spec))
            return Reply.json(self.klines(ctx, spec, tape))
        except BinanceError as exc:
            return error_reply(exc.code, exc.msg, exc.status)
        except BadParam as exc:
            if exc.problem == "is not an integer":
                return error_reply(-1100, f"Illegal characters found in parameter '{exc.name}'; legal range is "
                                          "'^[0-9]{1,20}$'.")
            return error_reply(-1130, f"Data sent for parameter '{exc.name}' is not valid.")

    def _symbol(self, ctx: Ctx) -> MarketSpec:
        sym = ctx.args.get("symbol")
        if not sym:
            raise BinanceError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if sym != sym.upper():
            raise BinanceError(-1100, "Illegal characters found in parameter 'symbol'; legal range is "
                                      "'^[A-Z0-9-_.]{1,20}$'.")
        try:
            spec = resolve("binance", sym)
        except UnknownSymbol:
            raise BinanceError(-1121, "Invalid symbol.") from None
        if spec.asset not in ctx.market.assets:
            raise BinanceError(-1121, "Invalid symbol.")
        return spec

    # ------------------------------------------------------------------ endpoints
    def exchange_info(self, ctx: Ctx) -> dict[str, Any]:
        wanted = [s.symbol for s in self._specs(ctx)]
        if ctx.args.get("symbol"):
            wanted = [self._symbol(ctx).symbol]
        elif ctx.args.get("symbols"):
            try:
                asked = json.loads(ctx.args["symbols"])
            except ValueError:
                raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'.") from None
            bad = [s for s in asked if s not in wanted]
            if bad:
                raise BinanceError(-1121, "Invalid symbol.")
            wanted = list(asked)
        symbols = [self._symbol_info(s) for s in self._specs(ctx) if s.symbol in wanted]
        return {
            "timezone": "UTC",
            "serverTime": ctx.now_ns // 1_000_000,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": WEIGHT_LIMIT},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    @staticmethod
    def _specs(ctx: Ctx) -> list[MarketSpec]:
        return [market_for("binance", a) for a in ASSETS if a in ctx.market.assets]

    @staticmethod
    def _symbol_info(spec: MarketSpec) -> dict[str, Any]:
        tick = formats.fixed_texts([1], spec.price_decimals, 8)[0]
        step = formats.fixed_texts([1], spec.lot_decimals, 8)[0]
        return {
            "symbol": spec.symbol, "status": "TRADING", "baseAsset": spec.asset, "baseAssetPrecision": 8,
            "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": True,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000.00000000", "stepSize": step},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT", "MARGIN"]], "defaultSelfTradePreventionMode":
                "EXPIRE_MAKER", "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def trades(self, ctx: Ctx, spec: MarketSpec, tape: Tape, historical: bool) -> list[dict[str, Any]]:
        limit = int_arg(ctx.args, "limit", 500, 1, 1000)
        n = ctx.visible(tape.visible)
        from_id = int_arg(ctx.args, "fromId", None, 0) if historical else None
        if from_id is None:
            lo = max(0, n - limit)
        else:
            lo = min(max(0, from_id - int(tape.trade_id[0]) - ctx.overlap), n) if n else 0
        hi = min(lo + limit, n)
        if ctx.repeat and from_id is not None and lo > 0:
            lo, hi = max(0, lo - limit), lo
        elif ctx.repeat:
            ctx.fault_unused = True
        sl = slice(lo, hi)
        return formats.binance_trades(spec, tape.trade_id[sl], tape.price[sl], tape.qty[sl], tape.t_ns[sl],
                                      tape.buy[sl])

    def _aggs(self, tape: Tape) -> AggTape:
        key = tape.spec.key
        if key not in self._agg:
            starts = np.flatnonzero(np.r_[True, tape.order_id[1:] != tape.order_id[:-1]])
            ends = np.r_[starts[1:], len(tape.order_id)] - 1
            qty = np.add.reduceat(tape.qty, starts) if len(starts) else np.zeros(0, np.int64)
            self._agg[key] = AggTape(tape.order_id[starts], starts, ends, qty)
        return self._agg[key]

    def agg_trades(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> list[dict[str, Any]]:
        limit = int_arg(ctx.args, "limit", 500, 1, 1000)
        from_id = int_arg(ctx.args, "fromId", None, 0)
        start = int_arg(ctx.args, "startTime", None, 0)
        end = int_arg(ctx.args, "endTime", None, 0)
        if from_id is not None and (start is not None or end is not None):
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        if start is not None and end is not None and start > end:
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        agg = self._aggs(tape)
        n_fill = ctx.visible(tape.visible)
        n = int(np.searchsorted(agg.first, n_fill, side="left"))  # aggs whose fills are visible
        times_ms = tape.t_ns[agg.first[:n]] // 1_000_000

        def ms(v: int) -> int:
            return v // 1000 if v > 10**14 else v

        if from_id is not None:
            lo = min(max(0, from_id - int(agg.a[0]) - ctx.overlap), n) if n else 0
            hi = min(lo + limit, n)
            if ctx.repeat and lo > 0:
                lo, hi = max(0, lo - limit), lo
            elif ctx.repeat:
                ctx.fault_unused = True
        elif start is not None:
            lo = max(0, int(np.searchsorted(times_ms, ms(start), side="left")) - ctx.overlap)
            hi = min(lo + limit, n)
            if end is not None:
                hi = min(hi, int(np.searchsorted(times_ms, ms(end), side="right")))
        elif end is not None:
            hi = int(np.searchsorted(times_ms, ms(end), side="right"))
            lo = max(0, hi - limit)
        else:
            lo, hi = max(0, n - limit), n
        if ctx.repeat and (from_id is None):
            ctx.fault_unused = True
        if hi <= lo:
            return []
        first, last = agg.first[lo:hi], agg.last[lo:hi]
        return formats.binance_agg_trades(spec, agg.a[lo:hi], tape.trade_id[first], tape.trade_id[last],
                                          tape.price[first], agg.qty[lo:hi], tape.t_ns[first], tape.buy[first])

    def depth(self, ctx: Ctx, spec: MarketSpec) -> dict[str, Any]:
        limit = int_arg(ctx.args, "limit", 100, 1, 5000)
        book = ctx.market.book("binance", spec.symbol, ctx.visible_until_ns, depth=limit)
        px = formats.fixed_texts
        return {
            "lastUpdateId": book.update_id,
            "bids": [[p, q] for p, q in zip(px([b[0] for b in book.bids], spec.price_decimals, 8),
                                             formats.qty_texts(spec, [b[1] for b in book.bids]), strict=True)],
            "asks": [[p, q] for p, q in zip(px([a[0] for a in book.asks], spec.price_decimals, 8),
                                             formats.qty_texts(spec, [a[1] for a in book.asks]), strict=True)],
        }

    def book_ticker(self, ctx: Ctx) -> dict[str, Any] | list[dict[str, Any]]:
        if ctx.args.get("symbol"):
            specs, single = [self._symbol(ctx)], True
        elif ctx.args.get("symbols"):
            try:
                asked = json.loads(ctx.args["symbols"])
            except ValueError:
                raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'.") from None
            try:
                specs = [resolve("binance", s) for s in asked]
            except UnknownSymbol:
                raise BinanceError(-1121, "Invalid symbol.") from None
            single = False
        else:
            specs, single = self._specs(ctx), False
        out = []
        for spec in specs:
            b = ctx.market.book("binance", spec.symbol, ctx.visible_until_ns, depth=1)
            out.append({"symbol": spec.symbol,
                        "bidPrice": formats.fixed_texts([b.bids[0][0]], spec.price_decimals, 8)[0],
                        "bidQty": formats.qty_texts(spec, [b.bids[0][1]])[0],
                        "askPrice": formats.fixed_texts([b.asks[0][0]], spec.price_decimals, 8)[0],
                        "askQty": formats.qty_texts(spec, [b.asks[0][1]])[0]})
        return out[0] if single else out

    def klines(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> list[list[Any]]:
        interval = ctx.args.get("interval")
        if not interval:
            raise BinanceError(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
        if interval not in INTERVALS_MS:
            raise BinanceError(-1120, "Invalid interval.")
        iv = INTERVALS_MS[interval]
        limit = int_arg(ctx.args, "limit", 500, 1, 1000)
        start = int_arg(ctx.args, "startTime", None, 0)
        end = int_arg(ctx.args, "endTime", None, 0)
        start = start // 1000 if start is not None and start > 10**14 else start
        end = end // 1000 if end is not None and end > 10**14 else end
        if start is not None and end is not None and start > end:
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        n = ctx.visible(tape.visible)
        if n == 0:
            return []
        first_open = int(tape.t_ns[0] // 1_000_000) // iv * iv
        last_open = min(ctx.visible_until_ns // 1_000_000, int(tape.t_ns[n - 1] // 1_000_000)) // iv * iv
        lo_open = max(first_open, -(-start // iv) * iv) if start is not None else first_open
        hi_open = min(last_open, end // iv * iv) if end is not None else last_open
        if hi_open < lo_open:
            return []
        opens = np.arange(lo_open, hi_open + 1, iv, dtype=np.int64)
        opens = opens[:limit] if start is not None else opens[-limit:]
        bars = compute_bars(tape, n, iv * 1_000_000, int(opens[0]) * 1_000_000, int(opens[-1]) * 1_000_000)
        by_open = {int(o) // 1_000_000: i for i, o in enumerate(bars.open_ns.tolist())}
        prev = last_close_before(tape, n, int(opens[0]) * 1_000_000)
        p8 = spec.price_decimals
        qd = spec.lot_decimals
        rows = []
        for o in opens.tolist():
            i = by_open.get(o)
            if i is None:
                if prev is None:
                    continue
                px = formats.fixed_texts([prev], p8, 8)[0]
                zero_q, zero_quote = formats.fixed_texts([0], qd, 8)[0], formats.fixed_texts([0], p8 + qd, 8)[0]
                rows.append([o, px, px, px, px, zero_q, o + iv - 1, zero_quote, 0, zero_q, zero_quote, "0"])
                continue
            ohlc = formats.fixed_texts([bars.open[i], bars.high[i], bars.low[i], bars.close[i]], p8, 8)
            vol = formats.fixed_texts([bars.volume[i], bars.buy_volume[i]], qd, 8)
            quote = formats.fixed_texts([int(bars.quote_volume[i]), int(bars.buy_quote_volume[i])], p8 + qd,
                                        max(8, p8 + qd))
            rows.append([o, *ohlc, vol[0], o + iv - 1, quote[0], int(bars.count[i]), vol[1], quote[1], "0"])
            prev = int(bars.close[i])
        return rows
