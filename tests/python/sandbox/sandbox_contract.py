"""One checking code for real recorded responses and sandbox responses: record kinds per field (ids, decimal
strings, ms / s / ns epochs, ISO-8601 strings, flags), so both are held to the same contract."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

DEC = re.compile(r"^-?\d+\.\d+$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def kind_ok(kind: str, v: Any) -> bool:
    """Does value `v` have the wire form `kind`?"""
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "dec":
        return isinstance(v, str) and bool(DEC.match(v))
    if kind == "ms":  # epoch milliseconds (13 digits)
        return kind_ok("int", v) and 10**12 <= v < 10**13
    if kind == "s":  # epoch seconds (10 digits, int)
        return kind_ok("int", v) and 10**9 <= v < 10**10
    if kind == "sf":  # epoch seconds as a JSON number with a fraction (parsed as Decimal)
        return isinstance(v, Decimal | float) and 10**9 <= v < 10**10
    if kind == "ns_text":  # epoch nanoseconds as a decimal string
        return isinstance(v, str) and v.isdigit() and 10**18 <= int(v) < 10**19
    if kind == "num":  # a JSON number (candles)
        return isinstance(v, int | float | Decimal) and not isinstance(v, bool)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "iso":
        return isinstance(v, str) and bool(ISO.match(v))
    if kind == "str":
        return isinstance(v, str)
    if kind.startswith("in:"):
        return v in kind[3:].split("|")
    raise ValueError(f"unknown kind {kind!r}")


RECORDS: dict[str, dict[str, str]] = {
    "binance.trade": {"id": "int", "price": "dec", "qty": "dec", "quoteQty": "dec", "time": "ms",
                      "isBuyerMaker": "bool", "isBestMatch": "bool"},
    "binance.aggTrade": {"a": "int", "p": "dec", "q": "dec", "f": "int", "l": "int", "T": "ms", "m": "bool",
                         "M": "bool"},
    "binance.bookTicker": {"symbol": "str", "bidPrice": "dec", "bidQty": "dec", "askPrice": "dec", "askQty": "dec"},
    "binance.time": {"serverTime": "ms"},
    "coinbase.trade": {"time": "iso", "trade_id": "int", "price": "dec", "size": "dec", "side": "in:buy|sell"},
    "kraken.time": {"unixtime": "s", "rfc1123": "str"},
}
BINANCE_KLINE = ["ms", "dec", "dec", "dec", "dec", "dec", "ms", "dec", "int", "dec", "dec", "in:0"]
KRAKEN_TRADE = ["dec", "dec", "sf", "in:b|s", "in:m|l", "str", "int"]
KRAKEN_OHLC = ["s", "dec", "dec", "dec", "dec", "dec", "dec", "int"]
KRAKEN_LEVEL = ["dec", "dec", "s"]
KRAKEN_PAIR_FIELDS = {"altname", "wsname", "base", "quote", "pair_decimals", "lot_decimals", "cost_decimals",
                      "lot", "fees", "fees_maker", "ordermin", "costmin", "tick_size", "status"}
BINANCE_SYMBOL_FIELDS = {"symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset", "quoteAssetPrecision",
                         "orderTypes", "filters", "isSpotTradingAllowed", "isMarginTradingAllowed"}


def check_record(name: str, rec: dict[str, Any]) -> list[str]:
    spec = RECORDS[name]
    problems = [f"{name}: fields {sorted(rec)} != {sorted(spec)}"] if set(rec) != set(spec) else []
    problems += [f"{name}.{k}: {rec.get(k)!r} is not {kind}" for k, kind in spec.items() if not kind_ok(kind, rec.get(k))]
    return problems


def check_row(name: str, kinds: list[str], row: list[Any]) -> list[str]:
    if len(row) != len(kinds):
        return [f"{name}: {len(row)} elements, expected {len(kinds)}"]
    return [f"{name}[{i}]: {v!r} is not {k}" for i, (k, v) in enumerate(zip(kinds, row, strict=True))
            if not kind_ok(k, v)]


def check_binance_trades(page: list[dict]) -> list[str]:
    out = [p for r in page for p in check_record("binance.trade", r)]
    out += [f"quoteQty {r['quoteQty']} != price*qty" for r in page
            if Decimal(r["quoteQty"]) != Decimal(r["price"]) * Decimal(r["qty"])]
    ids = [r["id"] for r in page]
    out += [] if ids == sorted(ids) else ["binance trades are not ascending"]
    return out


def check_binance_depth(body: dict) -> list[str]:
    out = [] if set(body) == {"lastUpdateId", "bids", "asks"} else [f"depth fields {sorted(body)}"]
    out += [] if kind_ok("int", body.get("lastUpdateId")) else ["lastUpdateId not int"]
    for side in ("bids", "asks"):
        out += [f"depth {side} level {lv}" for lv in body[side] if len(lv) != 2 or not all(kind_ok("dec", x) for x in lv)]
    bids = [Decimal(p) for p, _ in body["bids"]]
    asks = [Decimal(p) for p, _ in body["asks"]]
    out += [] if bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0] else ["book order"]
    return out


def check_binance_klines(rows: list[list], interval_ms: int) -> list[str]:
    out = [p for r in rows for p in check_row("binance.kline", BINANCE_KLINE, r)]
    out += [f"kline closeTime {r[6]} != openTime + interval - 1" for r in rows if r[6] != r[0] + interval_ms - 1]
    return out


def check_binance_exchange_info(body: dict) -> list[str]:
    out = [] if {"timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"} <= set(body) else \
        [f"exchangeInfo fields {sorted(body)}"]
    for s in body["symbols"]:
        missing = BINANCE_SYMBOL_FIELDS - set(s)
        out += [f"exchangeInfo symbol {s.get('symbol')} lacks {sorted(missing)}"] if missing else []
        types = {f["filterType"] for f in s["filters"]}
        out += [] if {"PRICE_FILTER", "LOT_SIZE"} <= types else [f"filters {types}"]
    kinds = {(r["rateLimitType"], r["interval"]) for r in body["rateLimits"]}
    out += [] if ("REQUEST_WEIGHT", "MINUTE") in kinds else ["no REQUEST_WEIGHT/MINUTE rate limit"]
    return out


def check_coinbase_trades(page: list[dict], headers: dict[str, str]) -> list[str]:
    out = [p for r in page for p in check_record("coinbase.trade", r)]
    ids = [r["trade_id"] for r in page]
    out += [] if ids == sorted(ids, reverse=True) else ["coinbase trades are not newest first"]
    h = {k.lower(): v for k, v in headers.items()}
    if page:
        out += [] if h.get("cb-before") == str(ids[0]) else [f"cb-before {h.get('cb-before')} != {ids[0]}"]
        out += [] if h.get("cb-after") == str(ids[-1]) else [f"cb-after {h.get('cb-after')} != {ids[-1]}"]
    out += [] if h.get("content-type", "").startswith("application/json") else ["content-type"]
    return out


def kraken_result(body: dict) -> tuple[str, Any, dict]:
    """(pair key, value, whole result) of a Kraken pair answer: the single key that is not "last"."""
    assert set(body) == {"error", "result"} and body["error"] == [], body.get("error")
    keys = [k for k in body["result"] if k != "last"]
    assert len(keys) == 1, keys
    return keys[0], body["result"][keys[0]], body["result"]


def check_kraken_trades(body: dict) -> list[str]:
    _, rows, result = kraken_result(body)
    out = [p for r in rows for p in check_row("kraken.trade", KRAKEN_TRADE, r)]
    out += [] if kind_ok("ns_text", result["last"]) else [f"last {result['last']!r} is not ns text"]
    gap_ns = abs(int(result["last"]) - Decimal(rows[-1][2]) * 10**9)
    out += [] if gap_ns < 10**6 else [f"last {result['last']} is not the time of the last row ({rows[-1][2]})"]
    return out


def check_kraken_ohlc(body: dict) -> list[str]:
    _, rows, result = kraken_result(body)
    out = [p for r in rows for p in check_row("kraken.ohlc", KRAKEN_OHLC, r)]
    out += [] if kind_ok("s", result["last"]) else ["OHLC last is not int seconds"]
    return out


def check_kraken_depth(body: dict) -> list[str]:
    _, book, _ = kraken_result(body)
    out = [] if set(book) == {"asks", "bids"} else [f"Depth fields {sorted(book)}"]
    for side in ("asks", "bids"):
        out += [p for lv in book[side] for p in check_row(f"kraken.depth.{side}", KRAKEN_LEVEL, lv)]
    return out


def check_kraken_asset_pairs(body: dict) -> list[str]:
    assert body["error"] == []
    return [f"AssetPairs {k} lacks {sorted(KRAKEN_PAIR_FIELDS - set(v))}" for k, v in body["result"].items()
            if not set(v) >= KRAKEN_PAIR_FIELDS]
