"""Connector parsers against every real recorded REST response (../shared/data/real), exact values asserted."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.bronze.writer import BronzeWriter
from ingest.connectors import binance, coinbase, kraken
from ingest.errors import ParseError
from ingest.http import decode_json


def _load(real_data: Path, folder: str, name: str) -> object:
    path = real_data / folder / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    return decode_json(path.read_text())


# -- Binance ---------------------------------------------------------------------------------------
def test_binance_trades(real_data: Path) -> None:
    rows = binance.parse_trades(_load(real_data, "nautilus-binance-rest", "http_spot_market_trades.json"), "BTCUSDT")
    assert len(rows) == 10
    first = rows[0]
    assert (first.id, first.price, first.qty, first.quoteQty, first.time, first.isBuyerMaker, first.isBestMatch) == (
        1111468873, "60650.00000000", "0.02924000", "1773.40600000", 1634942949263, True, True)
    assert [r.id for r in rows] == list(range(1111468873, 1111468883))
    assert json.loads(first.raw_payload) == {"id": 1111468873, "price": "60650.00000000", "qty": "0.02924000",
                                             "quoteQty": "1773.40600000", "time": 1634942949263,
                                             "isBuyerMaker": True, "isBestMatch": True}
    table = BronzeWriter.to_arrow("raw_binance_trades", [r.bronze() for r in rows], source="binance.rest.trades")
    assert table.num_rows == 10 and table.column("price")[1].as_py() == "60650.01000000"


def test_binance_historical_trades(real_data: Path) -> None:
    rows = binance.parse_trades(
        _load(real_data, "nautilus-binance-rest", "http_spot_market_historical_trades.json"), "BTCUSDT")
    assert [r.id for r in rows] == list(range(1111471896, 1111471906))
    last = rows[-1]
    assert (last.price, last.qty, last.quoteQty, last.time, last.isBuyerMaker) == (
        "60814.79000000", "0.06902000", "4197.43680580", 1634943220769, False)


def test_binance_agg_trades(real_data: Path) -> None:
    rows = binance.parse_agg_trades(
        _load(real_data, "nautilus-binance-rest", "http_spot_market_agg_trades.json"), "BTCUSDT")
    assert [r.a for r in rows] == list(range(966492862, 966492872))
    assert (rows[0].p, rows[0].q, rows[0].f, rows[0].l, rows[0].T, rows[0].m, rows[0].M) == (
        "60759.60000000", "0.00841000", 1111480471, 1111480471, 1634944096633, False, True)
    assert (rows[-1].f, rows[-1].T) == (1111480480, 1634944098216)


def test_binance_klines(real_data: Path) -> None:
    rows = binance.parse_klines(_load(real_data, "nautilus-binance-rest", "http_spot_market_klines.json"),
                                "BTCUSDT", "1m")
    assert len(rows) == 10
    k = rows[0]
    assert (k.openTime, k.open, k.high, k.low, k.close, k.volume, k.closeTime, k.quoteVolume, k.trades,
            k.takerBuyBaseVolume, k.takerBuyQuoteVolume) == (
        1634943780000, "60685.22000000", "60729.84000000", "60670.90000000", "60719.27000000", "21.63272000",
        1634943839999, "1313200.01340410", 617, "12.28492000", "745719.41022840")
    assert (rows[-1].openTime, rows[-1].trades) == (1634944320000, 7)
    assert all(r.closeTime == r.openTime + 59_999 for r in rows)


def test_binance_depth(real_data: Path) -> None:
    d = binance.parse_depth(_load(real_data, "nautilus-binance-rest", "http_spot_market_depth.json"), "BTCUSDT")
    assert d.lastUpdateId == 14527958487
    assert (len(d.bids), len(d.asks)) == (10, 10)
    assert d.bids[0] == ["60650.00000000", "0.00213000"] and d.asks[0] == ["60650.01000000", "0.61982000"]
    assert d.bids[-1] == ["60639.93000000", "0.07282000"] and d.asks[-1] == ["60659.94000000", "0.96170000"]


def test_binance_exchange_info(real_data: Path) -> None:
    products = binance.parse_exchange_info(
        _load(real_data, "nautilus-binance-rest", "http_spot_market_exchange_info.json"))
    assert [(p.symbol, p.base, p.quote, p.status, p.active) for p in products] == [
        ("BTCUSDT", "BTC", "USDT", "TRADING", True), ("ETHUSDT", "ETH", "USDT", "TRADING", True)]


# -- Kraken ----------------------------------------------------------------------------------------
def test_kraken_trades_keep_every_digit(real_data: Path) -> None:
    res = kraken.parse_trades(_load(real_data, "nautilus-kraken-rest", "http_trades.json"), "XBTUSDT")
    assert res.pair_key == "XBTUSDT" and res.last == "1762820035982277754"
    assert len(res.trades) == 1000
    assert [t.trade_id for t in res.trades] == list(range(10218208, 10219208))
    first, last = res.trades[0], res.trades[-1]
    assert (first.price, first.volume, first.time, first.side, first.ordertype, first.misc) == (
        "105433.60000", "0.00027625", "1762795433.9717445", "b", "l", "")
    assert (last.price, last.time, last.side, last.ordertype) == ("105899.40000", "1762820035.9822779", "s", "m")
    assert last.time_ns == 1762820035982277900  # from the decimal text, not a binary float
    assert sum(t.side == "b" for t in res.trades) == 578 and sum(t.ordertype == "l" for t in res.trades) == 591
    assert first.raw_payload == '["105433.60000","0.00027625",1762795433.9717445,"b","l","",10218208]'


def test_kraken_trades_refuse_binary_floats(real_data: Path) -> None:
    body = json.loads((real_data / "nautilus-kraken-rest" / "http_trades.json").read_text())  # floats!
    with pytest.raises(ParseError, match="parse_float=Decimal"):
        kraken.parse_trades(body, "XBTUSDT")


def test_kraken_ohlc(real_data: Path) -> None:
    rows = kraken.parse_ohlc(_load(real_data, "nautilus-kraken-rest", "http_ohlc.json"), "XBTUSDT", 1)
    assert len(rows) == 721
    assert (rows[0].time, rows[0].open, rows[0].vwap, rows[0].volume, rows[0].count) == (
        1762777020, "106038.2", "0.0", "0.00000000", 0)
    assert (rows[-1].time, rows[-1].close) == (1762820220, "105899.4")
    assert all(b.time - a.time == 60 for a, b in itertools.pairwise(rows))


def test_kraken_depth(real_data: Path) -> None:
    d = kraken.parse_depth(_load(real_data, "nautilus-kraken-rest", "http_order_book.json"), "XBTUSDT")
    assert d.asks[0] == ["105944.30000", "0.136", "1762820248"]
    assert d.bids[0] == ["105944.20000", "0.002", "1762820233"]
    assert (len(d.asks), len(d.bids), d.checksum) == (5, 5, None)


def test_kraken_asset_pairs(real_data: Path) -> None:
    products = kraken.parse_asset_pairs(_load(real_data, "nautilus-kraken-rest", "http_asset_pairs.json"))
    assert [(p.symbol, p.base, p.quote, p.active) for p in products] == [("XBTUSDT", "XXBT", "USDT", True)]


def test_kraken_server_time_envelope(real_data: Path) -> None:
    body = _load(real_data, "nautilus-kraken-rest", "http_server_time.json")
    assert isinstance(body, dict) and body["error"] == [] and isinstance(body["result"]["unixtime"], int)


# -- Coinbase --------------------------------------------------------------------------------------
def _coinbase_pages(real_data: Path) -> list[dict]:
    pages = _load(real_data, "coinbase-pro-node-rest-trades", "pubclient_stream_trades.json")
    assert isinstance(pages, list)
    return pages


def test_coinbase_trades_every_page(real_data: Path) -> None:
    pages = _coinbase_pages(real_data)
    ids: list[int] = []
    sides = {"buy": 0, "sell": 0}
    for page in pages:
        rows = coinbase.parse_trades(page["response"], "BTC-USD")
        assert rows == sorted(rows, key=lambda r: -r.trade_id)  # newest first
        headers = dict(zip(page["rawHeaders"][::2], page["rawHeaders"][1::2], strict=False))
        assert int(headers["cb-after"]) == rows[-1].trade_id and int(headers["cb-before"]) == rows[0].trade_id
        ids += [r.trade_id for r in rows]
        for r in rows:
            sides[r.side] += 1
    assert len(pages) == 15 and len(ids) == len(set(ids)) == 1411
    assert sorted(ids) == list(range(8408015, 8409426))
    assert sides == {"sell": 709, "buy": 702}
    first = coinbase.parse_trades(pages[0]["response"], "BTC-USD")[0]
    assert (first.trade_id, first.price, first.size, first.time, first.side) == (
        8408114, "453.30000000", "0.04000000", "2016-05-12T15:04:30.982824Z", "buy")


def test_coinbase_variable_fraction_times_partition(real_data: Path) -> None:
    rows = [r for p in _coinbase_pages(real_data) for r in coinbase.parse_trades(p["response"], "BTC-USD")]
    short = [r for r in rows if len(r.time) < len("2016-05-12T15:04:30.982824Z")]
    assert short, "the recording has times with trailing zeros dropped"
    assert coinbase.parse_time("2016-05-12T15:04:30.98209Z").microsecond == 982090
    from ingest.bronze.tables import table
    from ingest.bronze.writer import partition_dates

    arrow = BronzeWriter.to_arrow("raw_coinbase_trades", [r.bronze() for r in rows], source="coinbase.rest.trades")
    assert partition_dates(table("raw_coinbase_trades"), arrow).unique().to_pylist() == ["2016-05-12"]


# -- product lists from the cryptofeed HTTP captures -----------------------------------------------
def _capture_body(real_data: Path, name: str) -> object:
    path = real_data / "cryptofeed-recordings" / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    line = path.read_text().splitlines()[0]
    return decode_json(line.split(": ", 1)[1])


def test_products_from_real_captures(real_data: Path) -> None:
    b = binance.parse_exchange_info(_capture_body(real_data, "BINANCE.0"))
    assert len(b) == 1695 and any(p.symbol == "BTCUSDT" and p.base == "BTC" for p in b)
    c = coinbase.parse_products(_capture_body(real_data, "COINBASE.0"))
    assert len(c) == 162
    btc = next(p for p in c if p.symbol == "BTC-USD")
    assert (btc.base, btc.quote, btc.status, btc.active) == ("BTC", "USD", "online", True)
    k = kraken.parse_asset_pairs(_capture_body(real_data, "KRAKEN.0"))
    assert any(p.symbol == "XBTUSD" and p.base == "XXBT" and p.quote == "ZUSD" for p in k)
    assert len(k) == 304 - 11  # the 11 ".d" dark-pool keys are not spot markets


# -- missing fields are named ----------------------------------------------------------------------
def test_missing_field_names_venue_symbol_field() -> None:
    with pytest.raises(ParseError) as err:
        binance.parse_trades([{"id": 1, "price": "1", "qty": "1", "time": 5, "isBuyerMaker": True,
                               "isBestMatch": True}], "BTCUSDT")
    assert "quoteQty" in str(err.value) and "binance" in str(err.value) and "BTCUSDT" in str(err.value)
    with pytest.raises(ParseError, match="'side'"):
        coinbase.parse_trades([{"time": "2020-01-01T00:00:00Z", "trade_id": 1, "price": "1", "size": "1"}], "BTC-USD")
    with pytest.raises(ParseError, match="trade_id"):
        kraken.parse_trades({"error": [], "result": {"XXBTZUSD": [["1.0", "2.0", Decimal("1.5"), "b", "l", ""]],
                                                     "last": "1"}}, "XBTUSD")
    with pytest.raises(ParseError, match="ISO-8601"):
        coinbase.parse_trades([{"time": "yesterday", "trade_id": 1, "price": "1", "size": "1", "side": "buy"}],
                              "BTC-USD")
