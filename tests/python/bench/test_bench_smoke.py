"""Smoke test: the benchmark code runs end to end on a tiny size (no timing assertions: speed claims come only
from `python -m bench.run`, see BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import landing, report
from bench.floor import topo_models
from bench.machine import describe


def test_machine_description_has_cores_and_memory() -> None:
    m = describe()
    assert m["cores"] >= 1
    assert m["mem_total_gib"] is None or m["mem_total_gib"] > 0


def test_landing_runs_on_a_tiny_window(tmp_path: Path) -> None:
    res = landing.run(tmp_path / "landing", hours=0.05, repeats=1)
    for venue in ("binance", "coinbase", "kraken"):
        v = res["rest"][venue]
        assert v["records"] > 0 and v["pages"] >= 1
        assert v["seconds"] > 0 and v["floor_seconds"] > 0
        # the engine wrote every record into bronze
        files = list((tmp_path / "landing" / f"lake_rest_{venue}_0" / "bronze").rglob("*.parquet"))
        assert files
    assert res["dump"]["records"] > 0


def test_topological_order_puts_dependencies_first() -> None:
    manifest = {"nodes": {
        "model.p.c": {"resource_type": "model", "depends_on": {"nodes": ["model.p.b"]}},
        "model.p.b": {"resource_type": "model", "depends_on": {"nodes": ["model.p.a", "seed.p.s"]}},
        "model.p.a": {"resource_type": "model", "depends_on": {"nodes": []}},
        "test.p.t": {"resource_type": "test", "depends_on": {"nodes": ["model.p.c"]}},
    }}
    order = [n for n in topo_models(manifest)]
    keys = [k for o in order for k, v in manifest["nodes"].items() if v is o]
    assert keys == ["model.p.a", "model.p.b", "model.p.c"]


def test_report_renders_a_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    res = {"size": "small", "command": "python -m bench.run --size small", "started": "2026-01-01T00:00:00",
           "total_seconds": 1.0, "errors": {}, "machine": describe() | {"loadavg_at_end": [1.0, 1.0, 1.0]},
           "landing": landing.run(tmp_path / "landing", hours=0.02, repeats=1)}
    (results / "small.json").write_text(json.dumps(res))
    out = tmp_path / "BENCHMARKS.md"
    report.write_report(results, out, notes=tmp_path / "none.md")
    text = out.read_text()
    assert "Size `small`" in text and "Binance dump zip" in text


def test_binance_steady_rate_counts_only_whole_server_windows() -> None:
    from bench.backfill import steady_rate

    # a run from 30 s into a minute to 150 s: only [60, 120) is a whole window; the burst at 31 s (a fresh
    # window's budget spent at once) and the pages after 120 s do not count
    pages = [(31.0, 50_000), (61.0, 1000), (119.0, 1000), (121.0, 9000)]
    rate, span = steady_rate("binance", pages, 30.0, 150.0)
    assert span == 60.0 and rate == 2000 / 60
    assert steady_rate("binance", pages, 30.0, 100.0) == (None, 0.0)  # no whole window: no steady figure
    # token buckets: the first 5 s (the full bucket) are left out
    rate, span = steady_rate("coinbase", [(1.0, 5000), (6.0, 1000), (9.0, 1000)], 0.0, 10.0)
    assert span == 5.0 and rate == 400.0


def test_report_renders_backfill_and_scaling(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    venue = {"trades": 10, "trades_per_s": 1.0, "share_of_ceiling": 0.5, "steady_trades_per_s": 2.0,
             "steady_seconds": 60.0, "steady_share_of_ceiling": 0.93, "ceiling_trades_per_s": 4000.0,
             "client_budget_trades_per_s": 3800.0, "seconds_to_first_trade": 0.1, "by_status": {"200": 3},
             "throttles": {}, "error": None}
    for size, trades, secs in (("small", 1_000_000, 50.0), ("large", 10_000_000, 480.0)):
        res = {"size": size, "command": f"python -m bench.run --size {size}", "started": "2026-01-01T00:00:00",
               "total_seconds": 1.0, "errors": {}, "machine": describe() | {"loadavg_at_end": [1.0, 1.0, 1.0]},
               "data": {"trades": trades, "days": 1, "trades_by_venue_asset": {"binance.BTC": trades}, "reused": True},
               "backfill": {"seconds_per_venue": 25, "venues": {"binance": venue}},
               "dbt": {"build_e2e": {"seconds": secs, "peak_rss_mib": 100.0}}}
        (results / f"{size}.json").write_text(json.dumps(res))
    out = tmp_path / "BENCHMARKS.md"
    report.write_report(results, out, notes=tmp_path / "none.md")
    text = out.read_text()
    assert "| 93% |" in text  # the steady share is what the target is judged on
    assert "| small | 1,000,000 | 1 | n/a | 50.0 |" in text and "| large | 10,000,000 | 1 | n/a | 48.0 |" in text


def test_proc_run_sees_a_folder_that_fills_and_empties(tmp_path: Path) -> None:
    import sys

    from bench import proc

    spill = tmp_path / "spill"
    spill.mkdir()
    # like DuckDB's spill files: written during the run, gone at the end
    code = (f"import pathlib, time; p = pathlib.Path(r'{spill}') / 'x.tmp'; p.write_bytes(b'0' * 3 * 2**20); "
            "time.sleep(1.6); p.unlink()")
    run = proc.run("spill", [sys.executable, "-c", code], watch=spill)
    assert run.returncode == 0 and not any(spill.iterdir())
    assert 2.9 < run.watched_peak_mib < 3.1


def test_floor_counts_data_test_failures_like_dbt() -> None:
    import duckdb

    from bench.floor import run_tests

    con = duckdb.connect()
    con.execute("create table t as select * from range(5) r(x)")
    manifest = {"nodes": {
        "test.p.passes": {"resource_type": "test", "depends_on": {"nodes": ["model.p.t"]},
                          "compiled_code": "select x from t where x < 0 -- a trailing comment"},
        "test.p.fails": {"resource_type": "test", "depends_on": {"nodes": ["model.p.t"]},
                         "compiled_code": "select x from t where x > 2"},
        "test.p.other": {"resource_type": "test", "depends_on": {"nodes": ["model.p.not_built"]},
                         "compiled_code": "select * from missing_table"},
    }}
    assert run_tests(con, manifest, {"model.p.t"}) == (2, 1)  # a test on a model not built is not run
