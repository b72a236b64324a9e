"""Binance bulk dumps against a local HTTP server (127.0.0.1) serving zips these tests build."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from ingest.dumps import (
    DumpError,
    DumpFile,
    build_zip,
    has_header,
    parse_checksum,
    period_range,
)
from schemahub.cli import main


@dataclass
class DumpSite:
    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, dump: DumpFile, csv_text: str, *, checksum: str | None = None, raw: bytes | None = None,
                with_checksum: bool = True) -> str:
        body = raw if raw is not None else build_zip(csv_text, dump.name.replace(".zip", ".csv"))
        self.files["/" + dump.path] = body
        digest = checksum or hashlib.sha256(body).hexdigest()
        if with_checksum:
            self.files["/" + dump.path + ".CHECKSUM"] = f"{digest}  {dump.name}\n".encode()
        return digest


@pytest.fixture
def dump_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[DumpSite]:
    site = DumpSite(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            body = site.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Type", "application/xml")
                payload = b"<Error><Code>NoSuchKey</Code></Error>"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("SCHEMAHUB_BINANCE_DUMPS_URL", site.url)
    monkeypatch.setenv("SCHEMAHUB_HTTP_ATTEMPTS", "2")
    monkeypatch.setenv("SCHEMAHUB_HTTP_BACKOFF_BASE", "0.01")
    yield site
    server.shutdown()
    server.server_close()


def trades_csv(first_id: int, start: int, n: int, step: int) -> str:
    lines = []
    for i in range(n):
        maker = "True" if i % 2 else "False"
        lines.append(f"{first_id + i},42000.{i:02d}000000,0.00{i + 1}00000,{42 * (i + 1)}.00420000,"
                     f"{start + i * step},{maker},True")
    return "\n".join(lines) + "\n"


def bronze(lake: Path, table: str) -> list[dict]:
    root = lake / "bronze" / table
    if not root.exists():
        return []
    return ds.dataset(str(root), format="parquet", partitioning="hive").to_table().to_pylist()


def test_daily_trades_ms_and_us_land_with_lineage(tmp_lake: Path, dump_site: DumpSite, capsys) -> None:
    d_ms = DumpFile("BTCUSDT", "trades", "daily", "2024-12-31")
    d_us = DumpFile("BTCUSDT", "trades", "daily", "2025-01-01")
    sum_ms = dump_site.publish(d_ms, trades_csv(100, 1735689599000 - 5000, 5, 1000))  # ms, 2024-12-31 23:59:5x
    sum_us = dump_site.publish(d_us, trades_csv(105, 1735689600010866, 4, 1_000_000))  # µs, 2025-01-01
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-12-31..2025-01-01"]) == 0
    rows = sorted(bronze(tmp_lake, "raw_binance_trades"), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(100, 109))
    by_id = {r["id"]: r for r in rows}
    # native ints kept: 13-digit ms before 2025, 16-digit µs after; partitioned per value
    assert by_id[100]["time"] == 1735689594000 and by_id[105]["time"] == 1735689600010866
    assert {r["date"] for r in rows if r["id"] < 105} == {"2024-12-31"}
    assert {r["date"] for r in rows if r["id"] >= 105} == {"2025-01-01"}
    assert by_id[101]["isBuyerMaker"] is True and by_id[100]["isBuyerMaker"] is False
    assert by_id[100]["price"] == "42000.00000000" and by_id[100]["quoteQty"] == "42.00420000"
    assert by_id[100]["_source_checksum"] == sum_ms and by_id[105]["_source_checksum"] == sum_us
    assert by_id[105]["_source_uri"] == f"{dump_site.url}/{d_us.path}"
    assert by_id[100]["_source"] == "binance.dump.trades" and by_id[100]["_recv_ts"] is None
    assert by_id[100]["_raw_payload"] == trades_csv(100, 1735689594000, 1, 1000).strip()
    out = capsys.readouterr().out
    assert "5 ms" in out and "4 us" in out


def test_checksum_mismatch_is_refused_and_nothing_written(tmp_lake: Path, dump_site: DumpSite, capsys) -> None:
    d = DumpFile("BTCUSDT", "trades", "daily", "2024-06-01")
    dump_site.publish(d, trades_csv(1, 1717200000000, 3, 10), checksum="0" * 64)
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-01"]) == 1
    err = capsys.readouterr().err
    assert "sha256 mismatch" in err and d.name in err
    assert not list(tmp_lake.rglob("*.parquet"))


def test_monthly_aggtrades_with_header_and_klines_in_us(tmp_lake: Path, dump_site: DumpSite) -> None:
    agg = DumpFile("ETHUSDT", "aggTrades", "monthly", "2024-11")
    header = "agg_trade_id,price,qty,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match\n"
    body = "".join(f"{7 + i},3100.5,0.1,{70 + 2 * i},{71 + 2 * i},{1730419200000 + i},true,True\n" for i in range(3))
    dump_site.publish(agg, header + body)
    assert main(["dumps", "--symbol", "ETHUSDT", "--kind", "aggTrades", "--monthly", "2024-11"]) == 0
    rows = sorted(bronze(tmp_lake, "raw_binance_aggtrades"), key=lambda r: r["a"])
    assert [(r["a"], r["f"], r["l"], r["m"]) for r in rows] == [(7, 70, 71, True), (8, 72, 73, True),
                                                                (9, 74, 75, True)]
    kl = DumpFile("BTCUSDT", "klines", "monthly", "2025-01", "1d")
    line = ("1735689600000000,93576.00,95151.15,92888.00,94591.79,10373.32,1735775999999999,975000000.1,"
            "1500000,5000.1,470000000.2,0\n")
    dump_site.publish(kl, line)
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "klines", "--interval", "1d", "--monthly",
                 "2025-01"]) == 0
    [k] = bronze(tmp_lake, "raw_binance_klines")
    assert (k["interval"], k["openTime"], k["closeTime"], k["trades"], k["date"]) == (
        "1d", 1735689600000000, 1735775999999999, 1500000, "2025-01-01")


def test_missing_day_is_skipped_or_fails_per_flag(tmp_lake: Path, dump_site: DumpSite, capsys) -> None:
    d = DumpFile("BTCUSDT", "trades", "daily", "2024-06-02")
    dump_site.publish(d, trades_csv(10, 1717286400000, 2, 10))
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-01..2024-06-02"]) == 0
    captured = capsys.readouterr()
    assert "BTCUSDT-trades-2024-06-01.zip: no file published" in captured.err
    assert "1 missing" in captured.out
    assert len(bronze(tmp_lake, "raw_binance_trades")) == 2
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-01",
                 "--on-missing", "fail"]) == 1


def test_corrupt_zip_and_bad_line_name_the_problem_and_write_nothing(tmp_lake: Path, dump_site: DumpSite,
                                                                      capsys) -> None:
    d = DumpFile("BTCUSDT", "trades", "daily", "2024-06-03")
    dump_site.publish(d, "", raw=b"PK\x03\x04 this is not a zip")
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-03"]) == 1
    assert "corrupt zip" in capsys.readouterr().err

    d2 = DumpFile("BTCUSDT", "trades", "daily", "2024-06-04")
    lines = trades_csv(1, 1717459200000, 6, 10).splitlines()
    lines[4] = lines[4].replace(",True", ",maybe", 1).replace(",False", ",maybe", 1)
    dump_site.publish(d2, "\n".join(lines) + "\n")
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-04",
                 "--batch-rows", "2"]) == 1
    err = capsys.readouterr().err
    assert "line 5" in err and "is_buyer_maker" in err and "maybe" in err
    assert not list(tmp_lake.rglob("*.parquet"))  # earlier good batches were not written either


def test_time_neither_ms_nor_us_is_rejected(tmp_lake: Path, dump_site: DumpSite, capsys) -> None:
    d = DumpFile("BTCUSDT", "trades", "daily", "2024-06-05")
    dump_site.publish(d, "1,1.0,1.0,1.0,1717545600,True,True\n")  # seconds: 10 digits
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-05"]) == 1
    assert "neither epoch ms" in capsys.readouterr().err


def test_streamed_batches_are_complete_and_rerun_is_idempotent(tmp_lake: Path, dump_site: DumpSite) -> None:
    d = DumpFile("BTCUSDT", "trades", "daily", "2024-06-06")
    dump_site.publish(d, trades_csv(1000, 1717632000000, 23, 7))
    args = ["dumps", "--symbol", "BTCUSDT", "--kind", "trades", "--daily", "2024-06-06", "--batch-rows", "5"]
    assert main(args) == 0
    files = sorted(p.name for p in tmp_lake.rglob("*.parquet"))
    assert len(files) == 5  # 23 rows in batches of 5
    assert main(args) == 0
    assert sorted(p.name for p in tmp_lake.rglob("*.parquet")) == files
    assert sorted(r["id"] for r in bronze(tmp_lake, "raw_binance_trades")) == list(range(1000, 1023))


def test_planning_and_checksum_helpers() -> None:
    assert period_range("2024-12-30..2025-01-02", "daily") == ["2024-12-30", "2024-12-31", "2025-01-01",
                                                                "2025-01-02"]
    assert period_range("2024-11..2025-02", "monthly") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    with pytest.raises(DumpError, match="end before start"):
        period_range("2025-01-02..2025-01-01", "daily")
    with pytest.raises(DumpError, match="bad date"):
        period_range("2025-13-01", "daily")
    assert parse_checksum("AB" * 32 + "  X.zip\n", "X.zip") == "ab" * 32
    with pytest.raises(DumpError, match="names another file"):
        parse_checksum("ab" * 32 + "  Y.zip", "X.zip")
    assert has_header("agg_trade_id,price") and not has_header("123,4.5")
    with pytest.raises(DumpError, match="--interval"):
        DumpFile("BTCUSDT", "klines", "daily", "2024-01-01", "1w")
    assert DumpFile("BTCUSDT", "klines", "daily", "2024-01-01", "1m").path == \
        "data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip"


def test_real_klines_dump_prefix(tmp_lake: Path, dump_site: DumpSite, real_data: Path) -> None:
    """A real data.binance.vision spot klines CSV (first 10 minutes of ADABTC 1m, 2021-11-27), zipped here."""
    csv_path = real_data / "nautilus-binance-ticks" / "ADABTC-1m-2021-11-27.csv"
    if not csv_path.exists():
        pytest.skip("real klines dump sample absent")
    text = csv_path.read_text()
    d = DumpFile("ADABTC", "klines", "daily", "2021-11-27", "1m")
    dump_site.publish(d, text)
    assert main(["dumps", "--symbol", "ADABTC", "--kind", "klines", "--interval", "1m", "--daily",
                 "2021-11-27"]) == 0
    rows = sorted(bronze(tmp_lake, "raw_binance_klines"), key=lambda r: r["openTime"])
    assert len(rows) == 10 and {r["date"] for r in rows} == {"2021-11-27"}
    assert rows[0]["openTime"] == 1637971200000 and rows[0]["closeTime"] == 1637971259999
    assert (rows[0]["open"], rows[0]["trades"], rows[0]["takerBuyQuoteVolume"]) == ("0.00002853", 79, "0.55694227")
    assert all(b["openTime"] - a["openTime"] == 60_000 for a, b in itertools.pairwise(rows))
    assert [r["_raw_payload"] for r in rows] == text.strip().splitlines()


def test_dump_lands_on_s3_lake_and_refusal_writes_nothing_there(s3_lake: str, dump_site: DumpSite) -> None:
    import pyarrow.parquet as pq

    from schemahub.storage import Lake

    good = DumpFile("BTCUSDT", "aggTrades", "daily", "2025-01-02")
    bad = DumpFile("BTCUSDT", "aggTrades", "daily", "2025-01-03")
    line = "{a},100.5,0.2,{f},{f},{t},False,True\n"
    dump_site.publish(good, "".join(line.format(a=i, f=10 + i, t=1735776000000000 + i) for i in range(4)))
    dump_site.publish(bad, line.format(a=9, f=19, t=1735862400000000), checksum="f" * 64)
    assert main(["dumps", "--symbol", "BTCUSDT", "--kind", "aggTrades", "--daily", "2025-01-02..2025-01-03"]) == 1
    lake = Lake.from_env()
    files = lake.list_files("bronze", suffix=".parquet")
    assert files == ["bronze/raw_binance_aggtrades/symbol=BTCUSDT/date=2025-01-02/binance.dump.aggTrades__0__3.parquet"]
    with lake.fs.open_input_file(lake.fs_path(files[0])) as fh:
        tbl = pq.read_table(fh)
    assert tbl.column("T").to_pylist() == [1735776000000000 + i for i in range(4)]
