"""dbt build of staging + silver on a small bronze lake written through BronzeWriter, checked against the
ground truth independently of the SQL: trades, 1-minute bars, one-day rebuilds and empty windows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_bronze_fixture import Trade, binance_time_us, binance_trade, epoch_us, write_fixture_lake

from ingest.bronze.writer import BronzeWriter
from schemahub import duck

# Staging, silver and everything upstream (seeds); tests run only when all their parents are selected.
NOT_GOLD = ("path:models/staging", "+path:models/silver")



def query(con_path: Path, sql: str) -> list[tuple]:
    con = duck.connect(str(con_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def files_of(lake: Path, model: str) -> dict[str, tuple[int, bytes]]:
    root = lake / "silver" / model
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.parquet")}


def expected_bars(trades: list[Trade]) -> dict[int, tuple]:
    """Bars of one day's trades, computed here in Python: open, high, low, close, volume, count, buy count."""
    out: dict[int, list[Trade]] = defaultdict(list)
    for t in trades:
        out[int(t.ts.timestamp()) // 60 * 60_000].append(t)
    return {
        ms: (float(ts[0].price), float(max(t.price for t in ts)), float(min(t.price for t in ts)),
             float(ts[-1].price), float(sum(t.qty for t in ts)), len(ts), sum(t.taker_buys for t in ts))
        for ms, ts in out.items()
    }


def test_silver_build_rebuild_one_day_and_empty_window(tmp_lake: Path, dbt_local) -> None:
    writer = BronzeWriter()
    truth = write_fixture_lake(writer)
    # The same Binance page ingested again later (an overlapping page): trades_unified must not double it.
    dup = truth[("binance", "BTCUSDT")][:25]
    writer.write("raw_binance_trades", "BTCUSDT", writer.to_arrow(
        "raw_binance_trades", [binance_trade(t) for t in dup], source="binance.rest.historicalTrades",
        ingest_ts=dt.datetime(2025, 1, 1, 2, 0, tzinfo=dt.UTC), recv_ts=dt.datetime(2025, 1, 1, 2, 0, tzinfo=dt.UTC)))

    dbt_local("build", "-s", *NOT_GOLD, "--indirect-selection", "cautious")
    db = dbt_local.duckdb_path

    # trades_unified: every ground-truth trade exactly once, with the taker side and exact times
    got = {(r[0], r[1], r[2]): r[3:] for r in query(db, "select exchange, symbol, trade_id, side, price, quantity, "
                                                      "epoch_us(trade_ts) from trades_unified")}
    want = {(v, s, t.trade_id): ("BUY" if t.taker_buys else "SELL", float(t.price), float(t.qty),
                                 binance_time_us(t.ts) if v == "binance" else epoch_us(t.ts))
            for (v, s), ts in truth.items() for t in ts}
    assert got == want

    # bars_1m: every traded minute equals the bar computed here from the ground truth
    for (venue, symbol), trades in truth.items():
        rows = query(db, f"select open_time, open_price, high_price, low_price, close_price, volume, trade_count, "
                         f"buy_trade_count from bars_1m where exchange = '{venue}' and symbol = '{symbol}'")
        bars = {r[0]: r[1:] for r in rows if r[6] > 0}
        exp = expected_bars(trades)
        assert bars.keys() == exp.keys(), f"{venue} {symbol}: traded minutes differ"
        for ms, e in exp.items():
            assert bars[ms][:4] == pytest.approx(e[:4], rel=1e-12), (venue, symbol, ms)
            assert bars[ms][4] == pytest.approx(e[4], rel=1e-9)
            assert bars[ms][5:] == e[5:]
        # the quiet stretch inside the span is filled with flat zero-volume bars carrying the previous close
        empty = [r for r in rows if r[6] == 0]
        assert empty, f"{venue} {symbol}: the quiet minutes should be bars with trade_count 0"
        for r in empty:
            prev_close = max((b for b in rows if b[0] < r[0] and b[6] > 0), key=lambda b: b[0])[4]
            assert r[1] == r[2] == r[3] == r[4] == prev_close and r[5] == 0

    # book snapshots are timed by the venue's own time when it sends one (Coinbase: 40 ms before we received
    # it in the fixture), else by our receive time (Binance, Kraken)
    assert query(db, "select exchange, count(*) filter (where snapshot_ts = epoch_ms(recv_ts)), "
                     "count(*) filter (where snapshot_ts = epoch_ms(recv_ts) - 40), count(*) "
                     "from orderbook_snapshots group by 1 order by 1") == [
        ("binance", 192, 0, 192), ("coinbase", 0, 192, 192), ("kraken", 192, 0, 192)]

    # one-day rebuild: only the 2025-01-01 partitions are rewritten, the other day's files stay untouched
    models = ("trades_unified", "bars_1m", "orderbook_snapshots", "trades_agg")
    before = {m: files_of(tmp_lake, m) for m in models}
    counts = query(db, "select (select count(*) from trades_unified), (select count(*) from bars_1m), "
                       "(select count(*) from orderbook_snapshots), (select count(*) from trades_agg)")
    dbt_local("run", "-s", "path:models/silver", "--vars", "{start_date: '2025-01-01', end_date: '2025-01-01'}")
    after = {m: files_of(tmp_lake, m) for m in models}
    for m in models:
        assert before[m].keys() == after[m].keys(), m
        for name, (mtime, data) in before[m].items():
            if "2024-12-31" in name:
                assert after[m][name] == (mtime, data), f"{m}/{name} was rewritten by a 2025-01-01 build"
            else:
                assert after[m][name][0] != mtime, f"{m}/{name} was not rebuilt"
    assert query(db, "select (select count(*) from trades_unified), (select count(*) from bars_1m), "
                     "(select count(*) from orderbook_snapshots), (select count(*) from trades_agg)") == counts

    # a window without data writes nothing: no all-NULL row, no __HIVE_DEFAULT_PARTITION__, nothing lost
    dbt_local("run", "-s", "path:models/silver", "--vars", "{start_date: '2030-01-01', end_date: '2030-01-01'}")
    assert not list(tmp_lake.rglob("*__HIVE_DEFAULT_PARTITION__*"))
    assert {m: files_of(tmp_lake, m).keys() for m in models} == {m: after[m].keys() for m in models}
    assert query(db, "select count(*) from trades_unified where trade_date is null or trade_id is null") == [(0,)]


def test_trade_amounts_are_exact_decimals() -> None:
    """The fixture keeps venue decimal strings (guards the ground truth used above)."""
    rec = binance_trade(Trade(1, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), Decimal("93000.10"), Decimal("0.5"), True))
    assert rec["price"] == "93000.10000000" and rec["isBuyerMaker"] is False and rec["time"] == 1735689600000000
