"""The bronze contract: one raw table per source and dataset, with the venue's own field names and value forms.

Layout: `<LAKE_ROOT>/bronze/<table>/symbol=<venue symbol>/date=<YYYY-MM-DD>/<file>.parquet`.
`symbol` and `date` live only in the hive path (DuckDB `hive_partitioning=true` gives them back as columns).

Every table carries, after its native fields, the lineage columns:
- `_source`            how the row arrived, e.g. `binance.rest.historicalTrades`, `binance.dump.trades`,
                       `coinbase.ws.match`, `kraken.recording.book` (venue.channel.endpoint)
- `_source_ingest_ts`  when SchemaHub wrote the row (UTC, µs)
- `_recv_ts`           when the payload was received from the venue (UTC, µs; null for bulk dumps)
- `_source_uri`        request URL, dump URL or recording file the row came from
- `_source_checksum`   sha256 of the dump file (Binance bulk dumps), else null
- `_raw_payload`       the original record as JSON text, untouched

Value forms are kept as the venue sent them: decimal strings stay strings (never float), Binance epochs stay
int (ms from REST and dumps before 2025-01-01, µs in dumps from 2025-01-01), Coinbase times stay ISO-8601
strings, Kraken times stay decimal-second strings (parsed from the JSON text as Decimal, so no digit is lost).
Book levels are `list<list<string>>` exactly as the venue's arrays, every element as text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

LEVELS = pa.list_(pa.list_(pa.string()))  # [[price, qty, ...venue extras], ...] as text
UTC_US = pa.timestamp("us", tz="UTC")

LINEAGE_FIELDS = [
    pa.field("_source", pa.string(), nullable=False),
    pa.field("_source_ingest_ts", UTC_US, nullable=False),
    pa.field("_recv_ts", UTC_US),
    pa.field("_source_uri", pa.string()),
    pa.field("_source_checksum", pa.string()),
    pa.field("_raw_payload", pa.string(), nullable=False),
]


@dataclass(frozen=True)
class BronzeTable:
    """A raw table: its native schema and which columns decide the date partition and the file cursor."""

    name: str
    venue: str
    dataset: str
    native: tuple[pa.Field, ...]
    time_column: str  # decides the date partition
    time_unit: str  # ms | ms_or_us | iso8601 | seconds_text | epoch_s | recv
    cursor_column: str  # first/last value name the file (trade id, update id, time)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*self.native, *LINEAGE_FIELDS])

    @property
    def native_names(self) -> list[str]:
        return [f.name for f in self.native]


def _t(name: str, venue: str, dataset: str, fields: list[tuple[str, pa.DataType]], time_column: str,
       time_unit: str, cursor_column: str) -> BronzeTable:
    return BronzeTable(name, venue, dataset, tuple(pa.field(n, t) for n, t in fields), time_column, time_unit,
                       cursor_column)


S, I, B, F = pa.string(), pa.int64(), pa.bool_(), pa.float64()  # noqa: E741 (column-type shorthands)

_ALL = [
    # ---------------------------------------------------------------- Binance spot
    _t("raw_binance_trades", "binance", "trades",  # /api/v3/trades, historicalTrades, dumps `trades`, ws @trade
       [("id", I), ("price", S), ("qty", S), ("quoteQty", S), ("time", I), ("isBuyerMaker", B), ("isBestMatch", B)],
       "time", "ms_or_us", "id"),
    _t("raw_binance_aggtrades", "binance", "aggtrades",  # /api/v3/aggTrades, dumps `aggTrades`
       [("a", I), ("p", S), ("q", S), ("f", I), ("l", I), ("T", I), ("m", B), ("M", B)],
       "T", "ms_or_us", "a"),
    _t("raw_binance_klines", "binance", "klines",  # /api/v3/klines, dumps `klines`
       [("interval", S), ("openTime", I), ("open", S), ("high", S), ("low", S), ("close", S), ("volume", S),
        ("closeTime", I), ("quoteVolume", S), ("trades", I), ("takerBuyBaseVolume", S),
        ("takerBuyQuoteVolume", S)],
       "openTime", "ms_or_us", "openTime"),
    _t("raw_binance_depth", "binance", "depth",  # /api/v3/depth snapshots; books rebuilt from recordings
       [("lastUpdateId", I), ("bids", LEVELS), ("asks", LEVELS)],
       "_recv_ts", "recv", "lastUpdateId"),
    _t("raw_binance_depth_updates", "binance", "depth_updates",  # ws <s>@depth@100ms diffs
       [("E", I), ("U", I), ("u", I), ("b", LEVELS), ("a", LEVELS)],
       "_recv_ts", "recv", "u"),
    _t("raw_binance_bbo", "binance", "bbo",  # ws <s>@bookTicker (no venue time: receive time only)
       [("u", I), ("b", S), ("B", S), ("a", S), ("A", S)],
       "_recv_ts", "recv", "u"),
    # ---------------------------------------------------------------- Coinbase Exchange
    _t("raw_coinbase_trades", "coinbase", "trades",  # /products/{id}/trades, ws `match`
       [("trade_id", I), ("price", S), ("size", S), ("time", S), ("side", S)],
       "time", "iso8601", "trade_id"),
    _t("raw_coinbase_klines", "coinbase", "klines",  # /products/{id}/candles [time, low, high, open, close, volume]
       [("granularity", I), ("time", I), ("low", F), ("high", F), ("open", F), ("close", F), ("volume", F)],
       "time", "epoch_s", "time"),
    _t("raw_coinbase_depth", "coinbase", "depth",  # /products/{id}/book?level=2; books rebuilt from recordings
       [("sequence", I), ("time", S), ("bids", LEVELS), ("asks", LEVELS)],
       "_recv_ts", "recv", "sequence"),
    _t("raw_coinbase_depth_updates", "coinbase", "depth_updates",  # ws l2update: changes [[side, price, size]]
       [("sequence", I), ("time", S), ("changes", LEVELS)],
       "_recv_ts", "recv", "sequence"),
    _t("raw_coinbase_bbo", "coinbase", "bbo",  # ws `ticker`
       [("sequence", I), ("time", S), ("best_bid", S), ("best_bid_size", S), ("best_ask", S),
        ("best_ask_size", S)],
       "_recv_ts", "recv", "sequence"),
    # ---------------------------------------------------------------- Kraken spot
    _t("raw_kraken_trades", "kraken", "trades",  # /0/public/Trades rows, ws v2 `trade`
       [("price", S), ("volume", S), ("time", S), ("side", S), ("ordertype", S), ("misc", S), ("trade_id", I)],
       "time", "seconds_text", "trade_id"),
    _t("raw_kraken_klines", "kraken", "klines",  # /0/public/OHLC rows
       [("interval", I), ("time", I), ("open", S), ("high", S), ("low", S), ("close", S), ("vwap", S),
        ("volume", S), ("count", I)],
       "time", "epoch_s", "time"),
    _t("raw_kraken_depth", "kraken", "depth",  # /0/public/Depth; books rebuilt from recordings (with checksum)
       [("bids", LEVELS), ("asks", LEVELS), ("checksum", I)],
       "_recv_ts", "recv", "_recv_ts"),
    _t("raw_kraken_depth_updates", "kraken", "depth_updates",  # ws v2 `book` updates
       [("timestamp", S), ("checksum", I), ("bids", LEVELS), ("asks", LEVELS)],
       "_recv_ts", "recv", "_recv_ts"),
    _t("raw_kraken_bbo", "kraken", "bbo",  # ws v2 `ticker`
       [("bid", S), ("bid_qty", S), ("ask", S), ("ask_qty", S)],
       "_recv_ts", "recv", "_recv_ts"),
    # ---------------------------------------------------------------- all venues
    _t("raw_book_gaps", "all", "book_gaps",  # a sequence/checksum gap found while rebuilding a book
       [("venue", S), ("detected_at", UTC_US), ("reason", S), ("last_good", S), ("first_after", S)],
       "detected_at", "recv", "detected_at"),
]

TABLES: dict[str, BronzeTable] = {t.name: t for t in _ALL}


def table(name: str) -> BronzeTable:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown bronze table {name!r}; known: {', '.join(sorted(TABLES))}") from None


def table_for(venue: str, dataset: str) -> BronzeTable:
    name = "raw_book_gaps" if dataset == "book_gaps" else f"raw_{venue}_{dataset}"
    return table(name)
