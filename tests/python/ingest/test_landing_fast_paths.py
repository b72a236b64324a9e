"""The fast paths of bronze landing give exactly what the straightforward code gave, and fail the same way.

raw_json (one C-level encoder call) against the recursive renderer; the dump checks (vectorised, regex only as
fallback) against bad values; pass 2 from pass 1's kept tables against a re-read; the writer's skip of
dedupe/sort for ordered batches against unordered ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from ingest.bronze.writer import BronzeWriter
from ingest.connectors.base import _raw_json_slow, raw_json
from ingest.dumps import DumpError, DumpFile, build_zip, land_zip
from ingest.http import decode_json
from schemahub.storage import Lake


@pytest.mark.parametrize("value", [
    Decimal("1.50"), Decimal("1E+5"), "s", 1, None, True, 1.5, [], {},
    {"a": Decimal("0.1"), "b": [1, "x", None, True, False, 1.5, Decimal("-0.0")]},
    ["\x00raw-decimal\x00", Decimal("2")],  # a string holding the marker: falls back, same text
    {"\x00raw-decimal\x00": Decimal("3")},
    {"é": "ü\u2028\x01", "q": '"\\/'},
    ("a", Decimal("7")),
    [[Decimal("1")], {"k": [Decimal("2"), {"z": None}]}],
])
def test_raw_json_matches_the_recursive_renderer(value: object) -> None:
    assert raw_json(value) == _raw_json_slow(value)


def test_raw_json_real_bodies_byte_identical(real_data: Path) -> None:
    bodies = sorted(real_data.rglob("*.json"))
    if not bodies:
        pytest.skip("no real JSON bodies")
    checked = 0
    for path in bodies:
        try:
            data = decode_json(path.read_text())
        except ValueError:
            continue
        items = data if isinstance(data, list) else [data]
        for item in items:
            assert raw_json(item) == _raw_json_slow(item), path.name
            checked += 1
    assert checked


def test_raw_json_unserialisable_still_raises() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        raw_json([object()])


# -- dumps -----------------------------------------------------------------------------------------
DAY = "2024-06-10"
T0 = 1717977600000  # 2024-06-10 00:00 UTC, ms


def _lines(n: int) -> list[str]:
    return [f"{100 + i},42000.{i:02d},0.5,{21000 + i}.25,{T0 + i * 1000},{'True' if i % 2 else 'False'},True"
            for i in range(n)]


def _land(tmp_path: Path, lines: list[str], **kw: int) -> tuple[Path, object]:
    dump = DumpFile("BTCUSDT", "trades", "daily", DAY)
    tmp_path.mkdir(parents=True, exist_ok=True)
    zp = tmp_path / dump.name
    zp.write_bytes(build_zip("\n".join(lines) + "\n", dump.name.replace(".zip", ".csv")))
    lake = tmp_path / "lake"
    res = land_zip(BronzeWriter(Lake(str(lake))), zp, dump, uri="file://x", checksum="ab" * 32, **kw)
    return lake, res


def _rows(lake: Path) -> list[dict]:
    return ds.dataset(str(lake / "bronze" / "raw_binance_trades"), format="parquet",
                      partitioning="hive").to_table().sort_by("id").to_pylist()


@pytest.mark.parametrize(("line", "column", "shown"), [
    ("5,1.,1,1,{t},True,True", "price", "'1.'"),
    ("5,.5,1,1,{t},True,True", "price", "'.5'"),
    ("5,1.2.3,1,1,{t},True,True", "price", "'1.2.3'"),
    ("5,1,1e3,1,{t},True,True", "qty", "'1e3'"),
    ("5,1,1,١,{t},True,True", "quote_qty", "'١'"),  # an Arabic-Indic digit is not a decimal digit here
    ("0x5,1,1,1,{t},True,True", "trade_id", "'0x5'"),
    ("+5,1,1,1,{t},True,True", "trade_id", "'+5'"),
    ("99999999999999999999,1,1,1,{t},True,True", "trade_id", "does not fit a 64-bit integer"),
    ("5,1,1,1,{t},TRUE,True", "is_buyer_maker", "'TRUE'"),
])
def test_bad_dump_value_names_line_and_column_and_writes_nothing(tmp_path: Path, line: str, column: str,
                                                                 shown: str) -> None:
    lines = _lines(6)
    lines[3] = line.format(t=T0 + 3000)
    with pytest.raises(DumpError) as err:
        _land(tmp_path, lines, batch_rows=2)
    msg = str(err.value)
    assert "line 4" in msg and repr(column) in msg and shown in msg
    assert not list(tmp_path.rglob("*.parquet"))


def test_negative_values_pass_through_the_regex_fallback(tmp_path: Path) -> None:
    lines = _lines(3)
    lines[1] = f"101,-1.5,0.5,-7,{T0 + 1000},True,True"  # the regexes allow a sign: the fast test defers to them
    lake, _ = _land(tmp_path, lines)
    assert [(r["price"], r["quoteQty"]) for r in _rows(lake)][1] == ("-1.5", "-7")


def test_kept_tables_and_reread_land_the_same_rows(tmp_path: Path) -> None:
    lines = _lines(23)
    kept_lake, kept = _land(tmp_path / "kept", lines, batch_rows=5)
    reread_lake, reread = _land(tmp_path / "reread", lines, batch_rows=5, keep_bytes=0)  # nothing fits: re-read
    assert kept.rows == reread.rows == 23 and kept.time_units == reread.time_units == {"ms": 23, "us": 0}
    drop = ("_source_ingest_ts",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in _rows(kept_lake)]
    b = [{k: v for k, v in r.items() if k not in drop} for r in _rows(reread_lake)]
    assert a == b and [r["_raw_payload"] for r in a] == lines
    assert len({r["_source_ingest_ts"] for r in _rows(reread_lake)}) == 1  # both passes share one ingest time


# -- writer ----------------------------------------------------------------------------------------
def _trades(ids: list[int], times: list[int]) -> pa.Table:
    recs = [{"id": i, "price": "1", "qty": "1", "quoteQty": "1", "time": t, "isBuyerMaker": True,
             "isBestMatch": True, "_raw_payload": f"{i}"} for i, t in zip(ids, times, strict=True)]
    return BronzeWriter.to_arrow("raw_binance_trades", recs, source="test",
                                 ingest_ts=dt.datetime(2024, 6, 10, tzinfo=dt.UTC))


@pytest.mark.parametrize("ids", [[1, 2, 3, 4], [4, 3, 2, 1], [2, 1, 3, 4], [1, 2, 2, 3, 4]])
def test_writer_sorts_and_dedupes_whatever_the_batch_order(tmp_path: Path, ids: list[int]) -> None:
    day2 = T0 + 86_400_000
    times = [T0 if i <= 2 else day2 for i in ids]  # ids 1-2 on one day, 3-4 on the next
    writer = BronzeWriter(Lake(str(tmp_path)))
    files = writer.write("raw_binance_trades", "BTCUSDT", _trades(ids, times))
    assert [(f.date, f.first_cursor, f.last_cursor, f.rows) for f in files] == [
        ("2024-06-10", 1, 2, 2), ("2024-06-11", 3, 4, 2)]
    assert [r["id"] for r in _rows(tmp_path)] == [1, 2, 3, 4]


def test_to_arrow_names_the_column_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="'id'"):
        BronzeWriter.to_arrow("raw_binance_trades", [{"id": "x", "_raw_payload": "{}"}], source="t")
    with pytest.raises(ValueError, match="without _raw_payload"):
        BronzeWriter.to_arrow("raw_binance_trades", [{"id": 1, "_raw_payload": None}], source="t")


def test_raw_json_from_many_threads_keeps_each_calls_decimals() -> None:
    from concurrent.futures import ThreadPoolExecutor

    rows = [[f"{i}.5", "0.1", Decimal(f"1762795433.{i:07d}"), "b", "l", "", i] for i in range(2000)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(raw_json, rows))
    assert got == [_raw_json_slow(r) for r in rows]


def test_trade_parsers_fast_path_and_field_checks_agree() -> None:
    from ingest.connectors import binance, coinbase
    from ingest.errors import ParseError

    good = {"id": 7, "price": "1.5", "qty": "2", "quoteQty": "3", "time": 1634942949263, "isBuyerMaker": True,
            "isBestMatch": False}
    [fast] = binance.parse_trades([good], "BTCUSDT")
    [slow] = binance.parse_trades([dict(good, id="7", qty=2)], "BTCUSDT")  # not the sent types: Fields converts
    assert (fast.id, fast.qty, fast.isBestMatch) == (slow.id, slow.qty, slow.isBestMatch) == (7, "2", False)
    for bad, field in ((dict(good, isBuyerMaker="true"), "isBuyerMaker"), (dict(good, price=""), "price"),
                       (dict(good, id=True), "id"), ({k: v for k, v in good.items() if k != "time"}, "time")):
        with pytest.raises(ParseError, match=f"'{field}'"):
            binance.parse_trades([bad], "BTCUSDT")
    cb = {"time": "2016-05-12T15:04:30.982824Z", "trade_id": 8408114, "price": "453.3", "size": "0.04",
          "side": "buy"}
    assert coinbase.parse_trades([cb], "BTC-USD")[0].raw_payload == _raw_json_slow(cb)
    for bad, field in ((dict(cb, side="BUY"), "side"), (dict(cb, trade_id=None), "trade_id")):
        with pytest.raises(ParseError, match=f"'{field}'"):
            coinbase.parse_trades([bad], "BTC-USD")
    with pytest.raises(ParseError, match="not ISO-8601"):
        coinbase.parse_trades([dict(cb, time="yesterday")], "BTC-USD")
