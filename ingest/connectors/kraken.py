"""Kraken spot REST: products (AssetPairs), Trades (`since` cursor), Depth, OHLC.

Venue facts (docs/exchange-apis.md §3): every body is `{"error": [...], "result": {...}}` and a non-empty
`error` means failure even with HTTP 200 (the shared client classifies it); `result` is keyed by Kraken's
canonical pair key (XBTUSD -> XXBTZUSD), so we take the one key that is not `last`. Trade rows are
`[price, volume, time, "b"|"s" (taker side), "m"|"l", misc, trade_id]` (trade_id is recent; legacy rows have 6
elements). `time` is a float of seconds with sub-µs digits: it is parsed from the JSON TEXT as Decimal (the
client uses `parse_float=Decimal`) and kept as decimal-second text. `last` is a nanosecond cursor string,
passed back verbatim as `since`. Bronze symbols are the `altname` (XBTUSD, ETHUSD). Limit: ~1 req/s per IP.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ingest.connectors.base import (
    Connector,
    Fields,
    Page,
    Product,
    Record,
    expect_dict,
    expect_list,
    raw_json,
)
from ingest.errors import ParseError

VENUE = "kraken"
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)


@dataclass(frozen=True, slots=True)
class KrakenTrade(Record):
    table: ClassVar[str] = "raw_kraken_trades"
    cursor_field: ClassVar[str] = "trade_id"
    price: str
    volume: str
    time: str  # decimal seconds, every digit Kraken sent
    side: str  # taker side b/s
    ordertype: str  # m/l
    misc: str
    trade_id: int
    raw_payload: str

    @property
    def time_ns(self) -> int:
        return int(Decimal(self.time) * 1_000_000_000)


@dataclass(frozen=True, slots=True)
class KrakenOHLC(Record):
    table: ClassVar[str] = "raw_kraken_klines"
    cursor_field: ClassVar[str] = "time"
    interval: int
    time: int
    open: str
    high: str
    low: str
    close: str
    vwap: str
    volume: str
    count: int
    raw_payload: str


@dataclass(frozen=True, slots=True)
class KrakenDepth(Record):
    table: ClassVar[str] = "raw_kraken_depth"
    cursor_field: ClassVar[str] = "checksum"
    bids: list[list[str]]
    asks: list[list[str]]
    checksum: int | None  # REST depth has none (websocket books do)
    raw_payload: str


@dataclass(frozen=True)
class TradesResult:
    trades: list[KrakenTrade]
    last: str  # ns cursor, verbatim
    pair_key: str


def _result(data: Any, symbol: str | None, what: str) -> dict[str, Any]:
    body = expect_dict(VENUE, symbol, what, data)
    return expect_dict(VENUE, symbol, f"{what}.result", body.get("result"))


def _pair_entry(result: dict[str, Any], symbol: str, what: str) -> tuple[str, Any]:
    keys = [k for k in result if k != "last"]
    if len(keys) != 1:
        raise ParseError(f"kraken {what}: expected one pair key in result, got {keys}", venue=VENUE,
                         symbol=symbol)
    return keys[0], result[keys[0]]


# -- pure parsers ----------------------------------------------------------------------------------
def parse_trades(data: Any, symbol: str) -> TradesResult:
    """`/0/public/Trades` body parsed with parse_float=Decimal (real, XBTUSDT 2025-11-10):

    {"error": [], "result": {"XBTUSDT": [["105433.60000", "0.00027625", 1762795433.9717445, "b", "l", "",
     10218208], ...], "last": "1762820035982277754"}}
    """
    result = _result(data, symbol, "Trades")
    key, rows = _pair_entry(result, symbol, "Trades")
    last = result.get("last")
    if last is None or not str(last).isdigit():
        raise ParseError(f"kraken Trades: missing or bad 'last' cursor {last!r}", venue=VENUE, symbol=symbol)
    out = []
    for row in expect_list(VENUE, symbol, "Trades rows", rows):
        f = Fields(VENUE, symbol, "trade", row)
        if not isinstance(row, list) or len(row) < 7:
            raise f.fail("a trade row should be [price, volume, time, side, ordertype, misc, trade_id] "
                         "(rows without trade_id cannot be deduplicated)")
        time = row[2]
        if isinstance(time, float):
            raise f.fail("trade time was parsed as a binary float; parse the body with parse_float=Decimal")
        out.append(KrakenTrade(f.text(0), f.text(1), f.text(2), f.str(3, ("b", "s")), f.str(4, ("m", "l")),
                               f.str(5, empty_ok=True), f.int(6), raw_json(row)))
    return TradesResult(out, str(last), key)


def parse_ohlc(data: Any, symbol: str, interval: int) -> list[KrakenOHLC]:
    """`/0/public/OHLC` body (real, XBTUSDT 1m 2025-11-10):

    {"error": [], "result": {"XBTUSDT": [[1762777020, "106038.2", "106038.2", "106038.2", "106038.2", "0.0",
     "0.00000000", 0], ...], "last": 1762820160}}
    """
    _, rows = _pair_entry(_result(data, symbol, "OHLC"), symbol, "OHLC")
    out = []
    for row in expect_list(VENUE, symbol, "OHLC rows", rows):
        f = Fields(VENUE, symbol, "OHLC row", row)
        if not isinstance(row, list) or len(row) < 8:
            raise f.fail("an OHLC row should be [time, open, high, low, close, vwap, volume, count]")
        out.append(KrakenOHLC(interval, f.int(0), f.text(1), f.text(2), f.text(3), f.text(4), f.text(5),
                              f.text(6), f.int(7), raw_json(row)))
    return out


def parse_depth(data: Any, symbol: str) -> KrakenDepth:
    """`/0/public/Depth` body (real, XBTUSDT 2025-11-11; level = [price, volume, int seconds]):

    {"error": [], "result": {"XBTUSDT": {"asks": [["105944.30000", "0.136", 1762820248], ...],
     "bids": [["105944.20000", "0.002", 1762820233], ...]}}}
    """
    _, book = _pair_entry(_result(data, symbol, "Depth"), symbol, "Depth")
    f = Fields(VENUE, symbol, "Depth", expect_dict(VENUE, symbol, "Depth book", book))
    return KrakenDepth(f.levels("bids"), f.levels("asks"), None, raw_json(book))


def parse_asset_pairs(data: Any) -> list[Product]:
    """`/0/public/AssetPairs` body (real, 2025-11-10):

    {"error": [], "result": {"XBTUSDT": {"altname": "XBTUSDT", "wsname": "XBT/USDT", "base": "XXBT",
     "quote": "USDT", "pair_decimals": 1, "lot_decimals": 8, "status": "online", ...}}}
    """
    out = []
    for key, item in _result(data, None, "AssetPairs").items():
        if ".d" in key:  # old dark-pool pairs are not spot markets
            continue
        f = Fields(VENUE, key, "asset pair", item)
        status = str(item.get("status", "online"))
        out.append(Product(VENUE, f.str("altname"), f.str("base"), f.str("quote"), status, status == "online"))
    return out


# -- fetch -----------------------------------------------------------------------------------------
class Kraken(Connector):
    name = VENUE
    trades_table = "raw_kraken_trades"
    depth_table = "raw_kraken_depth"
    klines_table = "raw_kraken_klines"
    trade_id_field = "trade_id"
    default_symbols = ("XBTUSD", "ETHUSD")

    def products(self) -> list[Product]:
        return parse_asset_pairs(self.get("/0/public/AssetPairs").data)

    def trades(self, symbol: str, since: str | int | None = None, count: int = 1000) -> Page[KrakenTrade]:
        """One page ascending from `since` (ns cursor, verbatim); `page.extra["last"]` is the next cursor."""
        r = self.get("/0/public/Trades", {"pair": symbol, "since": since, "count": min(count, self.max_page)},
                     symbol=symbol, cursor=f"since={since}")
        res = parse_trades(r.data, symbol)
        return Page(res.trades, self.source("Trades"), r.url, r.recv_ts, extra={"last": res.last})

    def depth(self, symbol: str, count: int = 100) -> Page[KrakenDepth]:
        r = self.get("/0/public/Depth", {"pair": symbol, "count": count}, symbol=symbol)
        return Page([parse_depth(r.data, symbol)], self.source("Depth"), r.url, r.recv_ts)

    def ohlc(self, symbol: str, interval: int = 1, since: int | None = None) -> Page[KrakenOHLC]:
        if interval not in OHLC_INTERVALS:
            raise ValueError(f"kraken OHLC interval {interval} not in {OHLC_INTERVALS}")
        r = self.get("/0/public/OHLC", {"pair": symbol, "interval": interval, "since": since}, symbol=symbol,
                     cursor=f"since={since}")
        return Page(parse_ohlc(r.data, symbol, interval), self.source("OHLC"), r.url, r.recv_ts)

    klines = ohlc
