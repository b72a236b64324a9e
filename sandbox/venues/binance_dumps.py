"""The Binance bulk-dump site (data.binance.vision) dialect, under /binance-data:

    /binance-data/data/spot/{daily|monthly}/{trades|aggTrades}/{SYM}/{SYM}-{kind}-{YYYY-MM-DD|YYYY-MM}.zip
    /binance-data/data/spot/{daily|monthly}/klines/{SYM}/{INTERVAL}/{SYM}-{INTERVAL}-{YYYY-MM-DD|YYYY-MM}.zip
    ... and the same path + `.CHECKSUM` (`<sha256>  <zip name>`, sha256sum format).

Each zip holds one header-less CSV of the same base name, with the real column order; booleans `True`/`False`;
every time column in MICROSECONDS for files dated 2025-01-01 onwards and in milliseconds before (as the real site
switched). SIMULATED DATA: a file exists for every day (month) that overlaps the sandbox window and holds the
window's part of it; anything else is 404 (the real site's "no file"). Zips are byte-identical for one seed and
window (fixed zip timestamps).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading
import zipfile

import numpy as np

from sandbox import formats
from sandbox.bars import compute_bars
from sandbox.market import Market
from sandbox.specs import UnknownSymbol, resolve
from sandbox.venues.binance import INTERVALS_MS, Binance
from sandbox.venues.common import Ctx, PageInfo, Reply

_PATH = re.compile(r"^/data/spot/(?P<period>daily|monthly)/(?P<kind>trades|aggTrades|klines)/(?P<sym>[A-Z0-9]+)"
                   r"(?:/(?P<interval>[0-9a-z]+))?/(?P<name>[^/]+?)\.zip(?P<checksum>\.CHECKSUM)?$")
US_FROM = dt.date(2025, 1, 1)


def _not_found() -> Reply:
    body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does " \
           b"not exist.</Message></Error>"
    return Reply(404, body, [], "application/xml")


class BinanceDumps:
    name = "binance-data"

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._binance = Binance()

    def weight(self, path: str, args: object) -> int:
        return 0

    def page_info(self, path: str, args: object) -> PageInfo | None:
        return None

    def handle(self, path: str, ctx: Ctx) -> Reply:
        m = _PATH.match(path)
        if not m:
            return _not_found()
        try:
            spec = resolve("binance", m["sym"])
        except UnknownSymbol:
            return _not_found()
        middle = m["interval"] if m["kind"] == "klines" else m["kind"]
        if m["kind"] == "klines" and m["interval"] not in INTERVALS_MS:
            return _not_found()
        if m["kind"] != "klines" and m["interval"]:
            return _not_found()
        prefix = f"{spec.symbol}-{middle}-"
        if not m["name"].startswith(prefix) or spec.asset not in ctx.market.assets:
            return _not_found()
        period = m["name"][len(prefix):]
        try:
            if m["period"] == "daily":
                first = dt.date.fromisoformat(period)
                last = first
            else:
                first = dt.date.fromisoformat(period + "-01")
                last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        except ValueError:
            return _not_found()
        lo_ns = int(dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()) * 10**9
        hi_ns = int(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()) * 10**9
        if hi_ns <= ctx.market.start_ns or lo_ns >= ctx.market.end_ns:
            return _not_found()
        zip_name = m["name"] + ".zip"
        key = f"{spec.symbol}/{m['period']}/{m['kind']}/{middle}/{period}"
        with self._lock:
            if key not in self._cache:
                csv = self._csv(ctx.market, spec, m["kind"], m["interval"], lo_ns, hi_ns, first >= US_FROM)
                self._cache[key] = _zip(m["name"] + ".csv", csv)
            data = self._cache[key]
        if m["checksum"]:
            return Reply(200, f"{hashlib.sha256(data).hexdigest()}  {zip_name}\n".encode(), [], "text/plain")
        return Reply(200, data, [], "application/zip")

    def _csv(self, market: Market, spec, kind: str, interval: str | None, lo_ns: int, hi_ns: int, us: bool) -> str:
        tape = market.tape("binance", spec.asset)
        div = 1000 if us else 1_000_000
        lo = int(np.searchsorted(tape.t_ns, lo_ns, side="left"))
        hi = int(np.searchsorted(tape.t_ns, hi_ns, side="left"))
        lines: list[str] = []
        if kind == "trades":
            recs = formats.binance_trades(spec, tape.trade_id[lo:hi], tape.price[lo:hi], tape.qty[lo:hi],
                                          tape.t_ns[lo:hi], tape.buy[lo:hi])
            lines = [f"{r['id']},{r['price']},{r['qty']},{r['quoteQty']},{t // div},{r['isBuyerMaker']},True"
                     for r, t in zip(recs, tape.t_ns[lo:hi].tolist(), strict=True)]
        elif kind == "aggTrades":
            agg = self._binance._aggs(tape)
            a_lo = int(np.searchsorted(agg.first, lo, side="left"))
            a_hi = int(np.searchsorted(agg.first, hi, side="left"))
            first, last = agg.first[a_lo:a_hi], agg.last[a_lo:a_hi]
            prices = formats.fixed_texts(tape.price[first], spec.price_decimals, 8)
            qtys = formats.qty_texts(spec, agg.qty[a_lo:a_hi])
            lines = [f"{a},{p},{q},{f},{la},{t // div},{not b},True" for a, p, q, f, la, t, b in zip(
                agg.a[a_lo:a_hi].tolist(), prices, qtys, tape.trade_id[first].tolist(), tape.trade_id[last].tolist(),
                tape.t_ns[first].tolist(), tape.buy[first].tolist(), strict=True)]
        else:
            iv_ns = INTERVALS_MS[interval or "1m"] * 1_000_000
            bars = compute_bars(tape, len(tape.t_ns), iv_ns, lo_ns, hi_ns - 1)
            pd, qd = spec.price_decimals, spec.lot_decimals
            iv = iv_ns // (1000 if us else 1_000_000)
            for i, o in enumerate(bars.open_ns.tolist()):
                op, h, low, c = formats.fixed_texts([bars.open[i], bars.high[i], bars.low[i], bars.close[i]], pd, 8)
                v, bv = formats.fixed_texts([bars.volume[i], bars.buy_volume[i]], qd, 8)
                qv, bqv = formats.fixed_texts([int(bars.quote_volume[i]), int(bars.buy_quote_volume[i])], pd + qd,
                                              max(8, pd + qd))
                ot = o // (1000 if us else 1_000_000)
                lines.append(f"{ot},{op},{h},{low},{c},{v},{ot + iv - 1},{qv},{int(bars.count[i])},{bv},{bqv},0")
        return "".join(line + "\n" for line in lines)


def _zip(csv_name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(csv_name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, text)
    return buf.getvalue()
