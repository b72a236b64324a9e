"""Binance spot REST: products (exchangeInfo), trades, historicalTrades, aggTrades, depth, klines.

Venue facts (docs/exchange-apis.md §1): ids and times are ints (ms), prices and quantities decimal strings;
responses are ascending; `historicalTrades?fromId=N` pages forward by trade id (next `fromId = last.id + 1`);
`aggTrades?startTime=T` finds the first trade at or after a time (its `f` = first raw trade id);
weights: trades/historicalTrades 25, aggTrades 4, klines 2, depth 5..250 by limit, exchangeInfo 20.
`isBuyerMaker` true means the taker SOLD (kept native here; the side rule lives in the dbt mapping).
"""

from __future__ import annotations

from dataclasses import dataclass
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

VENUE = "binance"
KLINE_INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
                   "1M")


@dataclass(frozen=True, slots=True)
class BinanceTrade(Record):
    table: ClassVar[str] = "raw_binance_trades"
    cursor_field: ClassVar[str] = "id"
    id: int
    price: str
    qty: str
    quoteQty: str
    time: int  # ms
    isBuyerMaker: bool
    isBestMatch: bool
    raw_payload: str


@dataclass(frozen=True, slots=True)
class BinanceAggTrade(Record):
    table: ClassVar[str] = "raw_binance_aggtrades"
    cursor_field: ClassVar[str] = "a"
    a: int
    p: str
    q: str
    f: int
    l: int  # noqa: E741 (Binance's own field name: last raw trade id)
    T: int
    m: bool
    M: bool
    raw_payload: str


@dataclass(frozen=True, slots=True)
class BinanceKline(Record):
    table: ClassVar[str] = "raw_binance_klines"
    cursor_field: ClassVar[str] = "openTime"
    interval: str
    openTime: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    closeTime: int
    quoteVolume: str
    trades: int
    takerBuyBaseVolume: str
    takerBuyQuoteVolume: str
    raw_payload: str


@dataclass(frozen=True, slots=True)
class BinanceDepth(Record):
    table: ClassVar[str] = "raw_binance_depth"
    cursor_field: ClassVar[str] = "lastUpdateId"
    lastUpdateId: int
    bids: list[list[str]]
    asks: list[list[str]]
    raw_payload: str


# -- pure parsers ----------------------------------------------------------------------------------
def parse_trades(data: Any, symbol: str) -> list[BinanceTrade]:
    """`/api/v3/trades` and `/api/v3/historicalTrades` bodies (real, BTCUSDT 2021-10-22):

    [{"id": 1111468873, "price": "60650.00000000", "qty": "0.02924000", "quoteQty": "1773.40600000",
      "time": 1634942949263, "isBuyerMaker": true, "isBestMatch": true}, ...]
    """
    out = []
    for item in expect_list(VENUE, symbol, "trades", data):
        # fast path for a record in exactly the types Binance sends (what Fields would accept unchanged); any
        # other record goes through Fields, which converts what it may and names what is wrong
        if type(item) is dict:
            v = (item.get("id"), item.get("price"), item.get("qty"), item.get("quoteQty"), item.get("time"),
                 item.get("isBuyerMaker"), item.get("isBestMatch"))
            if (type(v[0]) is int and type(v[4]) is int and type(v[1]) is str and v[1] and type(v[2]) is str
                    and v[2] and type(v[3]) is str and v[3] and type(v[5]) is bool and type(v[6]) is bool):
                out.append(BinanceTrade(*v, raw_json(item)))
                continue
        f = Fields(VENUE, symbol, "trade", item)
        out.append(BinanceTrade(f.int("id"), f.text("price"), f.text("qty"), f.text("quoteQty"), f.int("time"),
                                f.bool("isBuyerMaker"), f.bool("isBestMatch"), raw_json(item)))
    return out


def parse_agg_trades(data: Any, symbol: str) -> list[BinanceAggTrade]:
    """`/api/v3/aggTrades` body (real, BTCUSDT 2021-10-22):

    [{"a": 966492862, "p": "60759.60000000", "q": "0.00841000", "f": 1111480471, "l": 1111480471,
      "T": 1634944096633, "m": false, "M": true}, ...]
    """
    out = []
    for item in expect_list(VENUE, symbol, "aggTrades", data):
        f = Fields(VENUE, symbol, "aggTrade", item)
        out.append(BinanceAggTrade(f.int("a"), f.text("p"), f.text("q"), f.int("f"), f.int("l"), f.int("T"),
                                   f.bool("m"), f.bool("M"), raw_json(item)))
    return out


def parse_klines(data: Any, symbol: str, interval: str) -> list[BinanceKline]:
    """`/api/v3/klines` body: 12-element arrays (real, BTCUSDT 1m, 2021-10-22):

    [[1634943780000, "60685.22000000", "60729.84000000", "60670.90000000", "60719.27000000", "21.63272000",
      1634943839999, "1313200.01340410", 617, "12.28492000", "745719.41022840", "0"], ...]
    """
    out = []
    for row in expect_list(VENUE, symbol, "klines", data):
        f = Fields(VENUE, symbol, f"kline {interval}", row)
        if not isinstance(row, list) or len(row) < 11:
            raise f.fail("a kline should be an array of 12 elements")
        out.append(BinanceKline(interval, f.int(0), f.text(1), f.text(2), f.text(3), f.text(4), f.text(5),
                                f.int(6), f.text(7), f.int(8), f.text(9), f.text(10), raw_json(row)))
    return out


def parse_depth(data: Any, symbol: str) -> BinanceDepth:
    """`/api/v3/depth` body (real, BTCUSDT 2021-10-22, no venue time: stamp the receive time):

    {"lastUpdateId": 14527958487, "bids": [["60650.00000000", "0.00213000"], ...],
     "asks": [["60650.01000000", "0.61982000"], ...]}
    """
    f = Fields(VENUE, symbol, "depth", expect_dict(VENUE, symbol, "depth", data))
    return BinanceDepth(f.int("lastUpdateId"), f.levels("bids"), f.levels("asks"), raw_json(data))


def parse_exchange_info(data: Any) -> list[Product]:
    """`/api/v3/exchangeInfo` body (real, 2021-10-22, cut down):

    {"timezone": "UTC", "serverTime": 1634942465856, "rateLimits": [...], "symbols": [{"symbol": "BTCUSDT",
     "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "isSpotTradingAllowed": true, ...}]}
    """
    body = expect_dict(VENUE, None, "exchangeInfo", data)
    out = []
    for item in expect_list(VENUE, None, "exchangeInfo.symbols", body.get("symbols")):
        f = Fields(VENUE, None, "exchangeInfo symbol", item)
        status = f.str("status")
        spot = item.get("isSpotTradingAllowed", True) is not False
        out.append(Product(VENUE, f.str("symbol"), f.str("baseAsset"), f.str("quoteAsset"), status,
                           status == "TRADING" and spot))
    return out


def depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


# -- fetch -----------------------------------------------------------------------------------------
class Binance(Connector):
    name = VENUE
    trades_table = "raw_binance_trades"
    depth_table = "raw_binance_depth"
    klines_table = "raw_binance_klines"
    trade_id_field = "id"
    default_symbols = ("BTCUSDT", "ETHUSDT")

    def products(self) -> list[Product]:
        return parse_exchange_info(self.get("/api/v3/exchangeInfo", weight=20).data)

    def recent_trades(self, symbol: str, limit: int = 1000) -> Page[BinanceTrade]:
        r = self.get("/api/v3/trades", {"symbol": symbol, "limit": min(limit, self.max_page)}, symbol=symbol,
                     weight=25)
        return Page(parse_trades(r.data, symbol), self.source("trades"), r.url, r.recv_ts)

    def historical_trades(self, symbol: str, from_id: int | None, limit: int = 1000) -> Page[BinanceTrade]:
        r = self.get("/api/v3/historicalTrades", {"symbol": symbol, "fromId": from_id,
                                                  "limit": min(limit, self.max_page)},
                     symbol=symbol, cursor=f"fromId={from_id}", weight=25)
        return Page(parse_trades(r.data, symbol), self.source("historicalTrades"), r.url, r.recv_ts)

    def agg_trades(self, symbol: str, *, from_id: int | None = None, start_time: int | None = None,
                   end_time: int | None = None, limit: int = 1000) -> Page[BinanceAggTrade]:
        params: dict[str, Any] = {"symbol": symbol, "fromId": from_id, "startTime": start_time,
                                  "endTime": end_time, "limit": min(limit, self.max_page)}
        cursor = f"fromId={from_id}" if from_id is not None else f"startTime={start_time}"
        r = self.get("/api/v3/aggTrades", params, symbol=symbol, cursor=cursor, weight=4)
        return Page(parse_agg_trades(r.data, symbol), self.source("aggTrades"), r.url, r.recv_ts)

    def first_trade_id_at(self, symbol: str, start_ms: int) -> tuple[int, int] | None:
        """(trade id, time ms) of the first trade at or after `start_ms`, via aggTrades (weight 4); None if none."""
        page = self.agg_trades(symbol, start_time=start_ms, limit=1)
        if not page.records:
            return None
        agg = page.records[0]
        return agg.f, agg.T

    def depth(self, symbol: str, limit: int = 100) -> Page[BinanceDepth]:
        r = self.get("/api/v3/depth", {"symbol": symbol, "limit": limit}, symbol=symbol,
                     weight=depth_weight(limit))
        return Page([parse_depth(r.data, symbol)], self.source("depth"), r.url, r.recv_ts)

    def klines(self, symbol: str, interval: str = "1m", *, start_time: int | None = None,
               end_time: int | None = None, limit: int = 1000) -> Page[BinanceKline]:
        if interval not in KLINE_INTERVALS:
            raise ValueError(f"binance kline interval {interval!r} not in {KLINE_INTERVALS}")
        r = self.get("/api/v3/klines", {"symbol": symbol, "interval": interval, "startTime": start_time,
                                        "endTime": end_time, "limit": min(limit, self.max_page)},
                     symbol=symbol, cursor=f"startTime={start_time}", weight=2)
        return Page(parse_klines(r.data, symbol, interval), self.source("klines"), r.url, r.recv_ts)
