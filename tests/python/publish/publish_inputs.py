"""Test inputs for the Iceberg publisher tests: bronze trades (through the BronzeWriter) and a trades_unified
Parquet dataset in the dbt layout, built here so the tests do not depend on ingest or dbt runs."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from ingest.bronze.writer import BronzeWriter
from schemahub.storage import Lake

UTC_US = pa.timestamp("us", tz="UTC")
VENUES = {  # exchange -> (venue symbol, canonical symbol)
    "binance": ("BTCUSDT", "BTC-USDT"),
    "coinbase": ("BTC-USD", "BTC-USD"),
    "kraken": ("XBTUSD", "BTC-USD"),
}

UNIFIED_SCHEMA = pa.schema([
    ("exchange", pa.string()), ("symbol", pa.string()), ("canonical_symbol", pa.string()), ("base", pa.string()),
    ("quote", pa.string()), ("trade_id", pa.string()), ("side", pa.string()), ("price", pa.float64()),
    ("quantity", pa.float64()), ("notional", pa.float64()), ("trade_ts", UTC_US), ("ingest_ts", UTC_US),
    ("recv_ts", UTC_US), ("source", pa.string()),
])


def unified_rows(day: dt.date, exchange: str, n: int, *, first_id: int = 1) -> pa.Table:
    symbol, canonical = VENUES[exchange]
    base, quote = canonical.split("-")
    t0 = dt.datetime.combine(day, dt.time(), dt.UTC)
    ts = [t0 + dt.timedelta(seconds=37 * i, microseconds=i) for i in range(n)]
    prices = [40_000.0 + i * 0.5 for i in range(n)]
    qty = [0.001 * (1 + i % 7) for i in range(n)]
    return pa.table({
        "exchange": [exchange] * n, "symbol": [symbol] * n, "canonical_symbol": [canonical] * n,
        "base": [base] * n, "quote": [quote] * n, "trade_id": [str(first_id + i) for i in range(n)],
        "side": ["BUY" if i % 2 else "SELL" for i in range(n)], "price": prices, "quantity": qty,
        "notional": [p * q for p, q in zip(prices, qty, strict=True)], "trade_ts": ts,
        "ingest_ts": [t0 + dt.timedelta(days=1)] * n, "recv_ts": ts, "source": [f"{exchange}.rest.trades"] * n,
    }, schema=UNIFIED_SCHEMA)


def write_unified_day(lake: Lake, day: dt.date, per_exchange: dict[str, int]) -> int:
    """One day of trades_unified as dbt writes it (trade_date only in the path); returns the row count."""
    parts = [unified_rows(day, ex, n) for ex, n in per_exchange.items()]
    tbl = pa.concat_tables(parts)
    lake.write_parquet(tbl, "silver", "trades_unified", f"trade_date={day.isoformat()}", "data_0.parquet")
    return tbl.num_rows


def bronze_trades(venue: str, day: dt.date, n: int, first_id: int = 1) -> list[dict]:
    t0 = dt.datetime.combine(day, dt.time(), dt.UTC)
    out = []
    for i in range(n):
        tid = first_id + i
        when = t0 + dt.timedelta(seconds=53 * i, microseconds=123 * i)
        price, qty = f"{40000 + i}.50", f"0.00{1 + i % 9}"
        if venue == "binance":
            rec = {"id": tid, "price": price, "qty": qty, "quoteQty": "1.0", "time": int(when.timestamp() * 1000),
                   "isBuyerMaker": bool(i % 2), "isBestMatch": True}
        elif venue == "coinbase":
            rec = {"trade_id": tid, "price": price, "size": qty, "side": "buy" if i % 2 else "sell",
                   "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        else:
            rec = {"price": price, "volume": qty, "time": f"{int(when.timestamp())}.{when.microsecond:06d}",
                   "side": "b" if i % 2 else "s", "ordertype": "l", "misc": "", "trade_id": tid}
        out.append({**rec, "_raw_payload": json.dumps(rec)})
    return out


def write_bronze_day(lake: Lake, venue: str, day: dt.date, n: int, first_id: int = 1) -> int:
    writer = BronzeWriter(lake)
    table = f"raw_{venue}_trades"
    arrow = writer.to_arrow(table, bronze_trades(venue, day, n, first_id), source=f"{venue}.rest.trades",
                            ingest_ts=dt.datetime(2024, 2, 1, tzinfo=dt.UTC), source_uri="http://127.0.0.1/test")
    writer.write(table, VENUES[venue][0], arrow)
    return n
