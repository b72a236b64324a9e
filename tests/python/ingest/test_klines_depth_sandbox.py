"""Klines/candles/OHLC and depth snapshots of every venue from the sandbox (faults on) into bronze."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ingest_core_support import SYMBOLS, sandbox_env, truth_ids

from ingest.bronze.writer import BronzeWriter
from ingest.connectors import connector
from ingest.http import HttpClient
from sandbox.server import SandboxConfig, SandboxServer
from schemahub.cli import main
from schemahub.storage import Lake

END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def sb(monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    server = SandboxServer(SandboxConfig(seed=7, start=END - dt.timedelta(hours=3), end=END, fault_rate=0.1,
                                         fault_seed=4, stall_seconds=1.5, enforce_limits=False), port=0).start()
    for k, v in sandbox_env(server).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SCHEMAHUB_RATE_SCALE", "50")
    yield server
    server.stop()


def _read(lake: Lake, table: str, symbol: str) -> list[dict]:
    rows: list[dict] = []
    for path in lake.list_files("bronze", table, f"symbol={symbol}", suffix=".parquet"):
        rows += pq.read_table(io.BytesIO(lake.read_bytes(path))).to_pylist()
    return rows


def test_klines_every_venue_closed_bars_once(tmp_lake: Path, sb: SandboxServer) -> None:
    since = END - dt.timedelta(hours=2)
    assert main(["klines", "--since", since.isoformat(), "--until", END.isoformat()]) == 0
    assert main(["klines", "--since", (END - dt.timedelta(hours=3)).isoformat(), "--until", END.isoformat()]) == 0
    lake = Lake.from_env()
    for venue, symbols in SYMBOLS.items():
        for symbol in symbols:
            bars = _read(lake, f"raw_{venue}_klines", symbol)
            key = "openTime" if venue == "binance" else "time"
            opens = sorted(b[key] for b in bars)
            assert len(opens) == len(set(opens)), f"{venue} {symbol}: a bar twice"
            n_trades = len(truth_ids(sb, venue, symbol, END - dt.timedelta(hours=3), END))
            if venue == "binance":
                assert opens == list(range(int((END - dt.timedelta(hours=3)).timestamp() * 1000),
                                           int(END.timestamp() * 1000), 60_000))
                assert sum(b["trades"] for b in bars) == n_trades
            elif venue == "kraken":
                assert len(opens) == 180 and sum(b["count"] for b in bars) == n_trades
            else:  # coinbase has no candle for a minute without trades
                assert 0 < len(opens) <= 180 and all(b["volume"] > 0 for b in bars)
    assert main(["klines", "coinbase", "BTC-USD", "--interval", "1h", "--since", since.isoformat(),
                 "--until", END.isoformat()]) == 1  # one interval per table: refused, not mixed


def test_depth_snapshots_every_venue(tmp_lake: Path, sb: SandboxServer) -> None:
    writer = BronzeWriter(Lake.from_env())
    with HttpClient() as client:
        for venue, symbols in SYMBOLS.items():
            conn = connector(venue, client)
            for symbol in symbols:
                page = conn.depth(symbol, 20) if venue != "coinbase" else conn.depth(symbol)
                (snap,) = page.records
                bids, asks = snap.bids, snap.asks
                assert bids and asks and float(bids[0][0]) < float(asks[0][0])
                assert all(float(a[0]) > float(b[0]) for a, b in itertools.pairwise(bids))
                arrow = BronzeWriter.to_arrow(conn.depth_table, page.bronze_rows(), source=page.source)
                (f,) = writer.write(conn.depth_table, symbol, arrow)
                assert f.rows == 1
    rows = _read(Lake.from_env(), "raw_binance_depth", "BTCUSDT")
    assert rows[0]["_recv_ts"] is not None and rows[0]["lastUpdateId"] > 0
    assert '"lastUpdateId"' in rows[0]["_raw_payload"] and rows[0]["_source"] == "binance.rest.depth"
