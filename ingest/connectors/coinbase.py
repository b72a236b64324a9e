"""Coinbase Exchange REST: products, trades (cursor pagination), level-2 book, candles.

Venue facts (docs/exchange-apis.md §2): trades come NEWEST first; headers `CB-BEFORE` (newest id of the page)
and `CB-AFTER` (oldest id); `after=<id>` gives the next OLDER page (ids < id). There is no time filter, so a
start time is found by binary search over trade ids (`trade_id_at`). `side` is the MAKER's side (kept native;
the side rule lives in the dbt mapping). Times are ISO-8601 strings with up to 6 fractional digits and
trailing zeros dropped; candles are JSON numbers `[time, low, high, open, close, volume]`, newest first.
Limit: 10 req/s per IP (we keep 8).
"""

from __future__ import annotations

import datetime as dt
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
from ingest.errors import ParseError

VENUE = "coinbase"
GRANULARITIES = (60, 300, 900, 3600, 21600, 86400)


@dataclass(frozen=True, slots=True)
class CoinbaseTrade(Record):
    table: ClassVar[str] = "raw_coinbase_trades"
    cursor_field: ClassVar[str] = "trade_id"
    trade_id: int
    price: str
    size: str
    time: str  # ISO-8601 as sent
    side: str  # maker side
    raw_payload: str


@dataclass(frozen=True, slots=True)
class CoinbaseCandle(Record):
    table: ClassVar[str] = "raw_coinbase_klines"
    cursor_field: ClassVar[str] = "time"
    granularity: int
    time: int
    low: float
    high: float
    open: float
    close: float
    volume: float
    raw_payload: str


@dataclass(frozen=True, slots=True)
class CoinbaseBook(Record):
    table: ClassVar[str] = "raw_coinbase_depth"
    cursor_field: ClassVar[str] = "sequence"
    sequence: int
    time: str | None
    bids: list[list[str]]
    asks: list[list[str]]
    raw_payload: str


def parse_time(value: str, *, symbol: str | None = None) -> dt.datetime:
    """ISO-8601 with variable fraction digits ('2016-05-12T15:04:30.98209Z') -> aware UTC datetime."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"coinbase trade time {value!r} is not ISO-8601", venue=VENUE, symbol=symbol) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# -- pure parsers ----------------------------------------------------------------------------------
def parse_trades(data: Any, symbol: str) -> list[CoinbaseTrade]:
    """`/products/{id}/trades` body, newest first (real, BTC-USD 2016-05-12):

    [{"time": "2016-05-12T15:04:30.982824Z", "trade_id": 8408114, "price": "453.30000000",
      "size": "0.04000000", "side": "buy"}, ...]
    """
    out = []
    for item in expect_list(VENUE, symbol, "trades", data):
        # fast path for a record in exactly the types Coinbase sends (what Fields would accept unchanged); any
        # other record goes through Fields, which converts what it may and names what is wrong
        if type(item) is dict:
            tid, price, size, time, side = (item.get("trade_id"), item.get("price"), item.get("size"),
                                            item.get("time"), item.get("side"))
            if (type(tid) is int and type(price) is str and price and type(size) is str and size
                    and type(time) is str and time and (side == "buy" or side == "sell")):
                parse_time(time, symbol=symbol)  # reject unparseable times here, not in the lake
                out.append(CoinbaseTrade(tid, price, size, time, side, raw_json(item)))
                continue
        f = Fields(VENUE, symbol, "trade", item)
        time = f.str("time")
        parse_time(time, symbol=symbol)  # reject unparseable times here, not in the lake
        out.append(CoinbaseTrade(f.int("trade_id"), f.text("price"), f.text("size"), time,
                                 f.str("side", ("buy", "sell")), raw_json(item)))
    return out


def parse_candles(data: Any, symbol: str, granularity: int) -> list[CoinbaseCandle]:
    """`/products/{id}/candles` body: numbers, [time, low, high, open, close, volume], newest first:

    [[1415398768, 0.32, 4.2, 0.35, 4.2, 12.3], ...]   (shape from the Exchange docs; values are numbers)
    """
    out = []
    for row in expect_list(VENUE, symbol, "candles", data):
        f = Fields(VENUE, symbol, "candle", row)
        if not isinstance(row, list) or len(row) < 6:
            raise f.fail("a candle should be [time, low, high, open, close, volume]")
        out.append(CoinbaseCandle(granularity, f.int(0), f.float(1), f.float(2), f.float(3), f.float(4),
                                  f.float(5), raw_json(row)))
    return out


def parse_book(data: Any, symbol: str) -> CoinbaseBook:
    """`/products/{id}/book?level=2` body (shape from the Exchange docs):

    {"sequence": 13051505638, "bids": [["6247.58", "6.3578146", 2]], "asks": [["6251.52", "2", 1]],
     "time": "2021-02-12T01:09:23.334Z", "auction_mode": false, "auction": null}
    """
    f = Fields(VENUE, symbol, "book", expect_dict(VENUE, symbol, "book", data))
    time = data.get("time")
    if time is not None and not isinstance(time, str):
        raise f.fail("field 'time' should be an ISO-8601 string")
    return CoinbaseBook(f.int("sequence"), time, f.levels("bids"), f.levels("asks"), raw_json(data))


def parse_products(data: Any) -> list[Product]:
    """`/products` body (real, 2021-04-17):

    [{"id": "BTC-USD", "base_currency": "BTC", "quote_currency": "USD", "quote_increment": "0.01",
      "base_increment": "0.00000001", "display_name": "BTC/USD", "status": "online", "trading_disabled": false,
      "cancel_only": false, ...}, ...]
    """
    out = []
    for item in expect_list(VENUE, None, "products", data):
        f = Fields(VENUE, None, "product", item)
        status = f.str("status")
        active = status == "online" and not item.get("trading_disabled", False)
        out.append(Product(VENUE, f.str("id"), f.str("base_currency"), f.str("quote_currency"), status, active))
    return out


# -- fetch -----------------------------------------------------------------------------------------
class Coinbase(Connector):
    name = VENUE
    trades_table = "raw_coinbase_trades"
    depth_table = "raw_coinbase_depth"
    klines_table = "raw_coinbase_klines"
    trade_id_field = "trade_id"
    default_symbols = ("BTC-USD", "ETH-USD")

    def products(self) -> list[Product]:
        return parse_products(self.get("/products").data)

    def trades(self, symbol: str, *, after: int | None = None, before: int | None = None,
               limit: int = 1000) -> Page[CoinbaseTrade]:
        """One page, newest first. `after=X` -> trades older than X; neither -> the newest page."""
        cursor = f"after={after}" if after is not None else (f"before={before}" if before is not None else "newest")
        r = self.get(f"/products/{symbol}/trades", {"limit": min(limit, self.max_page), "after": after,
                                                     "before": before}, symbol=symbol, cursor=cursor)
        extra = {k: r.headers.get(k) for k in ("CB-AFTER", "CB-BEFORE") if r.headers.get(k) is not None}
        return Page(parse_trades(r.data, symbol), self.source("trades"), r.url, r.recv_ts, extra=extra)

    def book(self, symbol: str, level: int = 2) -> Page[CoinbaseBook]:
        r = self.get(f"/products/{symbol}/book", {"level": level}, symbol=symbol)
        return Page([parse_book(r.data, symbol)], self.source("book"), r.url, r.recv_ts)

    depth = book

    def candles(self, symbol: str, granularity: int = 60, *, start: str | None = None,
                end: str | None = None) -> Page[CoinbaseCandle]:
        if granularity not in GRANULARITIES:
            raise ValueError(f"coinbase granularity {granularity} not in {GRANULARITIES}")
        r = self.get(f"/products/{symbol}/candles", {"granularity": granularity, "start": start, "end": end},
                     symbol=symbol, cursor=f"start={start}")
        return Page(parse_candles(r.data, symbol, granularity), self.source("candles"), r.url, r.recv_ts)

    klines = candles

    def trade_at_or_before(self, symbol: str, trade_id: int, patience: int = 8) -> CoinbaseTrade | None:
        """The newest trade with id <= trade_id (an `after=trade_id+1&limit=1` probe); None only when the venue
        answers an EMPTY page (no such trade). A non-empty page with only newer ids (an overlapping or stale
        page) is asked again."""
        for _ in range(patience):
            page = self.trades(symbol, after=trade_id + 1, limit=1)
            if not page.records:
                return None
            good = [t for t in page.records if t.trade_id <= trade_id]
            if good:
                return max(good, key=lambda t: t.trade_id)
        raise ParseError(f"coinbase kept answering trades newer than after={trade_id + 1}", venue=VENUE,
                         symbol=symbol, cursor=f"after={trade_id + 1}")

    def first_trade_id_at(self, symbol: str, when: dt.datetime, newest: CoinbaseTrade | None = None,
                          max_probes: int = 200) -> int | None:
        """Smallest trade id whose time is >= `when`, by binary search over ids (None: no trade that late).

        Each probe's answer is a fact (trade k has time t); the bounds move only on facts, so a stale
        or repeated page cannot mislead the search, it only costs another probe.
        """
        # the newest trade has no cursor to check it against: ask twice, keep the newer (a stale page is older)
        top = newest or max((t for _ in range(2) for t in self.trades(symbol, limit=1).records),
                            key=lambda t: t.trade_id, default=None)
        if top is None or parse_time(top.time) < when:
            return None
        lo, hi = 0, top.trade_id  # invariant: every trade id <= lo is older than `when`; trade hi is not
        for _ in range(max_probes):
            if hi - lo <= 1:
                return hi
            mid = (lo + hi) // 2
            probe = self.trade_at_or_before(symbol, mid)
            if probe is not None and probe.trade_id != mid:
                # "no trade between probe and mid" is a claim about absence: confirm it with a second probe,
                # so a stale or repeated page cannot make the search skip the boundary.
                again = self.trade_at_or_before(symbol, mid)
                if again != probe:
                    continue
            if probe is not None and parse_time(probe.time, symbol=symbol) >= when:
                hi = probe.trade_id
            else:
                lo = mid  # the newest trade <= mid is old (or there is none): all ids <= mid are old
        raise ParseError(f"coinbase binary search for the trade at {when.isoformat()} did not converge",
                         venue=VENUE, symbol=symbol)
