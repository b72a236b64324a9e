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
