"""Pure functions: simulated trades, books and bars -> each venue's own value forms and record shapes.

Binance: prices/quantities as decimal strings with 8 fraction digits, times int ms, `isBuyerMaker`.
Coinbase Exchange: price at the quote increment, size with 8 digits, ISO-8601 µs `Z` times, `side` = MAKER side.
Kraken: price with 5 fraction digits, volume with 8, time = decimal seconds (as a JSON number), `b`/`s` = TAKER side.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from sandbox.specs import MarketSpec

PRICE_PAD = {"binance": 8, "coinbase": None, "kraken": 5}  # None = the tick's own decimals
QTY_PAD = {"binance": 8, "coinbase": 8, "kraken": 8}


def fixed_texts(values: np.ndarray | Sequence[int], decimals: int, pad: int) -> list[str]:
    """Integers in units of 10**-decimals -> decimal strings with `pad` fraction digits (pad >= decimals)."""
    scale = 10**decimals
    zeros = "0" * (pad - decimals)
    if decimals == 0:
        return [f"{v}.{zeros}" if pad else str(v) for v in np.asarray(values).tolist()]
    return [f"{v // scale}.{v % scale:0{decimals}d}{zeros}" for v in np.asarray(values).tolist()]


def price_texts(spec: MarketSpec, ticks: np.ndarray | Sequence[int]) -> list[str]:
    pad = PRICE_PAD[spec.venue]
    return fixed_texts(ticks, spec.price_decimals, spec.price_decimals if pad is None else pad)


def qty_texts(spec: MarketSpec, lots: np.ndarray | Sequence[int]) -> list[str]:
    return fixed_texts(lots, spec.lot_decimals, max(QTY_PAD[spec.venue], spec.lot_decimals))


def iso_us(t_ns: np.ndarray | Sequence[int]) -> list[str]:
    """ns -> ISO-8601 with µs and `Z` (Coinbase)."""
    arr = (np.asarray(t_ns, dtype=np.int64) // 1000).astype("datetime64[us]")
    return [s + "Z" for s in np.datetime_as_string(arr, unit="us").tolist()]


def iso_ms(t_ns: int) -> str:
    return np.datetime_as_string(np.datetime64(t_ns // 1_000_000, "ms"), unit="ms") + "Z"


def kraken_seconds(t_ns: int) -> str:
    """ns -> decimal seconds text as Kraken prints it (up to 7 fraction digits, no trailing zeros)."""
    frac = f"{(t_ns % 1_000_000_000) // 100:07d}".rstrip("0") or "0"
    return f"{t_ns // 1_000_000_000}.{frac}"


def time_texts(venue: str, t_ns: np.ndarray) -> list[str]:
    if venue == "binance":
        return [str(v) for v in (np.asarray(t_ns) // 1_000_000).tolist()]
    if venue == "coinbase":
        return iso_us(t_ns)
    return [kraken_seconds(v) for v in np.asarray(t_ns).tolist()]


def rfc1123_kraken(t: dt.datetime) -> str:
    """Kraken's `rfc1123` field, e.g. "Sun, 7 Jun 20 04:07:53 +0000" (day without a leading zero)."""
    return f"{t:%a}, {t.day} {t:%b %y %H:%M:%S} +0000"


# ----------------------------------------------------------------------------------------- trade records
def binance_trades(spec: MarketSpec, ids: np.ndarray, ticks: np.ndarray, lots: np.ndarray, t_ns: np.ndarray,
                   buy: np.ndarray) -> list[dict[str, Any]]:
    prices = price_texts(spec, ticks)
    qtys = qty_texts(spec, lots)
    quote_dec = spec.price_decimals + spec.lot_decimals
    quotes = fixed_texts(np.asarray(ticks, dtype=object) * np.asarray(lots, dtype=object), quote_dec,
                         max(8, quote_dec))
    return [
        {"id": int(i), "price": p, "qty": q, "quoteQty": qq, "time": int(t) // 1_000_000, "isBuyerMaker": not bool(b),
         "isBestMatch": True}
        for i, p, q, qq, t, b in zip(ids.tolist(), prices, qtys, quotes, t_ns.tolist(), buy.tolist(), strict=True)
    ]


def binance_agg_trades(spec: MarketSpec, order_ids: np.ndarray, first_ids: np.ndarray, last_ids: np.ndarray,
                       ticks: np.ndarray, lots: np.ndarray, t_ns: np.ndarray, buy: np.ndarray) -> list[dict[str, Any]]:
    prices = price_texts(spec, ticks)
    qtys = qty_texts(spec, lots)
    return [
        {"a": int(a), "p": p, "q": q, "f": int(f), "l": int(la), "T": int(t) // 1_000_000, "m": not bool(b), "M": True}
        for a, p, q, f, la, t, b in zip(order_ids.tolist(), prices, qtys, first_ids.tolist(), last_ids.tolist(),
                                        t_ns.tolist(), buy.tolist(), strict=True)
    ]


def coinbase_trades(spec: MarketSpec, ids: np.ndarray, ticks: np.ndarray, lots: np.ndarray, t_ns: np.ndarray,
                    buy: np.ndarray) -> list[dict[str, Any]]:
    """Coinbase `side` is the MAKER side: a taker buy lifts a resting sell => side "sell"."""
    prices = price_texts(spec, ticks)
    sizes = qty_texts(spec, lots)
    times = iso_us(t_ns)
    return [
        {"time": tm, "trade_id": int(i), "price": p, "size": s, "side": "sell" if b else "buy"}
        for i, p, s, tm, b in zip(ids.tolist(), prices, sizes, times, buy.tolist(), strict=True)
    ]


class RawJson(str):
    """A JSON number kept as its exact text (e.g. Kraken's float seconds): `dumps` writes it as a bare number.

    The value carries NUL markers so the fast C JSON encoder can be used and the quotes removed afterwards."""

    def __new__(cls, text: str) -> RawJson:
        return super().__new__(cls, f"\x00{text}\x00")

    @property
    def text(self) -> str:
        return self.strip("\x00")


_RAW = re.compile(r'"\\u0000([-0-9.eE+]+)\\u0000"')


def dumps(obj: Any) -> str:
    """Compact JSON like the venues send; RawJson values are written as bare numbers (exact text)."""
    text = json.dumps(obj, separators=(",", ":"))
    return _RAW.sub(r"\1", text) if "\\u0000" in text else text


def kraken_trade_rows(spec: MarketSpec, ids: np.ndarray, ticks: np.ndarray, lots: np.ndarray, t_ns: np.ndarray,
                      buy: np.ndarray, market_order: np.ndarray) -> list[list[Any]]:
    """REST Trades rows `[price, volume, time, b|s (taker side), m|l, misc, trade_id]`; time is a JSON number
    written with its exact decimal digits."""
    prices = price_texts(spec, ticks)
    vols = qty_texts(spec, lots)
    return [
        [p, v, RawJson(kraken_seconds(t)), "b" if b else "s", "m" if m else "l", "", int(i)]
        for i, p, v, t, b, m in zip(ids.tolist(), prices, vols, t_ns.tolist(), buy.tolist(), market_order.tolist(),
                                    strict=True)
    ]
