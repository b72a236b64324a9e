"""Contract tests (issue 2 item 6): the sandbox's responses and the REAL recorded responses in
../shared/data/real go through the same checking code (sandbox_contract.py) and agree on field names, value
types, units (ms vs s vs ns vs ISO) and headers. Skips cleanly when the real data is absent."""

from __future__ import annotations

import heapq
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sandbox_contract as C


@pytest.fixture(scope="module")
def sb(sandbox_server):
    return sandbox_server(enforce_limits=False)


def _real(real_data: Path, rel: str, decimal: bool = False):
    path = real_data / rel
    if not path.exists():
        pytest.skip(f"{path} not present")
    return json.loads(path.read_text(), parse_float=Decimal if decimal else float)


def _get(sb, path: str, **params):
    r = httpx.get(sb.url + path, params=params, timeout=10)
    assert r.status_code == 200, r.text
    return json.loads(r.content, parse_float=Decimal), r


# ---------------------------------------------------------------------------------------------- Binance
@pytest.mark.parametrize(("real_file", "path"), [
    ("http_spot_market_trades.json", "/binance/api/v3/trades"),
    ("http_spot_market_historical_trades.json", "/binance/api/v3/historicalTrades"),
])
def test_binance_trades(real_data, sb, real_file: str, path: str) -> None:
    real = _real(real_data, f"nautilus-binance-rest/{real_file}")
    mine, _ = _get(sb, path, symbol="BTCUSDT", limit=10)
    assert C.check_binance_trades(real) == [] and C.check_binance_trades(mine) == []
    assert [list(r) for r in real[:1]] == [list(r) for r in mine[:1]]  # same field names, same order


def test_binance_agg_trades(real_data, sb) -> None:
    real = _real(real_data, "nautilus-binance-rest/http_spot_market_agg_trades.json")
    mine, _ = _get(sb, "/binance/api/v3/aggTrades", symbol="BTCUSDT", limit=10)
    for page in (real, mine):
        assert [p for r in page for p in C.check_record("binance.aggTrade", r)] == []
    assert list(real[0]) == list(mine[0])


def test_binance_depth_klines_ticker_time_info(real_data, sb) -> None:
    depth = _real(real_data, "nautilus-binance-rest/http_spot_market_depth.json")
    assert C.check_binance_depth(depth) == [] and C.check_binance_depth(
        _get(sb, "/binance/api/v3/depth", symbol="BTCUSDT", limit=10)[0]) == []
    klines = _real(real_data, "nautilus-binance-rest/http_spot_market_klines.json")
    assert C.check_binance_klines(klines, 60_000) == []
    assert C.check_binance_klines(_get(sb, "/binance/api/v3/klines", symbol="BTCUSDT", interval="1m",
                                       limit=10)[0], 60_000) == []
    for rel, path, name, params in [
        ("http_spot_market_book_ticker.json", "/binance/api/v3/ticker/bookTicker", "binance.bookTicker",
         {"symbol": "BTCUSDT"}),
        ("http_spot_market_time.json", "/binance/api/v3/time", "binance.time", {}),
    ]:
        real = _real(real_data, f"nautilus-binance-rest/{rel}")
        mine, _ = _get(sb, path, **params)
        assert C.check_record(name, real) == [] and C.check_record(name, mine) == []
        assert list(real) == list(mine)
    info = _real(real_data, "nautilus-binance-rest/http_spot_market_exchange_info.json")
    mine, resp = _get(sb, "/binance/api/v3/exchangeInfo")
    assert C.check_binance_exchange_info(info) == [] and C.check_binance_exchange_info(mine) == []
    assert {s["symbol"] for s in mine["symbols"]} == {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    assert resp.headers["content-type"].startswith("application/json") and "X-MBX-USED-WEIGHT-1M" in resp.headers


# ---------------------------------------------------------------------------------------------- Coinbase
def test_coinbase_trades_pages_and_headers(real_data, sb) -> None:
    rec = _real(real_data, "coinbase-pro-node-rest-trades/pubclient_stream_trades.json")
    for page in rec:
        raw = page["rawHeaders"]
        headers = dict(zip(raw[::2], raw[1::2], strict=True))
        assert C.check_coinbase_trades(page["response"], headers) == []
    mine, r = _get(sb, "/coinbase/products/BTC-USD/trades", limit=100)
    assert C.check_coinbase_trades(mine, dict(r.headers)) == []
    older, r2 = _get(sb, "/coinbase/products/BTC-USD/trades", limit=100, after=r.headers["cb-after"])
    assert C.check_coinbase_trades(older, dict(r2.headers)) == []
    assert older[0]["trade_id"] == mine[-1]["trade_id"] - 1  # `after` walks to the adjacent older page
    assert set(rec[0]["response"][0]) == set(mine[0])
    real_header_names = {k.lower() for k in rec[0]["rawHeaders"][::2]}
    assert {"cb-before", "cb-after", "content-type"} <= real_header_names & {k.lower() for k in r.headers}


def test_coinbase_products_match_the_real_listing(real_data, sb) -> None:
    path = real_data / "cryptofeed-recordings" / "COINBASE.0"
    if not path.exists():
        pytest.skip(f"{path} not present")
    body = path.read_text().split(": ", 1)[1].split("\n", 1)[0]
    real = {p["id"]: p for p in json.loads(body)}
    mine, _ = _get(sb, "/coinbase/products")
    for p in mine:
        assert p["id"] in real
        assert {"id", "base_currency", "quote_currency", "quote_increment", "base_increment", "status"} <= set(p)
        assert (p["base_currency"], p["quote_currency"]) == (real[p["id"]]["base_currency"],
                                                             real[p["id"]]["quote_currency"])


# ---------------------------------------------------------------------------------------------- Kraken
def test_kraken_trades_ohlc_depth_time_pairs(real_data, sb) -> None:
    real = _real(real_data, "nautilus-kraken-rest/http_trades.json", decimal=True)
    mine, _ = _get(sb, "/kraken/0/public/Trades", pair="XBTUSD", count=50)
    assert C.check_kraken_trades(real) == [] and C.check_kraken_trades(mine) == []
    assert C.kraken_result(mine)[0] == "XXBTZUSD"
    real = _real(real_data, "nautilus-kraken-rest/http_ohlc.json", decimal=True)
    assert C.check_kraken_ohlc(real) == []
    assert C.check_kraken_ohlc(_get(sb, "/kraken/0/public/OHLC", pair="XBTUSD", interval=1)[0]) == []
    real = _real(real_data, "nautilus-kraken-rest/http_order_book.json", decimal=True)
    assert C.check_kraken_depth(real) == []
    assert C.check_kraken_depth(_get(sb, "/kraken/0/public/Depth", pair="XBTUSD", count=5)[0]) == []
    real = _real(real_data, "nautilus-kraken-rest/http_server_time.json")
    mine, _ = _get(sb, "/kraken/0/public/Time")
    assert C.check_record("kraken.time", real["result"]) == [] and C.check_record("kraken.time", mine["result"]) == []
    assert len(real["result"]["rfc1123"].split()) == len(mine["result"]["rfc1123"].split())
    real = _real(real_data, "nautilus-kraken-rest/http_asset_pairs.json")
    mine, _ = _get(sb, "/kraken/0/public/AssetPairs", pair="XBTUSD")
    assert C.check_kraken_asset_pairs(real) == [] and C.check_kraken_asset_pairs(mine) == []


def test_kraken_asset_pairs_match_the_real_listing(real_data, sb) -> None:
    path = real_data / "cryptofeed-recordings" / "KRAKEN.0"
    if not path.exists():
        pytest.skip(f"{path} not present")
    body = path.read_text().split(": ", 1)[1].split("\n", 1)[0]
    real = json.loads(body)["result"]
    mine, _ = _get(sb, "/kraken/0/public/AssetPairs")
    for key, pair in mine["result"].items():
        for field in ("altname", "wsname", "base", "quote", "pair_decimals", "lot_decimals"):
            assert pair[field] == real[key][field], (key, field)


# ---------------------------------------------------------------------------------------------- websocket
def _cryptofeed_frames(path: Path) -> list[dict]:
    frames = []
    for line in path.read_text().splitlines()[1:]:
        head, _, text = line.partition(": ")
        if " <- " in head or not text.startswith(("{", "[")):
            continue
        frames.append(json.loads(text))
    return frames


def test_recording_messages_have_the_real_field_names(real_data, tmp_path) -> None:
    import datetime as dt

    from sandbox.market import Market
    from sandbox.recordings import write_recordings

    bws, cws = real_data / "cryptofeed-recordings" / "BINANCE.ws.1.0", real_data / "cryptofeed-recordings" / "COINBASE.ws.28.0"
    if not (bws.exists() and cws.exists()):
        pytest.skip("cryptofeed recordings not present")
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    write_recordings(Market(1, end - dt.timedelta(seconds=20), end), tmp_path)
    mine = [json.loads(line.split(" ", 1)[1]) for f in tmp_path.rglob("*.rec") for line in f.read_text().splitlines()]
    real_b = {f["stream"].split("@", 1)[1]: f for f in _cryptofeed_frames(bws) if isinstance(f, dict) and "stream" in f}
    mine_b = {f["stream"].split("@", 1)[1]: f for f in mine if "stream" in f}
    for stream in ("depth@100ms", "bookTicker"):
        assert set(real_b[stream]["data"]) == set(mine_b[stream]["data"]), stream
        assert real_b[stream]["stream"].split("@", 1)[1] == stream
    real_c = {f["type"]: f for f in _cryptofeed_frames(cws) if isinstance(f, dict) and "type" in f}
    mine_c = {f["type"]: f for f in mine if "type" in f}
    assert set(real_c["match"]) == set(mine_c["match"])
    assert set(real_c["l2update"]) | {"sequence"} == set(mine_c["l2update"])  # + per-product sequence (documented)
    assert set(real_c["snapshot"]) | {"sequence", "time"} == set(mine_c["snapshot"])
    assert {"type", "sequence", "product_id", "price", "best_bid", "best_ask", "side", "time", "trade_id",
            "last_size"} <= set(real_c["ticker"]) & set(mine_c["ticker"])


def test_kraken_checksum_reproduces_real_kraken_checksums(real_data) -> None:
    """The same `kraken_checksum` the recordings use reproduces the checksums Kraken itself sent (WS v1 book
    capture, depth 1000: same algorithm over the top 10 levels, values already at the pair's precision)."""
    from sandbox.recordings import kraken_checksum

    path = real_data / "cryptofeed-recordings" / "KRAKEN.ws.50.0"
    if not path.exists():
        pytest.skip(f"{path} not present")
    books: dict[str, tuple[dict, dict]] = {}
    checked = 0
    for line in path.read_text().splitlines()[1:]:
        head, _, text = line.partition(": ")
        if " <- " in head or not text.startswith("["):
            continue
        msg = json.loads(text)
        pair, parts = msg[-1], [p for p in msg[1:-2] if isinstance(p, dict)]
        if any("as" in p or "bs" in p for p in parts):
            books[pair] = ({lv[0]: lv[1] for lv in parts[0].get("bs", [])},
                           {lv[0]: lv[1] for lv in parts[0].get("as", [])})
            continue
        if pair not in books:
            continue
        bids, asks = books[pair]
        checksum = None
        for p in parts:
            for side, book in (("b", bids), ("a", asks)):
                for lv in p.get(side, []):
                    if Decimal(lv[1]) == 0:
                        book.pop(lv[0], None)
                    else:
                        book[lv[0]] = lv[1]
            checksum = p.get("c", checksum)
        if checksum is None:
            continue
        # (levels beyond the subscribed 1000 never reach the top 10 here, so no truncation is needed)
        top_a = [(p, asks[p]) for p in heapq.nsmallest(10, asks, key=float)]
        top_b = [(p, bids[p]) for p in heapq.nlargest(10, bids, key=float)]
        assert kraken_checksum(top_a, top_b) == int(checksum), (pair, checked)
        checked += 1
    assert checked > 1000
