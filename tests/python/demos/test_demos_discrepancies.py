"""The discrepancy detector: pure assessment, live against the sandbox through the ingest connectors, and
over historical book snapshots from the lake."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from demos.discrepancy import Quote, assess, events
from demos.discrepancy_run import run_from_lake, run_live
from schemahub import duck
from schemahub.storage import Lake

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def q(venue: str, bid: float, ask: float, age_ms: int = 0) -> Quote:
    return Quote(venue, venue[:3].upper(), bid, ask, None, NOW - timedelta(milliseconds=age_ms))


def test_deviation_from_the_median_and_flags() -> None:
    rows, median = assess([q("binance", 99.99, 100.01), q("coinbase", 100.03, 100.05, 250),
                           q("kraken", 99.89, 99.91)], NOW, threshold_bp=5.0)
    assert median == pytest.approx(100.05 - 0.05)  # the middle venue's mid
    by = {r.venue: r for r in rows}
    assert by["binance"].deviation_bp == pytest.approx(0.0)
    assert by["coinbase"].deviation_bp == pytest.approx(4.0, abs=0.01) and not by["coinbase"].flagged
    assert by["kraken"].deviation_bp == pytest.approx(-10.0, abs=0.01) and by["kraken"].flagged
    assert by["coinbase"].staleness_ms == pytest.approx(250)
    evts = events(rows, median, NOW, "BTC", 5.0, "test", simulated=True)
    assert [e.venue for e in evts] == ["kraken"]


def test_a_crossed_book_is_an_error_naming_the_venue() -> None:
    with pytest.raises(ValueError, match=r"kraken .*crossed book"):
        assess([q("binance", 100, 100.1), q("kraken", 100.2, 100.1)], NOW, 5.0)


def test_live_against_the_sandbox_records_events(tmp_lake, monkeypatch) -> None:
    from sandbox.server import SandboxConfig, SandboxServer

    end = datetime.now(UTC).replace(microsecond=0)
    cfg = SandboxConfig(seed=11, start=end - timedelta(minutes=20), end=end + timedelta(minutes=10),
                        symbols=("BTC",), live=True)
    with SandboxServer(cfg, port=0) as sb:
        monkeypatch.setenv("SCHEMAHUB_EXCHANGE", "sandbox")
        monkeypatch.setenv("SCHEMAHUB_SANDBOX_URL", sb.url)
        summary = run_live("BTC", threshold_bp=0.01, interval=1.0, duration=2.5,
                           venues=["binance", "coinbase", "kraken"], console=Console(file=io.StringIO()))
    assert summary.steps >= 2 and not summary.errors, summary.errors
    assert summary.events >= summary.steps, "with a 0.01 bp threshold every poll must flag a venue"
    assert summary.files and all("/discrepancies/date=" in f for f in summary.files)
    lake = Lake(str(tmp_lake))
    files = lake.list_files("discrepancies", suffix=".parquet")
    con = duck.connect()
    rows = con.execute(f"select venue, deviation_bp, threshold_bp, simulated, source, venues_quoted "
                       f"from read_parquet('{tmp_lake}/discrepancies/*/*.parquet')").fetchall()
    assert len(files) >= 1 and len(rows) == summary.events
    assert all(abs(dev) > thr and sim and src.startswith("live:127.0.0.1") and n == 3
               for _, dev, thr, sim, src, n in rows)


def test_from_lake_walks_book_snapshots(demo_lake) -> None:
    summary = run_from_lake("BTC", threshold_bp=20.0, step=timedelta(milliseconds=500), since=None, until=None,
                            lake=demo_lake, console=Console(file=io.StringIO()))
    assert summary.steps > 300 and summary.events > 0
    assert summary.max_abs_deviation_bp > 20.0
    con = duck.connect()
    n, sims = con.execute(f"select count(*), bool_and(simulated) from "
                          f"read_parquet('{demo_lake.root}/discrepancies/*/*.parquet')").fetchone()
    assert n == summary.events and sims
