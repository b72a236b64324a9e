"""Helpers of the ingest core tests (imported by name: tests/python/ingest is not a package)."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemahub.storage import Lake

SYMBOLS = {"binance": ("BTCUSDT", "ETHUSDT"), "coinbase": ("BTC-USD", "ETH-USD"), "kraken": ("XBTUSD", "ETHUSD")}
ID_FIELD = {"binance": "id", "coinbase": "trade_id", "kraken": "trade_id"}


class FakeTime:
    """Injectable clock + sleep: sleeping advances the clock instantly and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


def bronze_ids(lake: Lake, venue: str, symbol: str) -> list[int]:
    """Every trade id in bronze for a venue and symbol (with repeats, if any)."""
    ids: list[int] = []
    for path in lake.list_files("bronze", f"raw_{venue}_trades", f"symbol={symbol}", suffix=".parquet"):
        table = pq.read_table(io.BytesIO(lake.read_bytes(path)), columns=[ID_FIELD[venue]])
        ids += table.column(0).to_pylist()
    return ids


def truth_ids(sb: object, venue: str, symbol: str, since: dt.datetime, until: dt.datetime) -> list[int]:
    t = sb.market.trades(venue, symbol)  # type: ignore[attr-defined]
    lo, hi = int(since.timestamp()) * 10**9, int(until.timestamp()) * 10**9
    t = t.filter(pc.and_(pc.greater_equal(t["time_ns"], lo), pc.less(t["time_ns"], hi)))
    return t["trade_id"].to_pylist()


def sandbox_env(sb: object) -> dict[str, str]:
    """Environment pointing every venue at a sandbox, with fast timeouts/backoff (stall faults time out)."""
    return {
        "SCHEMAHUB_BINANCE_URL": sb.base_url("binance"),  # type: ignore[attr-defined]
        "SCHEMAHUB_COINBASE_URL": sb.base_url("coinbase"),  # type: ignore[attr-defined]
        "SCHEMAHUB_KRAKEN_URL": sb.base_url("kraken"),  # type: ignore[attr-defined]
        "SCHEMAHUB_HTTP_TIMEOUT": "1",
        "SCHEMAHUB_HTTP_BACKOFF_BASE": "0.01",
        "SCHEMAHUB_HTTP_BACKOFF_CAP": "0.2",
        "SCHEMAHUB_HTTP_ATTEMPTS": "8",
    }


@contextmanager
def env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
