"""Bars built by dbt from REAL Kraken trades equal Kraken's own 1-minute OHLC for every interior minute.

The recorded /0/public/Trades page (1000 XBTUSDT trades) goes into a tmp bronze lake through BronzeWriter
exactly as the connector would store it (decimal strings, decimal-second times as text), the recorded
/0/public/OHLC page into raw_kraken_klines; dbt builds bars_1m and runs the klines reconciliation test.
Interior minutes: strictly inside a UTC day's trading span (the page's first and last minutes are partial).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.bronze.writer import BronzeWriter
from schemahub import duck

KRAKEN = "nautilus-kraken-rest"


def _load(path: Path) -> dict:
    # parse_float=Decimal keeps Kraken's float-second times digit for digit, like the connector does
    return json.loads(path.read_text(), parse_float=Decimal)


def test_bars_from_real_kraken_trades_equal_kraken_ohlc(real_data: Path, tmp_lake: Path, dbt_local) -> None:
    folder = real_data / KRAKEN
    if not (folder / "http_trades.json").exists() or not (folder / "http_ohlc.json").exists():
        pytest.skip(f"{folder} has no http_trades.json / http_ohlc.json")
    trades = _load(folder / "http_trades.json")["result"]["XBTUSDT"]
    ohlc = _load(folder / "http_ohlc.json")["result"]["XBTUSDT"]

    writer = BronzeWriter()
    trade_recs = [{"price": p, "volume": v, "time": str(t), "side": s, "ordertype": o, "misc": m, "trade_id": tid,
                   "_raw_payload": json.dumps([p, v, str(t), s, o, m, tid])} for p, v, t, s, o, m, tid in trades]
    writer.write("raw_kraken_trades", "XBTUSDT", writer.to_arrow(
        "raw_kraken_trades", trade_recs, source="kraken.rest.Trades", source_uri="recorded http_trades.json"))
    kline_recs = [{"interval": 1, "time": t, "open": o, "high": h, "low": lo, "close": c, "vwap": vw, "volume": vol,
                   "count": n, "_raw_payload": json.dumps([t, o, h, lo, c, vw, vol, n])}
                  for t, o, h, lo, c, vw, vol, n in ohlc]
    writer.write("raw_kraken_klines", "XBTUSDT", writer.to_arrow(
        "raw_kraken_klines", kline_recs, source="kraken.rest.OHLC", source_uri="recorded http_ohlc.json"))

    # bars_1m and its parents, plus the singular test that reconciles bars with the venue's klines
    dbt_local("build", "-s", "+bars_1m", "stg_binance__klines", "stg_coinbase__klines", "stg_kraken__klines",
              "assert_bars_match_venue_klines",
              "--indirect-selection", "cautious")

    con = duck.connect(str(dbt_local.duckdb_path), read_only=True)
    try:
        rows = con.execute(
            "select open_time, partition_date, open_price, high_price, low_price, close_price, volume, trade_count, "
            "vwap from bars_1m where exchange = 'kraken' and symbol = 'XBTUSDT' order by open_time").fetchall()
    finally:
        con.close()
    bars = {r[0] // 1000: r for r in rows}
    spans: dict[str, tuple[int, int]] = {}
    for r in rows:
        lo, hi = spans.get(r[1], (r[0], r[0]))
        spans[r[1]] = (min(lo, r[0]), max(hi, r[0]))
    interior = [k for k in ohlc if any(lo < int(k[0]) * 1000 < hi for lo, hi in spans.values())]
    assert len(interior) > 300, f"only {len(interior)} interior minutes: the recorded page is shorter than expected"
    for t, o, h, lo, c, vw, vol, n in interior:
        bar = bars.get(int(t))
        assert bar is not None, f"no bar for Kraken minute {t}"
        assert bar[2:6] == pytest.approx([float(o), float(h), float(lo), float(c)], rel=1e-12), t
        assert bar[6] == pytest.approx(float(vol), rel=1e-9, abs=1e-12), t
        assert bar[7] == n, t
        if n:
            assert bar[8] == pytest.approx(float(vw), rel=1e-6), t  # Kraken rounds its vwap to 1 decimal
