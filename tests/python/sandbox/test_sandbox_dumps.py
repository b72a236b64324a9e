"""The simulated data.binance.vision: zips + .CHECKSUM, real column order, µs times from 2025-01-01, the
window's trades exactly, 404 outside the window."""

from __future__ import annotations

import hashlib
import io
import zipfile

import httpx
import pytest


@pytest.fixture(scope="module")
def sb(sandbox_server):
    return sandbox_server()


def _get(sb, path: str) -> httpx.Response:
    return httpx.get(f"{sb.base_url('binance-data')}/data/spot/{path}", timeout=10)


def _csv(resp: httpx.Response) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
        (name,) = zf.namelist()
        return [line.split(",") for line in zf.read(name).decode().splitlines()], name


def test_daily_trades_zip_and_checksum(sb) -> None:
    z = _get(sb, "daily/trades/BTCUSDT/BTCUSDT-trades-2025-12-31.zip")
    s = _get(sb, "daily/trades/BTCUSDT/BTCUSDT-trades-2025-12-31.zip.CHECKSUM")
    assert z.status_code == s.status_code == 200
    assert s.text == f"{hashlib.sha256(z.content).hexdigest()}  BTCUSDT-trades-2025-12-31.zip\n"
    rows, name = _csv(z)
    assert name == "BTCUSDT-trades-2025-12-31.csv"
    truth = sb.market.trades("binance", "BTCUSDT")
    assert [int(r[0]) for r in rows] == truth["trade_id"].to_pylist()
    assert [int(r[4]) for r in rows] == [t // 1000 for t in truth["time_ns"].to_pylist()]  # µs (2025+)
    assert all(len(r) == 7 and r[5] in ("True", "False") and r[6] == "True" for r in rows)
    assert _get(sb, "daily/trades/BTCUSDT/BTCUSDT-trades-2025-12-31.zip").content == z.content


def test_zips_are_byte_identical_across_servers(sb, sandbox_server) -> None:
    other = sandbox_server()
    path = "daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-12-31.zip"
    assert _get(other, path).content == _get(sb, path).content


def test_agg_trades_and_klines(sb) -> None:
    rows, _ = _csv(_get(sb, "daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2025-12-31.zip"))
    assert all(len(r) == 8 for r in rows) and int(rows[0][3]) <= int(rows[0][4])
    k, _ = _csv(_get(sb, "daily/klines/ETHUSDT/1m/ETHUSDT-1m-2025-12-31.zip"))
    assert len(k) == 30 and all(len(r) == 12 for r in k)
    assert int(k[0][6]) == int(k[0][0]) + 60_000_000 - 1 and len(k[0][0]) == 16  # µs


def test_not_found_outside_the_window(sb) -> None:
    assert _get(sb, "daily/trades/BTCUSDT/BTCUSDT-trades-2025-11-30.zip").status_code == 404
    assert _get(sb, "daily/trades/DOGEUSDT/DOGEUSDT-trades-2025-12-31.zip").status_code == 404
    assert _get(sb, "daily/klines/BTCUSDT/7m/BTCUSDT-7m-2025-12-31.zip").status_code == 404
    assert _get(sb, "monthly/trades/BTCUSDT/BTCUSDT-trades-2025-12.zip").status_code == 200
