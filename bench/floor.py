"""The raw-DuckDB floor of `dbt build`: the SQL dbt compiled, run directly in one DuckDB session.

`python -m bench.floor MANIFEST DUCKDB_FILE LAKE_ROOT [--layers staging,silver,gold] --out times.json`

It does what the project's materializations must do and nothing else: bronze views over the Parquet files
(like macros/register_bronze_sources.sql), staging models as views, silver/gold models as a table written with
the same COPY (zstd, partitioned by the same column) and a view over the written files (like
macros/materializations/lake_partitioned.sql and gold_versioned.sql). It skips what dbt adds around that:
Jinja rendering, the manifest, the per-model null/row-count checks, column introspection and logging. With
`--with-tests` it then runs every compiled data test the way dbt counts failures (`select count(*) from (<test
SQL>)`), so the floor of `dbt build` holds the same queries as the build; dbt's 15 unit tests (fixture rows, no
lake data) are left out of the floor. The DuckDB file must already hold the seeds (`dbt seed` into it), so
neither side times them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

LAYERS = ("staging", "silver", "gold")


def _layer(node: dict[str, Any]) -> str:
    fqn = node["fqn"]
    return fqn[1] if len(fqn) > 2 else "silver"


def topo_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Model nodes in dependency order."""
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    done: set[str] = set()
    order: list[dict[str, Any]] = []

    def visit(key: str) -> None:
        if key in done:
            return
        done.add(key)
        for dep in nodes[key]["depends_on"]["nodes"]:
            if dep in nodes:
                visit(dep)
        order.append(nodes[key])

    for key in sorted(nodes):
        visit(key)
    return order


def bronze_views(con: Any, manifest: dict[str, Any], lake: str) -> None:
    con.execute("create schema if not exists bronze")
    for src in manifest["sources"].values():
        if src["source_name"] != "bronze":
            continue
        glob = f"{lake}/bronze/{src['name']}/*/*/*.parquet"
        cols = list(src["columns"].values())
        n = con.execute(f"select count(*) from glob('{glob}')").fetchone()[0]
        if n:
            sel = ", ".join(f'cast("{c["name"]}" as {c["data_type"]}) as "{c["name"]}"' for c in cols)
            sql = (f"select {sel} from read_parquet('{glob}', hive_partitioning = true, "
                   "hive_types = {'symbol': varchar, 'date': date}, union_by_name = true)")
        else:
            sql = "select " + ", ".join(f'cast(null as {c["data_type"]}) as "{c["name"]}"' for c in cols) + \
                " where false"
        con.execute(f'create or replace view bronze."{src["name"]}" as {sql}')


def build_model(con: Any, node: dict[str, Any], lake: str) -> None:
    name = node["alias"] or node["name"]
    sql = node["compiled_code"]
    cfg = node["config"]
    mat = cfg["materialized"]
    rel = f'"main"."{name}"'
    if mat == "view":
        con.execute(f"create or replace view {rel} as {sql}")
        return
    if mat == "table":
        con.execute(f"create or replace table {rel} as {sql}")
        return
    tmp = f'"main"."{name}__floor_tmp"'
    con.execute(f"create or replace table {tmp} as {sql}")
    part = cfg.get("partition_by")
    layer = _layer(node)
    location = cfg.get("location") or f"{lake}/{layer}/{name}"
    con.execute(f"drop view if exists {rel}")
    if mat == "gold_versioned":
        vcol = cfg["version_column"]
        version = con.execute(f"select any_value({vcol}) from {tmp}").fetchone()[0]
        if version is not None:
            Path(location, f"{vcol}={version}").mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * exclude ({vcol}) from {tmp}) to '{location}/{vcol}={version}' "
                        f"(format parquet, compression zstd, partition_by ({part}), overwrite true, "
                        "filename_pattern 'data_{i}')")
        glob, hive = f"{location}/*/*/*.parquet", f"{{'{vcol}': varchar, '{part}': varchar}}"
    else:
        con.execute(f"copy (select * from {tmp}) to '{location}' (format parquet, compression zstd, "
                    f"partition_by ({part}), overwrite true, filename_pattern 'data_{{i}}')")
        ptype = con.execute(f"select data_type from information_schema.columns where table_name = "
                            f"'{name}__floor_tmp' and column_name = '{part}'").fetchone()[0]
        glob, hive = f"{location}/*/*.parquet", f"{{'{part}': {ptype}}}"
    cols = [r[0] for r in con.execute(f"describe {tmp}").fetchall()]
    sel = ", ".join(f'"{c}"' for c in cols)
    con.execute(f"create or replace view {rel} as select {sel} from read_parquet('{glob}', hive_partitioning = "
                f"true, hive_types = {hive}, union_by_name = true)")
    con.execute(f"drop table {tmp}")


def run_tests(con: Any, manifest: dict[str, Any], built: set[str]) -> tuple[int, int]:
    """Every compiled data test on the models built, as dbt counts failures; (tests run, tests failing)."""
    ran = failing = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("compiled_code"):
            continue
        if not {d for d in node["depends_on"]["nodes"] if d.startswith("model.")} <= built:
            continue
        failures = con.execute(f"select count(*) from (\n{node['compiled_code']}\n) as dbt_internal_test").fetchone()[0]
        ran += 1
        failing += failures > 0
    return ran, failing


def run(manifest_path: Path, db: Path, lake: str, layers: tuple[str, ...], threads: int,
        with_tests: bool = False) -> dict[str, float]:
    from schemahub import duck

    manifest = json.loads(manifest_path.read_text())
    catalogs = {n["database"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    if catalogs != {db.stem}:
        raise SystemExit(f"{manifest_path}: the compiled SQL names catalog(s) {sorted(catalogs)}; the floor's "
                         f"DuckDB file must be named after it, not {db.name}")
    con = duck.connect(str(db))
    # the same memory ceiling and spill folder as the dbt profile (profiles.yml reads the same variables)
    con.execute(f"set temp_directory = '{os.environ.get('SCHEMAHUB_DUCKDB_TEMP_DIR', 'target/duckdb_spill')}'")
    con.execute(f"set memory_limit = '{os.environ.get('SCHEMAHUB_DUCKDB_MEMORY_LIMIT', '4GB')}'")
    if threads:
        con.execute(f"set threads = {threads}")
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    bronze_views(con, manifest, lake)
    times["bronze_views"] = time.perf_counter() - t0
    built: set[str] = set()
    for node in topo_models(manifest):
        layer = _layer(node)
        if layer not in layers:
            continue
        t = time.perf_counter()
        build_model(con, node, lake)
        times[f"{layer}.{node['name']}"] = time.perf_counter() - t
        built.add(node["unique_id"])
    if with_tests:
        t = time.perf_counter()
        ran, failing = run_tests(con, manifest, built)
        times["tests.data_tests"] = time.perf_counter() - t
        times["tests.count"], times["tests.failing"] = ran, failing
    con.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("manifest", type=Path)
    ap.add_argument("db", type=Path)
    ap.add_argument("lake")
    ap.add_argument("--layers", default=",".join(LAYERS))
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = DuckDB's default, as dbt)")
    ap.add_argument("--with-tests", action="store_true", help="then run every compiled data test (floor of dbt build)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    times = run(args.manifest, args.db, args.lake, tuple(args.layers.split(",")), args.threads, args.with_tests)
    args.out.write_text(json.dumps(times, indent=1))


if __name__ == "__main__":
    main()
