"""`books`: REST depth polling through the shared client, against the sandbox exchange for a few seconds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ingest.books import BooksError, parse_duration, parse_targets
from schemahub.cli import main


def bronze(lake: Path, table: str) -> list[dict]:
    root = lake / "bronze" / table
    if not root.exists():
        return []
    return ds.dataset(str(root), format="parquet", partitioning="hive").to_table().to_pylist()


@pytest.fixture
def live_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    server = pytest.importorskip("sandbox.server")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cfg = server.SandboxConfig(seed=7, start=now - dt.timedelta(minutes=20), end=now + dt.timedelta(minutes=20),
                               symbols=("BTC",), live=True)
    with server.SandboxServer(cfg, port=0) as sb:
        monkeypatch.setenv("SCHEMAHUB_EXCHANGE", "sandbox")
        monkeypatch.setenv("SCHEMAHUB_SANDBOX_URL", sb.url)
        monkeypatch.setenv("SCHEMAHUB_HTTP_ATTEMPTS", "3")
        monkeypatch.setenv("SCHEMAHUB_HTTP_BACKOFF_BASE", "0.05")
        yield sb


def test_parse_arguments() -> None:
    assert parse_duration("500ms", "x") == 0.5 and parse_duration("2m", "x") == 120 and parse_duration("3", "x") == 3
    with pytest.raises(BooksError, match="bad --interval '0s'"):
        parse_duration("0s", "--interval")
    assert parse_targets("binance,kraken", "binance:BTCUSDT,kraken:XBTUSD") == [("binance", "BTCUSDT"),
                                                                                 ("kraken", "XBTUSD")]
    assert parse_targets("coinbase", "BTC-USD") == [("coinbase", "BTC-USD")]
    with pytest.raises(BooksError, match="unknown venue 'bitstamp'"):
        parse_targets("bitstamp", None)
    with pytest.raises(BooksError, match="with several venues write venue:SYMBOL"):
        parse_targets("binance,coinbase", "BTCUSDT")
    with pytest.raises(BooksError, match="names venue 'kraken', which is not in --venue"):
        parse_targets("binance", "kraken:XBTUSD")


def test_books_polls_every_venue_and_stamps_times(tmp_lake: Path, live_sandbox: object, capsys) -> None:
    started = dt.datetime.now(dt.UTC)
    assert main(["books", "--venue", "binance,coinbase,kraken",
                 "--symbols", "binance:BTCUSDT,coinbase:BTC-USD,kraken:XBTUSD",
                 "--interval", "1s", "--duration", "3s", "--levels", "10"]) == 0
    out = capsys.readouterr().out
    assert "binance:BTCUSDT: 3 polls" in out and "coinbase:BTC-USD: 3 polls" in out
    binance = bronze(tmp_lake, "raw_binance_depth")
    assert len(binance) == 3 and {r["symbol"] for r in binance} == {"BTCUSDT"}
    for r in binance:
        assert r["_recv_ts"] >= started and r["_source"] == "binance.rest.depth"
        assert 0 < len(r["bids"]) <= 10 and float(r["bids"][0][0]) < float(r["asks"][0][0])
        assert r["_source_uri"].startswith(live_sandbox.url)  # type: ignore[attr-defined]
    coinbase = bronze(tmp_lake, "raw_coinbase_depth")
    assert len(coinbase) == 3 and all(r["time"] for r in coinbase)  # the venue's own time
    assert all(r["sequence"] > 0 for r in coinbase)
    kraken = bronze(tmp_lake, "raw_kraken_depth")
    assert 2 <= len(kraken) <= 3  # about 1 request/s: the shared limiter may push one tick out
    assert all(len(r["bids"][0]) == 3 for r in kraken)  # [price, volume, venue timestamp]
    assert {r["_recv_ts"] for r in kraken}.__len__() == len(kraken)


def test_books_unknown_symbol_fails_naming_it(tmp_lake: Path, live_sandbox: object, capsys) -> None:
    assert main(["books", "--venue", "binance", "--symbols", "NOPEUSDT", "--interval", "1s",
                 "--duration", "2s"]) == 1
    err = capsys.readouterr().err
    assert "NOPEUSDT" in err and "binance" in err
    assert not list(tmp_lake.rglob("*.parquet"))


def test_response_with_missing_field_stops_and_keeps_only_complete_rows(tmp_lake: Path) -> None:
    import httpx

    from ingest.books import poll_books
    from ingest.bronze.writer import BronzeWriter
    from ingest.errors import ParseError
    from ingest.http import HttpClient

    bodies = iter([
        {"lastUpdateId": 7, "bids": [["100.0", "1.0"]], "asks": [["101.0", "2.0"]]},
        {"lastUpdateId": 8, "asks": [["101.0", "2.0"]]},  # no "bids"
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(bodies), headers={"X-MBX-USED-WEIGHT-1M": "5"})

    with HttpClient(transport=httpx.MockTransport(handler), base_urls={"binance": "http://binance.test"},
                    max_attempts=1) as client, pytest.raises(ParseError) as err:
        poll_books(client, [("binance", "BTCUSDT")], interval_s=0.05, duration_s=1.0, writer=BronzeWriter())
    assert "bids" in str(err.value) and "BTCUSDT" in str(err.value)
    [row] = bronze(tmp_lake, "raw_binance_depth")  # the complete first poll is kept, nothing of the second
    assert row["lastUpdateId"] == 7 and row["bids"] == [["100.0", "1.0"]]
