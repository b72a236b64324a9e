"""Websocket recordings: every line parses, receive times never go back, books rebuilt from the recorded
snapshots + updates equal the simulated books, the Kraken CRC32 matches the rebuilt book, and injected gaps are
detectable (Binance U/u, Coinbase sequence, Kraken checksum) and recoverable from the next snapshot."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.market import STEP_NS, Market
from sandbox.recordings import KRAKEN_DEPTH, kraken_checksum, write_recordings

END = dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Market, Path, Path]:
    market = Market(5, END - dt.timedelta(minutes=1), END)
    clean = tmp_path_factory.mktemp("rec_clean")
    gappy = tmp_path_factory.mktemp("rec_gaps")
    write_recordings(market, clean)
    write_recordings(market, gappy, gap_rate=0.02, gap_seed=3)
    return market, clean, gappy


def _lines(path: Path) -> list[tuple[int, dict]]:
    out = []
    for raw in path.read_text().splitlines():
        recv, text = raw.split(" ", 1)
        out.append((int(recv), json.loads(text, parse_float=Decimal)))
    return out


def _truth(market: Market, venue: str, symbol: str, step: int, depth: int) -> tuple[dict, dict]:
    import numpy as np

    bp, bq, ap, aq = market.book_levels(venue, symbol, np.array([step]), depth)
    tick = Decimal(1).scaleb(-market.tape(venue, symbol).spec.price_decimals)
    lot = Decimal(1).scaleb(-market.tape(venue, symbol).spec.lot_decimals)
    return ({Decimal(int(p)) * tick: Decimal(int(q)) * lot for p, q in zip(bp[0], bq[0], strict=True)},
            {Decimal(int(p)) * tick: Decimal(int(q)) * lot for p, q in zip(ap[0], aq[0], strict=True)})


def _step(market: Market, end_ns: int) -> int:
    return (end_ns - market.start_ns) // STEP_NS - 1


def test_files_and_lines(recorded) -> None:
    market, clean, _ = recorded
    files = sorted(p.relative_to(clean).as_posix() for p in clean.rglob("*.rec"))
    assert files == sorted(f"{v}/{s}/{d}.rec" for v, s in [
        ("binance", "BTCUSDT"), ("binance", "ETHUSDT"), ("coinbase", "BTC-USD"), ("coinbase", "ETH-USD"),
        ("kraken", "XBTUSD"), ("kraken", "ETHUSD")] for d in ("2025-12-31", "2026-01-01"))
    for f in clean.rglob("*.rec"):
        recv = [r for r, _ in _lines(f)]
        assert recv == sorted(recv) and recv
    trades = [m["data"]["t"] for _, m in _lines(clean / "binance/BTCUSDT/2025-12-31.rec") + _lines(
        clean / "binance/BTCUSDT/2026-01-01.rec") if m.get("stream") == "btcusdt@trade"]
    assert trades == market.trades("binance", "BTCUSDT")["trade_id"].to_pylist()


def test_same_seed_same_recording_bytes(recorded, tmp_path) -> None:
    _, clean, _ = recorded
    again = Market(5, END - dt.timedelta(minutes=1), END)
    write_recordings(again, tmp_path, venues=("kraken",), assets=("BTC",))
    for f in (tmp_path / "kraken" / "XBTUSD").glob("*.rec"):
        assert f.read_bytes() == (clean / "kraken" / "XBTUSD" / f.name).read_bytes()


def _all(folder: Path, venue: str, symbol: str) -> list[tuple[int, dict]]:
    return [x for f in sorted((folder / venue / symbol).glob("*.rec")) for x in _lines(f)]


def _apply(book: dict, levels, zero=Decimal(0)) -> None:
    for p, q in levels:
        if Decimal(q) == zero:
            book.pop(Decimal(p), None)
        else:
            book[Decimal(p)] = Decimal(q)


def _binance_replay(market: Market, lines) -> tuple[int, int]:
    bids: dict = {}
    asks: dict = {}
    book_id, checked, gaps = None, 0, 0
    for _, m in lines:
        if "lastUpdateId" in m:
            bids = {Decimal(p): Decimal(q) for p, q in m["bids"]}
            asks = {Decimal(p): Decimal(q) for p, q in m["asks"]}
            book_id = m["lastUpdateId"]
            continue
        if m.get("stream", "").endswith("@depth@100ms") and book_id is not None:
            d = m["data"]
            if d["u"] <= book_id:
                continue
            if d["U"] != book_id + 1:
                gaps += 1
                book_id = None  # wait for the next snapshot
                continue
            _apply(bids, d["b"])
            _apply(asks, d["a"])
            book_id = d["u"]
            assert (bids, asks) == _truth(market, "binance", d["s"], _step(market, d["E"] * 10**6), len(bids))
            checked += 1
    return checked, gaps


def test_binance_book_rebuild_and_gaps(recorded) -> None:
    market, clean, gappy = recorded
    checked, gaps = _binance_replay(market, _all(clean, "binance", "BTCUSDT"))
    assert gaps == 0 and checked == market.n_steps - 1
    checked_g, gaps_g = _binance_replay(market, _all(gappy, "binance", "BTCUSDT"))
    assert gaps_g > 0 and checked_g > 0.8 * checked


def _kraken_replay(market: Market, lines) -> tuple[int, int]:
    spec = market.tape("kraken", "XBTUSD").spec
    bids: dict = {}
    asks: dict = {}
    ok, bad = 0, 0

    def txt(levels):
        return [(f"{p:.{spec.price_decimals}f}", f"{q:.{spec.lot_decimals}f}") for p, q in levels]

    for _, m in lines:
        if m.get("channel") != "book":
            continue
        d = m["data"][0]
        if m["type"] == "snapshot":
            bids, asks = {}, {}
        for side, book in (("bids", bids), ("asks", asks)):
            for lv in d[side]:
                if lv["qty"] == 0:
                    book.pop(lv["price"], None)
                else:
                    book[lv["price"]] = lv["qty"]
        for p in sorted(bids, reverse=True)[KRAKEN_DEPTH:]:
            del bids[p]
        for p in sorted(asks)[KRAKEN_DEPTH:]:
            del asks[p]
        crc = kraken_checksum(txt(sorted(asks.items())), txt(sorted(bids.items(), reverse=True)))
        if crc == d["checksum"]:
            ok += 1
        else:
            bad += 1
    return ok, bad


def test_kraken_checksum_matches_the_rebuilt_book(recorded) -> None:
    market, clean, gappy = recorded
    ok, bad = _kraken_replay(market, _all(clean, "kraken", "XBTUSD"))
    assert bad == 0 and ok == market.n_steps
    ok_g, bad_g = _kraken_replay(market, _all(gappy, "kraken", "XBTUSD"))
    assert bad_g > 0 and ok_g > 0.5 * ok  # the gaps show up as checksum mismatches until the next snapshot


def test_kraken_checksum_reference_example() -> None:
    """The documented algorithm on a hand-made book: strip '.', strip leading zeros, asks then bids."""
    asks = [("0.05005", "0.00000500"), ("0.05010", "0.00000500")]
    bids = [("0.05000", "0.00000500")]
    import zlib

    expected = zlib.crc32(b"50055005010500" + b"5000500") & 0xFFFFFFFF
    assert kraken_checksum(asks, bids) == expected


def test_coinbase_sequence_and_book(recorded) -> None:
    market, clean, gappy = recorded
    for folder, expect_gaps in ((clean, False), (gappy, True)):
        bids: dict = {}
        asks: dict = {}
        seq, gaps, checked = None, 0, 0
        for _, m in _all(folder, "coinbase", "BTC-USD"):
            if m["type"] == "snapshot":
                bids = {Decimal(p): Decimal(q) for p, q in m["bids"]}
                asks = {Decimal(p): Decimal(q) for p, q in m["asks"]}
                seq = m["sequence"]
                continue
            if seq is None:
                continue
            if m["type"] == "ticker":
                assert m["sequence"] == seq  # a ticker repeats its match's sequence
                continue
            if m["sequence"] != seq + 1:
                gaps += 1
                seq = None
                continue
            seq = m["sequence"]
            if m["type"] == "l2update":
                for side, p, q in m["changes"]:
                    _apply(bids if side == "buy" else asks, [(p, q)])
                end_ns = int(Decimal(str(dt.datetime.fromisoformat(m["time"].replace("Z", "+00:00")).timestamp()))
                             * 10**6) * 1000
                assert (bids, asks) == _truth(market, "coinbase", "BTC-USD", _step(market, end_ns), len(bids))
                checked += 1
        assert (gaps > 0) == expect_gaps and checked > 0.8 * (market.n_steps - 1)
