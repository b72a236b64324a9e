"""Kraken spot REST dialect (under /kraken): /0/public/{Time,SystemStatus,Assets,AssetPairs,Trades,Depth,OHLC}.
Every answer is `{"error": [...], "result": ...}`; errors are strings like `EQuery:Unknown asset pair`
(HTTP 200 for query errors, as Kraken does). `result` is keyed by the canonical pair key (`XXBTZUSD`,
`XETHZUSD`) whatever spelling was asked (`XBTUSD`, `XBT/USD`, `BTC/USD`, `XXBTZUSD`).

Trades pagination: `since` is a nanosecond cursor (plain seconds, < 1e11, are accepted too); a page holds the
trades with event time STRICTLY AFTER `since`, ascending, at most `count` (1..1000, default 1000), and is never cut
inside a group of trades that share one timestamp (the page ends before such a group unless the group alone
fills it; a group larger than `count` is returned whole). `last` is the exact ns time of the page's last trade (or `since` echoed when the page is empty), so
`since=<last>` verbatim neither skips nor repeats a trade; an empty page is the end. No `since` => the newest
`count` trades. Rows are `[price, volume, time, "b"|"s" (taker side), "m"|"l", "", trade_id]`, time a JSON number
of decimal seconds written with its exact digits (up to 7 fraction digits).

OHLC: `interval` minutes in {1,5,15,30,60,240,1440,10080,21600}; at most the 720 most recent bars, bars with
time > `since` when given; empty minutes appear as flat bars (vwap "0.0...", volume 0, count 0); the last bar is
the still-open one; `last` = open time of the last closed bar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from sandbox import formats
from sandbox.bars import compute_bars, last_close_before
from sandbox.market import STEP_NS, Tape
from sandbox.specs import ASSETS, KRAKEN_PAIRS, MarketSpec, UnknownSymbol, market_for, resolve
from sandbox.venues.common import BadParam, Ctx, PageInfo, Reply, int_arg

INTERVALS_MIN = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
PER_PAIR = ("Trades", "OHLC")


class KrakenError(Exception):
    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error, self.status = error, status


def error_reply(error: str, status: int = 200) -> Reply:
    return Reply.json({"error": [error]}, status)


def ok(result: Any) -> Reply:
    return Reply.json({"error": [], "result": result})


class Kraken:
    name = "kraken"

    def weight(self, path: str, args: Any) -> int:
        return 1

    @staticmethod
    def method(path: str) -> str:
        return path.removeprefix("/0/public/").strip("/")

    def pair_key(self, path: str, args: Any) -> str | None:
        """Trades and OHLC are throttled per IP and pair."""
        if self.method(path) in PER_PAIR:
            try:
                return KRAKEN_PAIRS[resolve("kraken", args.get("pair", "")).asset][0] if args.get("pair") else None
            except UnknownSymbol:
                return None
        return None

    def page_info(self, path: str, args: Any) -> PageInfo | None:
        if self.method(path) != "Trades":
            return None
        since = args.get("since")
        return PageInfo(f"kraken:Trades:{self.pair_key(path, args)}", bool(since),
                        repeatable=bool(since) and since != "0")

    def handle(self, path: str, ctx: Ctx) -> Reply:
        if not path.startswith("/0/public/"):
            return error_reply("EGeneral:Unknown method", 404)
        method = self.method(path)
        try:
            if method == "Time":
                t = dt.datetime.fromtimestamp(ctx.now_ns // 1_000_000_000, dt.UTC)
                return ok({"unixtime": ctx.now_ns // 1_000_000_000, "rfc1123": formats.rfc1123_kraken(t)})
            if method == "SystemStatus":
                return ok({"status": "online", "timestamp": formats.iso_ms(ctx.now_ns)[:-5] + "Z"})
            if method == "Assets":
                return ok(self.assets(ctx))
            if method == "AssetPairs":
                return ok(self.asset_pairs(ctx))
            if method in ("Trades", "Depth", "OHLC"):
                spec = self._pair(ctx)
                key = KRAKEN_PAIRS[spec.asset][0]
                tape = ctx.market.tape("kraken", spec.asset)
                if method == "Trades":
                    rows, last = self.trades(ctx, spec, tape)
                    return ok({key: rows, "last": last})
                if method == "Depth":
                    return ok({key: self.depth(ctx, spec)})
                rows, last_bar = self.ohlc(ctx, spec, tape)
                return ok({key: rows, "last": last_bar})
            return error_reply("EGeneral:Unknown method", 404)
        except KrakenError as exc:
            return error_reply(exc.error, exc.status)
        except BadParam:
            return error_reply("EGeneral:Invalid arguments")

    @staticmethod
    def _specs(ctx: Ctx) -> list[MarketSpec]:
        return [market_for("kraken", a) for a in ASSETS if a in ctx.market.assets]

    def _pair(self, ctx: Ctx) -> MarketSpec:
        raw = ctx.args.get("pair")
        if not raw:
            raise KrakenError("EGeneral:Invalid arguments")
        try:
            spec = resolve("kraken", raw)
        except UnknownSymbol:
            raise KrakenError("EQuery:Unknown asset pair") from None
        if spec.asset not in ctx.market.assets:
            raise KrakenError("EQuery:Unknown asset pair")
        return spec

    def assets(self, ctx: Ctx) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in self._specs(ctx):
            _key, _, _, _, base, _ = KRAKEN_PAIRS[spec.asset]
            out[base] = {"aclass": "currency", "altname": "XBT" if spec.asset == "BTC" else spec.asset,
                         "decimals": 10, "display_decimals": 5, "collateral_value": 1.0, "status": "enabled"}
        out["ZUSD"] = {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2,
                       "status": "enabled"}
        return out

    def asset_pairs(self, ctx: Ctx) -> dict[str, Any]:
        specs = self._specs(ctx)
        if ctx.args.get("pair"):
            specs = []
            for p in ctx.args["pair"].split(","):
                try:
                    spec = resolve("kraken", p.strip())
                except UnknownSymbol:
                    raise KrakenError("EQuery:Unknown asset pair") from None
                specs.append(spec)
        out = {}
        for spec in specs:
            key, alt, wsname, _, base, quote = KRAKEN_PAIRS[spec.asset]
            out[key] = {
                "altname": alt, "wsname": wsname, "aclass_base": "currency", "base": base, "aclass_quote": "currency",
                "quote": quote, "lot": "unit", "cost_decimals": 5, "pair_decimals": spec.price_decimals,
                "lot_decimals": spec.lot_decimals, "lot_multiplier": 1, "leverage_buy": [2, 3, 4, 5],
                "leverage_sell": [2, 3, 4, 5], "fees": [[0, 0.4], [10000, 0.35], [50000, 0.24]],
                "fees_maker": [[0, 0.25], [10000, 0.2], [50000, 0.14]], "fee_volume_currency": "ZUSD",
                "margin_call": 80, "margin_stop": 40, "ordermin": "0.00005" if spec.asset == "BTC" else "0.002",
                "costmin": "0.5", "tick_size": formats.fixed_texts([1], spec.price_decimals, spec.price_decimals)[0],
                "status": "online", "long_position_limit": 270, "short_position_limit": 180,
            }
        return out

    def trades(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> tuple[list[list[Any]], str]:
        count = int_arg(ctx.args, "count", 1000, 1, 1000)
        since_raw = ctx.args.get("since")
        n = ctx.visible(tape.visible)
        if since_raw:
            if not since_raw.isdigit():
                raise KrakenError("EGeneral:Invalid arguments")
            since = int(since_raw)
            since = since * 1_000_000_000 if since < 10**11 else since
            lo = int(np.searchsorted(tape.t_ns[:n], since, side="right"))
            lo = max(0, lo - ctx.overlap)
            hi = min(n, lo + count)
            if hi < n and hi > lo and tape.t_ns[hi] == tape.t_ns[hi - 1]:
                # never cut a same-timestamp group: end the page before it (unless it alone fills the page)
                cut = int(np.searchsorted(tape.t_ns[lo:hi], tape.t_ns[hi], side="left")) + lo
                # a group larger than the page is returned whole (the page then exceeds `count`)
                hi = cut if cut > lo else int(np.searchsorted(tape.t_ns[:n], tape.t_ns[hi], side="right"))
        else:
            since = None
            hi = n
            lo = max(0, n - count)
        repeated = False
        if ctx.repeat and since is not None:
            # the page that ends at the cursor (the walker holds it already), with `last` = the cursor itself
            hi = int(np.searchsorted(tape.t_ns[:n], since, side="right"))
            lo = max(0, hi - count)
            repeated = hi > lo
            ctx.fault_unused = not repeated
        elif ctx.repeat:
            ctx.fault_unused = True
        sl = slice(lo, hi)
        market = (tape.order_id[sl] * 2654435761 % 10) < 4
        rows = formats.kraken_trade_rows(spec, tape.trade_id[sl], tape.price[sl], tape.qty[sl], tape.t_ns[sl],
                                         tape.buy[sl], market)
        if repeated:
            last = str(since)
        elif hi > lo:
            last = str(int(tape.t_ns[hi - 1]))
        else:
            last = str(since if since is not None else ctx.visible_until_ns)
        return rows, last

    def depth(self, ctx: Ctx, spec: MarketSpec) -> dict[str, Any]:
        count = int_arg(ctx.args, "count", 100, 1, 500)
        at = ctx.visible_until_ns
        b = ctx.market.book("kraken", spec.symbol, at, depth=count)
        step0 = ctx.market.start_ns

        def rows(levels: list[tuple[int, int]], side: int) -> list[list[Any]]:
            pxs = formats.price_texts(spec, [p for p, _ in levels])
            qs = [_trim(q) for q in formats.qty_texts(spec, [q for _, q in levels])]
            changed = ctx.market.level_changed_steps("kraken", spec.symbol, side, b.step, [p for p, _ in levels])
            ts = [(step0 + int(s) * STEP_NS) // 1_000_000_000 for s in changed]
            return [[p, q, t] for p, q, t in zip(pxs, qs, ts, strict=True)]

        return {"asks": rows(b.asks, 1), "bids": rows(b.bids, 0)}

    def ohlc(self, ctx: Ctx, spec: MarketSpec, tape: Tape) -> tuple[list[list[Any]], int]:
        interval = int_arg(ctx.args, "interval", 1)
        if interval not in INTERVALS_MIN:
            raise KrakenError("EGeneral:Invalid arguments")
        since = int_arg(ctx.args, "since", None, 0)
        iv = interval * 60
        n = ctx.visible(tape.visible)
        if n == 0:
            return [], 0
        now_s = ctx.visible_until_ns // 1_000_000_000
        last_open = now_s // iv * iv
        first_open = max(int(tape.t_ns[0] // 1_000_000_000) // iv * iv, last_open - 719 * iv)
        if since is not None:
            since_s = since // 1_000_000_000 if since > 10**11 else since
            first_open = max(first_open, (since_s // iv + 1) * iv)
        opens = list(range(first_open, last_open + 1, iv))
        if not opens:
            return [], (last_open - iv)
        bars = compute_bars(tape, n, iv * 10**9, opens[0] * 10**9, opens[-1] * 10**9)
        by_open = {int(o) // 10**9: i for i, o in enumerate(bars.open_ns.tolist())}
        prev = last_close_before(tape, n, opens[0] * 10**9)
        pd, ld = spec.price_decimals, spec.lot_decimals
        rows = []
        for o in opens:
            i = by_open.get(o)
            if i is None:
                if prev is None:
                    continue
                px = formats.fixed_texts([prev], pd, pd)[0]
                rows.append([o, px, px, px, px, formats.fixed_texts([0], pd, pd)[0],
                             formats.fixed_texts([0], ld, ld)[0], 0])
                continue
            vwap_ticks = round(int(bars.quote_volume[i]) / int(bars.volume[i]))
            ohlc = formats.fixed_texts([bars.open[i], bars.high[i], bars.low[i], bars.close[i], vwap_ticks], pd, pd)
            rows.append([o, *ohlc, formats.fixed_texts([bars.volume[i]], ld, ld)[0], int(bars.count[i])])
            prev = int(bars.close[i])
        return rows, last_open - iv


def _trim(text: str) -> str:
    """Kraken Depth volumes drop trailing zeros but keep 3 fraction digits (e.g. "0.136", "1.250")."""
    whole, frac = text.split(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac.ljust(3, '0')}"
