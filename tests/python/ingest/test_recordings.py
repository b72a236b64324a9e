"""import-recording: line formats, per-venue book rebuilds (Binance U/u, Coinbase sequence, Kraken CRC32), gaps.

Synthetic recordings are written by the tests in the `<recv_ns> <raw json>` format; the real cryptofeed captures
(../shared/data/real/cryptofeed-recordings) must validate end to end (skipped when absent).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ingest.recordings.base import Row
from ingest.recordings.binance import BinanceRebuilder
from ingest.recordings.coinbase import CoinbaseRebuilder
from ingest.recordings.importer import REBUILDERS, detect_venue, rebuild
from ingest.recordings.kraken import KrakenRebuilder, iso_to_seconds_text
from ingest.recordings.lines import RecordingError, parse_line, read_lines
from schemahub.cli import main

T0 = 1_717_200_000_000_000_000  # 2024-06-01 00:00:00 UTC in ns
MS = 1_000_000


def write_rec(path: Path, lines: list[tuple[int, object]]) -> Path:
    path.write_text("".join(f"{ns} {json.dumps(obj, separators=(',', ':'))}\n" for ns, obj in lines))
    return path


def run(files: list[Path], venue: str, interval_ms: int = 1000) -> tuple[list[Row], Counter]:
    rb = REBUILDERS[venue](interval_ms * MS, 25)
    rows = list(rebuild([str(f) for f in files], rb))
    return rows, rb.counts


def bronze(lake: Path, table: str) -> list[dict]:
    root = lake / "bronze" / table
    if not root.exists():
        return []
    return ds.dataset(str(root), format="parquet", partitioning="hive").to_table().to_pylist()


# -- line formats ------------------------------------------------------------------------------------
def test_line_formats() -> None:
    a = parse_line('1717200000123456789 {"e":"trade"}\n', "f", 1)
    assert (a.recv_ns, a.kind, a.text) == (1717200000123456789, "ws", '{"e":"trade"}')
    b = parse_line('1633998512.0633569: {"stream":"x"}', "f", 2)
    assert (b.recv_ns, b.kind) == (1633998512063356900, "ws")
    c = parse_line("https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: {}", "f", 3)
    assert (c.kind, c.url, c.recv_ns) == ("http", "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000",
                                          1633998512320639000)
    assert parse_line("wss://ws.kraken.com <-> 1618678132.3858151", "f", 4) is None
    assert parse_line('wss://ws.kraken.com <- 1618678132.8: {"event":"subscribe"}', "f", 5) is None
    assert parse_line('{"t":"header","format":2}', "f", 6) is None
    d = parse_line('{"t":"recv","conn":1,"ts":1754773548.5,"data":"{\\"a\\":1}"}', "f", 7)
    assert (d.recv_ns, d.text) == (1754773548500000000, '{"a":1}')
    with pytest.raises(RecordingError, match=r"rec\.txt:9: unrecognised recording line"):
        parse_line("garbage here", "rec.txt", 9)


def test_iso_to_seconds_text_is_exact() -> None:
    assert iso_to_seconds_text("2023-09-25T07:48:36.925533Z") == "1695628116.925533"
    assert iso_to_seconds_text("2023-09-25T07:48:36Z") == "1695628116"


# -- Binance -----------------------------------------------------------------------------------------
def _depth(ns: int, first: int, last: int, bids: list, asks: list, sym: str = "BTCUSDT") -> tuple[int, dict]:
    return ns, {"stream": f"{sym.lower()}@depth@100ms", "data": {
        "e": "depthUpdate", "E": ns // MS, "s": sym, "U": first, "u": last, "b": bids, "a": asks}}


def _snap(ns: int, last_id: int, bids: list, asks: list) -> tuple[int, dict]:
    return ns, {"lastUpdateId": last_id, "bids": bids, "asks": asks}


def test_binance_sync_gap_and_resync(tmp_path: Path) -> None:
    lines = [
        _depth(T0 + 10 * MS, 95, 99, [["99.0", "1"]], []),  # buffered, then dropped (u <= lastUpdateId)
        _snap(T0 + 20 * MS, 100, [["100.0", "1.0"], ["99.5", "2.0"]], [["101.0", "1.5"]]),
        _depth(T0 + 100 * MS, 99, 102, [["100.0", "3.0"]], []),  # bridges 101: U <= 101 <= u
        _depth(T0 + 1200 * MS, 103, 103, [], [["101.0", "0"], ["101.5", "2.0"]]),
        _depth(T0 + 2100 * MS, 106, 108, [["99.5", "0"]], []),  # gap: expected U=104
        _depth(T0 + 2200 * MS, 109, 110, [["98.0", "1.0"]], []),
        _snap(T0 + 2300 * MS, 109, [["100.0", "3.0"]], [["101.5", "2.0"]]),  # resync: 109 dropped, 110 bridges
        _depth(T0 + 3500 * MS, 111, 111, [["100.0", "4.0"]], []),
    ]
    rows, counts = run([write_rec(tmp_path / "b.rec", lines)], "binance")
    gaps = [r for r in rows if r.table == "raw_book_gaps"]
    assert len(gaps) == 1
    g = gaps[0].record
    assert (g["venue"], g["last_good"], g["first_after"]) == ("binance", "103", "106")
    assert "expected U=104, got U=106" in g["reason"] and gaps[0].symbol == "BTCUSDT"
    assert len([r for r in rows if r.table == "raw_binance_depth_updates"]) == 6  # every diff kept raw
    snaps = [r for r in rows if r.table == "raw_binance_depth"]
    by_time = {r.recv_ns - T0: r.record for r in snaps}
    # 1 s: after the first bridging diff; 2 s: after diff 103; no snapshot while the book is broken (3 s comes
    # after the resync at 2.3 s)
    assert by_time[1000 * MS]["lastUpdateId"] == 102
    assert by_time[1000 * MS]["bids"] == [["100.0", "3.0"], ["99.5", "2.0"]]
    assert by_time[2000 * MS]["asks"] == [["101.5", "2.0"]] and by_time[2000 * MS]["lastUpdateId"] == 103
    assert by_time[3000 * MS]["lastUpdateId"] == 110 and by_time[3000 * MS]["bids"] == [["100.0", "3.0"],
                                                                                          ["98.0", "1.0"]]
    assert max(by_time) == 3000 * MS  # grid times up to the end of the recording (3.5 s), not beyond
    assert counts["stale_diffs_dropped"] == 2 and counts["gaps"] == 1


def test_binance_snapshot_older_than_buffer_is_a_gap(tmp_path: Path) -> None:
    lines = [_depth(T0 + MS, 150, 160, [], []), _snap(T0 + 2 * MS, 100, [["1", "1"]], [["2", "1"]]),
             _depth(T0 + 3 * MS, 161, 162, [], [])]
    rows, _ = run([write_rec(tmp_path / "b.rec", lines)], "binance")
    [gap] = [r for r in rows if r.table == "raw_book_gaps"]
    assert "does not bridge" in gap.record["reason"]
    assert not [r for r in rows if r.table == "raw_binance_depth"]


# -- Coinbase ----------------------------------------------------------------------------------------
def _cb(ns: int, **msg: object) -> tuple[int, dict]:
    return ns, {"product_id": "BTC-USD", **msg}


def test_coinbase_sequence_gap_and_matches_fill_the_sequence(tmp_path: Path) -> None:
    t = "2024-06-01T00:00:00.100000Z"
    lines = [
        _cb(T0 + MS, type="snapshot", sequence=10, bids=[["100.00", "1.0"]], asks=[["101.00", "2.0"]], time=t),
        _cb(T0 + 2 * MS, type="l2update", sequence=11, changes=[["buy", "100.50", "0.5"]], time=t),
        _cb(T0 + 3 * MS, type="match", sequence=12, trade_id=7, price="101.00", size="0.1", side="sell", time=t),
        _cb(T0 + 4 * MS, type="ticker", sequence=12, best_bid="100.50", best_bid_size="0.5", best_ask="101.00",
            best_ask_size="1.9", time=t),
        _cb(T0 + 5 * MS, type="l2update", sequence=13, changes=[["sell", "101.00", "1.9"]], time=t),  # 12 seen
        _cb(T0 + 1500 * MS, type="l2update", sequence=16, changes=[["buy", "99.00", "1"]], time=t),  # gap 14-15
        _cb(T0 + 1600 * MS, type="l2update", sequence=17, changes=[["buy", "98.00", "1"]], time=t),
        _cb(T0 + 1700 * MS, type="snapshot", sequence=17, bids=[["99.00", "1"]], asks=[["101.00", "1.9"]], time=t),
        _cb(T0 + 2500 * MS, type="l2update", sequence=18, changes=[["buy", "99.00", "0"]], time=t),
    ]
    rows, counts = run([write_rec(tmp_path / "c.rec", lines)], "coinbase")
    [gap] = [r for r in rows if r.table == "raw_book_gaps"]
    assert (gap.record["last_good"], gap.record["first_after"]) == ("13", "16")
    assert "expected 14, got 16" in gap.record["reason"]
    [trade] = [r.record for r in rows if r.table == "raw_coinbase_trades"]
    assert (trade["trade_id"], trade["side"], trade["price"]) == (7, "sell", "101.00")
    [bbo] = [r.record for r in rows if r.table == "raw_coinbase_bbo"]
    assert (bbo["best_bid"], bbo["best_ask_size"], bbo["sequence"]) == ("100.50", "1.9", 12)
    snaps = {r.recv_ns - T0: r.record for r in rows if r.table == "raw_coinbase_depth"}
    assert snaps[1000 * MS]["sequence"] == 13
    assert snaps[1000 * MS]["bids"] == [["100.50", "0.5"], ["100.00", "1.0"]]
    assert snaps[1000 * MS]["asks"] == [["101.00", "1.9"]]
    assert snaps[2000 * MS]["sequence"] == 17 and snaps[2000 * MS]["bids"] == [["99.00", "1"]]
    assert counts["updates_applied"] == 3
    assert len([r for r in rows if r.table == "raw_coinbase_depth_updates"]) == 5


# -- Kraken ------------------------------------------------------------------------------------------
def crc(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Independent statement of Kraken's checksum for the test: top 10 asks asc then bids desc."""
    def fmt(x: str) -> str:
        return x.replace(".", "").lstrip("0")

    top_asks = sorted(asks, key=lambda lv: float(lv[0]))[:10]
    top_bids = sorted(bids, key=lambda lv: -float(lv[0]))[:10]
    return zlib.crc32("".join(fmt(p) + fmt(q) for p, q in top_asks + top_bids).encode())


def _kr_book(ns: int, kind: str, bids: list, asks: list, checksum: int) -> tuple[int, dict]:
    return ns, {"channel": "book", "type": kind, "data": [{
        "symbol": "BTC/USD", "checksum": checksum, "timestamp": "2024-06-01T00:00:00.100000Z",
        "bids": [{"price": float(p), "qty": float(q)} for p, q in bids],
        "asks": [{"price": float(p), "qty": float(q)} for p, q in asks]}]}


def test_kraken_v2_checksum_ok_then_mismatch_is_a_gap(tmp_path: Path) -> None:
    inst = (T0, {"channel": "instrument", "type": "snapshot", "data": {"pairs": [
        {"symbol": "BTC/USD", "price_precision": 1, "qty_precision": 8}]}})
    bids = [("100.0", "1.00000000"), ("99.5", "2.00000000")]
    asks = [("100.5", "0.50000000")]
    after = [("100.0", "1.00000000"), ("99.5", "2.00000000"), ("99.9", "0.25000000")]
    lines = [
        inst,
        _kr_book(T0 + MS, "snapshot", bids, asks, crc(asks, bids)),
        _kr_book(T0 + 2 * MS, "update", [("99.9", "0.25")], [], crc(asks, after)),
        _kr_book(T0 + 1100 * MS, "update", [("99.5", "0")], [], 12345),  # wrong: a missed message
        _kr_book(T0 + 1200 * MS, "update", [("99.0", "1")], [], 1),  # no book: waits for a snapshot
        _kr_book(T0 + 1300 * MS, "snapshot", after, asks, crc(asks, after)),
        (T0 + 1400 * MS, {"channel": "trade", "type": "update", "data": [{
            "symbol": "BTC/USD", "side": "sell", "price": 100.0, "qty": 0.01, "ord_type": "market",
            "trade_id": 42, "timestamp": "2024-06-01T00:00:01.400000Z"}]}),
        (T0 + 2500 * MS, {"channel": "ticker", "type": "update", "data": [{
            "symbol": "BTC/USD", "bid": 100.0, "bid_qty": 1.0, "ask": 100.5, "ask_qty": 0.5, "last": 100.0}]}),
    ]
    rows, counts = run([write_rec(tmp_path / "k.rec", lines)], "kraken")
    [gap] = [r for r in rows if r.table == "raw_book_gaps"]
    assert gap.symbol == "XBTUSD" and "checksum mismatch: venue 12345" in gap.record["reason"]
    assert counts["checksums_ok"] == 3 and counts["updates_without_book"] == 1
    [trade] = [r.record for r in rows if r.table == "raw_kraken_trades"]
    assert (trade["trade_id"], trade["side"], trade["ordertype"], trade["time"], trade["price"]) == (
        42, "s", "m", "1717200001.400000", "100.0")
    snaps = {r.recv_ns - T0: r.record for r in rows if r.table == "raw_kraken_depth"}
    assert set(snaps) == {1000 * MS, 2000 * MS}  # none while broken between 1.1 s and 1.3 s
    assert snaps[2000 * MS]["checksum"] == crc(asks, after)
    assert len([r for r in rows if r.table == "raw_kraken_bbo"]) == 1


# -- errors and the CLI ------------------------------------------------------------------------------
def test_malformed_line_names_file_and_line_and_writes_nothing(tmp_lake: Path, tmp_path: Path, capsys) -> None:
    good = write_rec(tmp_path / "ok.rec", [_snap(T0, 1, [["1", "1"]], [["2", "1"]]),
                                           _depth(T0 + MS, 2, 2, [["1", "2"]], [])])
    bad = tmp_path / "bad.rec"
    bad.write_text(good.read_text() + f'{T0 + 2 * MS} {{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpd\n')
    assert main(["import-recording", "--venue", "binance", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.rec:3" in err and "malformed JSON" in err
    assert not list(tmp_lake.rglob("*.parquet"))
    cb_bad = tmp_path / "cb.rec"  # a good Binance file and a broken Coinbase one: nothing of either is written
    cb_bad.write_text(f'{T0} {{"type":"l2update","product_id":"BTC-USD","sequence":5,"changes":[["buy","1"]]}}\n')
    assert main(["import-recording", str(good), str(cb_bad)]) == 1
    assert "cb.rec:1: coinbase l2update BTC-USD: a change is not [side, price, size]" in capsys.readouterr().err
    assert not list(tmp_lake.rglob("*.parquet"))
    missing = tmp_path / "m.rec"
    missing.write_text(f'{T0} {{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","s":"BTCUSDT","U":1}}}}\n')
    assert main(["import-recording", "--venue", "binance", str(missing)]) == 1
    assert "m.rec:1: binance depthUpdate BTCUSDT: missing field 'E'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects an unknown venue
        main(["import-recording", "--venue", "bitstamp", str(good)])
    assert "invalid choice: 'bitstamp'" in capsys.readouterr().err


def test_cli_import_writes_bronze_with_gap_records_and_is_idempotent(tmp_lake: Path, tmp_path: Path,
                                                                     capsys) -> None:
    (tmp_path / "recs").mkdir()
    rec = write_rec(tmp_path / "recs" / "b.rec", [
        _snap(T0, 100, [["100.0", "1.0"]], [["101.0", "1.0"]]),
        _depth(T0 + 100 * MS, 101, 101, [["100.0", "2.0"]], []),
        (T0 + 150 * MS, {"stream": "btcusdt@trade", "data": {"e": "trade", "E": 1717200000150, "s": "BTCUSDT",
                                                              "t": 5, "p": "100.0", "q": "0.1", "T": 1717200000150,
                                                              "m": True, "M": True}}),
        _depth(T0 + 1500 * MS, 104, 105, [["99.0", "1.0"]], []),
    ])
    assert detect_venue(rec) == "binance"
    assert main(["import-recording", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "1 gap record(s)" in out
    [gap] = bronze(tmp_lake, "raw_book_gaps")
    assert gap["symbol"] == "BTCUSDT" and gap["venue"] == "binance" and gap["_source_uri"] == str(rec.resolve())
    [trade] = bronze(tmp_lake, "raw_binance_trades")
    assert (trade["id"], trade["isBuyerMaker"], trade["time"], trade["_source"]) == (
        5, True, 1717200000150, "binance.recording.trade")
    assert trade["_recv_ts"].timestamp() == pytest.approx((T0 + 150 * MS) / 1e9)
    [snap] = bronze(tmp_lake, "raw_binance_depth")
    assert snap["lastUpdateId"] == 101 and snap["bids"] == [["100.0", "2.0"]]
    files = sorted(p.relative_to(tmp_lake) for p in tmp_lake.rglob("*.parquet"))
    assert main(["import-recording", str(rec.parent)]) == 0  # a folder stands for the files below it
    assert sorted(p.relative_to(tmp_lake) for p in tmp_lake.rglob("*.parquet")) == files


# -- the sandbox's recordings ------------------------------------------------------------------------
def test_sandbox_recordings_with_gaps(tmp_path: Path) -> None:
    recordings = pytest.importorskip("sandbox.recordings")
    import datetime as dt

    from sandbox.market import Market

    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    market = Market(7, start, start + dt.timedelta(minutes=1), ("BTC",))
    files = recordings.write_recordings(market, tmp_path, gap_rate=0.02, gap_seed=3)
    for venue in ("binance", "coinbase", "kraken"):
        vfiles = [f for f in files if f.parts[-3] == venue]
        assert vfiles and detect_venue(vfiles[0]) == venue
        rows, counts = run(vfiles, venue)
        tables = Counter(r.table for r in rows)
        assert tables["raw_book_gaps"] >= 1, venue  # dropped book messages are noticed
        assert tables[f"raw_{venue}_depth"] >= 30 and tables[f"raw_{venue}_trades"] > 0, venue
        assert counts["snapshots"] + counts["rest_snapshots"] >= 1 + tables["raw_book_gaps"] or venue == "kraken"


def test_sandbox_binance_book_matches_book_ticker(tmp_path: Path) -> None:
    """Where the rebuilt book's update id equals a bookTicker's, best bid/ask must be identical."""
    recordings = pytest.importorskip("sandbox.recordings")
    import datetime as dt

    from sandbox.market import Market

    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    files = recordings.write_recordings(Market(7, start, start + dt.timedelta(seconds=30), ("BTC",)), tmp_path,
                                        venues=("binance",))
    rb = BinanceRebuilder()
    checked = 0
    tickers: dict[int, dict] = {}  # bookTicker is real time: it arrives before the 100 ms diff with its id
    for line in read_lines(files[0]):
        rb.feed(line)
        msg = json.loads(line.text)
        data = msg.get("data", {})
        if "bookTicker" in msg.get("stream", ""):
            tickers[data["u"]] = data
        st = rb.states.get("BTCUSDT")
        if st and st.book is not None and st.book_id in tickers:
            tk = tickers.pop(st.book_id)
            (bp, bq), (ap, aq) = st.book.bids.top(1)[0], st.book.asks.top(1)[0]
            assert (bp, bq, ap, aq) == (tk["b"], tk["B"], tk["a"], tk["A"])
            checked += 1
    assert checked > 50


# -- real captures (cryptofeed) ----------------------------------------------------------------------
def test_real_binance_u_chain_validates(real_data: Path) -> None:
    d = real_data / "cryptofeed-recordings"
    if not (d / "BINANCE.ws.1.0").exists():
        pytest.skip("cryptofeed Binance recordings absent")
    rows, counts = run([d / "BINANCE.http.0.0", d / "BINANCE.ws.1.0"], "binance")
    assert counts["rest_snapshots"] == 4 and counts.get("gaps", 0) == 0
    assert counts["diffs_applied"] + counts["stale_diffs_dropped"] == 177  # every diff used or before the snapshot
    assert {r.symbol for r in rows if r.table == "raw_binance_depth"} == {"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"}
    nkn = [r.record for r in rows if r.table == "raw_binance_depth" and r.symbol == "NKNUSDT"]
    assert nkn[0]["lastUpdateId"] > 499869752  # the snapshot's lastUpdateId, advanced by the kept diffs
    assert all(float(s["bids"][0][0]) < float(s["asks"][0][0]) for s in nkn)  # never crossed


def test_real_kraken_v1_checksums_validate(real_data: Path) -> None:
    d = real_data / "cryptofeed-recordings"
    if not (d / "KRAKEN.ws.50.0").exists():
        pytest.skip("cryptofeed Kraken recordings absent")
    rows, counts = run([d / "KRAKEN.0", d / "KRAKEN.ws.50.0"], "kraken")
    frames_with_crc = sum(1 for ln in read_lines(d / "KRAKEN.ws.50.0") if '"c":"' in ln.text)
    assert counts["checksums_ok"] == frames_with_crc == 4269 and counts.get("gaps", 0) == 0
    symbols = {r.symbol for r in rows if r.table == "raw_kraken_depth"}
    assert "XBTCHF" in symbols and "XMRUSD" in symbols  # altnames from the AssetPairs capture


def test_real_coinbase_trades_and_tickers(real_data: Path) -> None:
    d = real_data / "cryptofeed-recordings"
    if not (d / "COINBASE.ws.28.0").exists():
        pytest.skip("cryptofeed Coinbase recording absent")
    rows, counts = run([d / "COINBASE.ws.28.0"], "coinbase")
    trades = [r for r in rows if r.table == "raw_coinbase_trades"]
    assert len(trades) == 107  # 97 match + 10 last_match
    first = next(r for r in trades if r.record["trade_id"] == 280232)
    assert (first.symbol, first.record["price"], first.record["side"]) == ("SKL-BTC", "0.00001305", "sell")
    # the 2021 level2 feed carries no sequence: no book is presented as verified
    assert counts["unsequenced_depth_skipped"] == 9729 and not [r for r in rows if r.table == "raw_coinbase_depth"]


def test_kraken_and_coinbase_rebuilders_reject_bad_levels(tmp_path: Path) -> None:
    bad = write_rec(tmp_path / "k.rec", [(T0, {"channel": "book", "type": "snapshot", "data": [{
        "symbol": "BTC/USD", "checksum": 0, "bids": [{"px": 1.0, "qty": 1.0}], "asks": []}]})])
    with pytest.raises(RecordingError, match=r"k\.rec:1: kraken book snapshot BTC/USD: a level without price/qty"):
        run([bad], "kraken")
    cb = write_rec(tmp_path / "c.rec", [_cb(T0, type="snapshot", sequence=1, bids=[["x", "1"]], asks=[])])
    with pytest.raises(RecordingError, match=r"c.rec:1: coinbase BTC-USD: price 'x' is not a decimal number"):
        run([cb], "coinbase")
    assert isinstance(CoinbaseRebuilder(), CoinbaseRebuilder) and isinstance(KrakenRebuilder(), KrakenRebuilder)


def test_missed_trades_never_hide_behind_a_file_name(tmp_lake: Path, tmp_path: Path) -> None:
    """Trade files are cut at id holes, so covered_ranges (trusted by a resumed backfill) stays true."""
    from ingest.bronze.writer import BronzeWriter

    def trade(ns: int, tid: int) -> tuple[int, dict]:
        return ns, {"stream": "btcusdt@trade", "data": {"e": "trade", "E": ns // MS, "s": "BTCUSDT", "t": tid,
                                                         "p": "1.0", "q": "1.0", "T": ns // MS, "m": False}}

    rec = write_rec(tmp_path / "t.rec", [trade(T0 + i * MS, tid) for i, tid in enumerate([5, 6, 8, 9, 10, 14])])
    assert main(["import-recording", str(rec)]) == 0
    assert BronzeWriter().covered_ranges("raw_binance_trades", "BTCUSDT") == [(5, 6), (8, 10), (14, 14)]
    assert sorted(r["id"] for r in bronze(tmp_lake, "raw_binance_trades")) == [5, 6, 8, 9, 10, 14]


def test_sandbox_recordings_without_drops_rebuild_without_gaps(tmp_path: Path) -> None:
    recordings = pytest.importorskip("sandbox.recordings")
    import datetime as dt

    from sandbox.market import Market

    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    files = recordings.write_recordings(Market(7, start, start + dt.timedelta(seconds=30), ("BTC",)), tmp_path)
    for venue in ("binance", "coinbase", "kraken"):
        rows, counts = run([f for f in files if f.parts[-3] == venue], venue)
        assert counts.get("gaps", 0) == 0, venue
        updates = sum(1 for r in rows if r.table == f"raw_{venue}_depth_updates")
        applied = counts.get("diffs_applied", 0) + counts.get("updates_applied", 0)
        assert updates > 200 and applied == updates, venue  # every diff applied to a verified book
    assert counts["checksums_ok"] == counts["snapshots"] + counts["updates_applied"]  # kraken: every message
