"""`python -m bench.run --size small|medium|large` : every SchemaHub benchmark, written to BENCHMARKS.md and
bench/results/<size>.json. Each figure is a ratio against a floor measured in the same run, with the command
and the machine. Work files go to `target/bench/<size>/` (or --work); nothing outside it and bench/ is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import machine, proc
from bench.data import window
from bench.dbt import DbtEnv, floor, manifest_path
from schemahub import config

# Window length in days per size (SIMULATED market: ~1.48 M trades per day across Binance, Coinbase, Kraken x
# BTC, ETH at seed 7). Whole UTC days, because silver/gold partitions (and the incremental build) are dates.
SIZES: dict[str, dict[str, float]] = {
    "tiny": {"days": 1 / 24, "landing_hours": 0.25, "backfill_s": 3},  # smoke test only
    # 4 hours across midnight: two UTC dates (2 h each) for the incremental step, in minutes rather than hours
    "twodates": {"days": 4 / 24, "offset_days": -2 / 24, "landing_hours": 0.25, "backfill_s": 3},
    "small": {"days": 1, "landing_hours": 6, "backfill_s": 25},  # ~1.5 M trades
    "medium": {"days": 2, "landing_hours": 6, "backfill_s": 25},  # ~3.0 M
    "large": {"days": 7, "landing_hours": 12, "backfill_s": 25},  # ~10.4 M
}
DBT_PARTS = ("layers", "run", "floor", "build", "floor_build")
STEPS = ("data", "landing", "backfill", "dbt", "incremental", "train", "pandas", "memlimit")
PY = sys.executable


def _run_child(name: str, module: str, args: list[str], work: Path, **kw: Any) -> proc.Run:
    (work / "logs").mkdir(parents=True, exist_ok=True)
    return proc.run(name, [PY, "-m", module, *args], cwd=config.PROJECT_ROOT, log=work / "logs" / f"{name}.log",
                    **kw)


def _r(run: proc.Run) -> dict[str, Any]:
    return {"seconds": round(run.seconds, 2), "peak_rss_mib": round(run.peak_rss_mib, 1)}


def step_data(size: dict[str, float], work: Path, lake: Path, res: dict[str, Any]) -> None:
    counts = work / "trade_counts.json"
    if lake.exists() and counts.exists():
        res["data"] = {"reused": True, "trades_by_venue_asset": json.loads(counts.read_text())}
    else:
        shutil.rmtree(lake, ignore_errors=True)
        run = _run_child("data", "bench.data", [str(lake), str(size["days"]), "--offset-days",
                                                str(size.get("offset_days", 0.0)), "--counts-json", str(counts)], work)
        res["data"] = {**_r(run), "reused": False, "trades_by_venue_asset": json.loads(counts.read_text())}
    res["data"]["trades"] = sum(res["data"]["trades_by_venue_asset"].values())
    res["data"]["days"] = size["days"]
    res["data"]["window"] = [t.isoformat() for t in window(size["days"], size.get("offset_days", 0.0))]


def step_landing(size: dict[str, float], work: Path, res: dict[str, Any]) -> None:
    out = work / "landing.json"
    shutil.rmtree(work / "landing", ignore_errors=True)
    run = _run_child("landing", "bench.landing", [str(work / "landing"), "--hours", str(size["landing_hours"]),
                                                  "--out", str(out)], work)
    res["landing"] = {**json.loads(out.read_text()), "child": _r(run)}


def step_backfill(size: dict[str, float], work: Path, res: dict[str, Any]) -> None:
    out = work / "backfill.json"
    shutil.rmtree(work / "backfill", ignore_errors=True)
    _run_child("backfill", "bench.backfill", [str(work / "backfill"), "--seconds", str(size["backfill_s"]),
                                              "--out", str(out)], work)
    res["backfill"] = json.loads(out.read_text())


def _layer_times(times: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, secs in times.items():
        if key in ("tests.count", "tests.failing"):
            continue
        layer = key.split(".")[0]
        out[layer] = out.get(layer, 0.0) + secs
    return {k: round(v, 2) for k, v in out.items()}


def step_dbt(env: DbtEnv, res: dict[str, Any], parts: tuple[str, ...] = DBT_PARTS) -> None:
    d: dict[str, Any] = {"parts": list(parts)}
    res["dbt"] = d  # filled as we go, so a failing scenario keeps the ones before it
    if "floor" in parts or "floor_build" in parts:
        compile_db = env.fresh_db("compile")
        d["compile"] = _r(env.dbt("dbt_compile", compile_db, "compile"))
        # keep this manifest: later dbt calls overwrite target/manifest.json
        shutil.copyfile(manifest_path(env), env.work / "compiled_manifest.json")
    if "layers" in parts:  # per layer, models only (dbt run), each layer on top of the previous one
        env.clear_outputs()
        db = env.fresh_db("layers")
        d["layers"] = {}
        for layer, sel in (("staging", "models/staging"), ("silver", "models/silver"), ("gold", "models/gold")):
            d["layers"][layer] = _r(env.dbt(f"dbt_run_{layer}", db, "run", "--select", sel))
    if "run" in parts:  # end to end, models only (`dbt run`): the like-for-like of the floor
        env.clear_outputs()
        d["run_e2e"] = _r(env.dbt("dbt_run_e2e", env.fresh_db("run_e2e"), "run"))
    if "floor" in parts:  # the compiled SQL in one DuckDB session
        env.clear_outputs()
        run, times = floor(env, "floor_e2e", env.fresh_db("floor"), "staging,silver,gold")
        d["floor_e2e"] = {**_r(run), "models": {k: round(v, 2) for k, v in times.items()},
                          "layers": _layer_times(times)}
        if "run_e2e" in d:
            d["ratio_run_vs_floor"] = round(d["run_e2e"]["seconds"] / run.seconds, 2)
    if "floor_build" in parts:  # the floor of `dbt build`: the compiled models, then every compiled data test
        env.clear_outputs()
        run, times = floor(env, "floor_build_e2e", env.fresh_db("floor_build"), "staging,silver,gold",
                           with_tests=True)
        d["floor_build_e2e"] = {**_r(run), "models": {k: round(v, 2) for k, v in times.items()},
                                "layers": _layer_times(times)}
    if "build" in parts:  # `dbt build` end to end (models + tests), last: its lake serves the next steps
        env.clear_outputs()
        build = env.dbt("dbt_build_e2e", env.fresh_db("built"), "build", *env.build_args(), check=False)
        d["build_e2e"] = {**_r(build), "returncode": build.returncode, "summary": _dbt_summary(build)}
    _dbt_ratios(d)


def _dbt_ratios(d: dict[str, Any]) -> None:
    """`dbt run` against the models-only floor; `dbt build` against the floor with the data tests when measured
    (the like-for-like), and against the models-only floor as well."""
    if "floor_e2e" in d:
        for key in ("run_e2e", "build_e2e"):
            if key in d:
                d[f"ratio_{key.split('_')[0]}_vs_floor"] = round(d[key]["seconds"] / d["floor_e2e"]["seconds"], 2)
    if "floor_build_e2e" in d and "build_e2e" in d:
        d["ratio_build_vs_floor_with_tests"] = round(d["build_e2e"]["seconds"] / d["floor_build_e2e"]["seconds"], 2)


def _dbt_summary(run: proc.Run) -> str:
    """dbt's closing `Done. PASS=...` line and the names of failed nodes (a failed data test still leaves
    every model built, so the timing stands; the failure is reported)."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", run.output_tail)
    done = [ln.split("  ", 1)[-1].strip() for ln in text.splitlines() if "Done. PASS=" in ln]
    failed = sorted(set(re.findall(r"Failure in (?:test|model) (\S+)", text)))
    return (done[-1] if done else "") + (f"; failed: {', '.join(failed)}" if failed else "")


def _dates(lake: Path) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (lake / "silver" / "trades_unified").glob("trade_date=*"))


def step_incremental(env: DbtEnv, res: dict[str, Any]) -> None:
    """One date rebuilt with start_date=end_date against the full run / number of dates: once with every model,
    once without the gold_versioned training set (a snapshot over the whole labelled span whose split
    boundaries move with every new day, so it is rebuilt whole by design) against a full run without it too."""
    dates = _dates(env.lake)
    last = dates[-1]
    window = json.dumps({"start_date": last, "end_date": last})
    db = env.work / "warehouse.duckdb"
    run = env.dbt("dbt_run_incremental", db, "run", "--vars", window)
    # the full `dbt run` of this run, or (with --merge) of the earlier run whose results are being updated
    full_run = res.get("dbt", {}).get("run_e2e") or res.get("_prior", {}).get("dbt", {}).get("run_e2e")
    full = full_run["seconds"] if full_run else None
    n = len(dates)
    inc: dict[str, Any] = {
        "dates_in_lake": n, "rebuilt_date": last, **_r(run), "full_run_seconds": full,
        "full_per_day_seconds": round(full / n, 2) if full else None,
        "ratio_vs_full_per_day": round(run.seconds / (full / n), 2) if full else None,
        "note": "one date rebuilt in place with start_date=end_date (the same work as adding that date as a new "
                "day: the materialization rewrites only that date's partitions, reading its lookback)",
    }
    excl = ("--exclude", "config.materialized:gold_versioned")
    full_dated = env.dbt("dbt_run_full_dated", db, "run", *excl)
    inc_dated = env.dbt("dbt_run_incremental_dated", db, "run", "--vars", window, *excl)
    inc["date_partitioned_only"] = {
        "exclude": " ".join(excl), "full": _r(full_dated), "incremental": _r(inc_dated),
        "full_per_day_seconds": round(full_dated.seconds / n, 2),
        "ratio_vs_full_per_day": round(inc_dated.seconds / (full_dated.seconds / n), 2),
    }
    res["incremental"] = inc


def step_pandas(env: DbtEnv, res: dict[str, Any]) -> None:
    db = env.work / "warehouse.duckdb"
    out: dict[str, Any] = {}
    for model in ("bars_1m", "features_2s"):
        dbt_run = env.dbt(f"dbt_run_{model}", db, "run", "--select", model)
        pdir = env.work / f"pandas_{model}"
        shutil.rmtree(pdir, ignore_errors=True)
        pd_run = _run_child(f"pandas_{model}", "bench.pandas_impl", [str(env.lake), str(pdir), "--model", model],
                            env.work)
        out[model] = {"dbt": _r(dbt_run), "pandas": _r(pd_run),
                      "ratio_pandas_vs_dbt": round(pd_run.seconds / dbt_run.seconds, 2),
                      "memory_ratio_pandas_vs_dbt": round(pd_run.peak_rss_mib / dbt_run.peak_rss_mib, 2)}
    res["pandas"] = out


def step_memlimit(env: DbtEnv, res: dict[str, Any], limit: str) -> None:
    limited = DbtEnv(env.lake, env.work, memory_limit=limit, build_exclude=env.build_exclude)
    env.clear_outputs()
    spill = env.work / "duckdb_spill"
    run = limited.dbt("dbt_build_memlimit", limited.fresh_db("memlimit"), "build", *env.build_args(), check=False,
                      watch=spill)
    default = res.get("dbt", {}).get("build_e2e", {})
    res["memlimit"] = {"memory_limit": limit, **_r(run), "returncode": run.returncode, "summary": _dbt_summary(run),
                       "spill_peak_mib": round(run.watched_peak_mib, 1),
                       "default_limit_build_seconds": default.get("seconds"),
                       "default_limit_peak_rss_mib": default.get("peak_rss_mib"),
                       "temp_directory": "SCHEMAHUB_DUCKDB_TEMP_DIR (bench: <work>/duckdb_spill)"}
    # the same limit, the same lake, built one date at a time (`schemahub build --by-day`)
    env.clear_outputs()
    db = limited.fresh_db("memlimit_by_day")
    by_day = proc.run("build_by_day_memlimit", [str(Path(PY).with_name("schemahub")), "build", "--by-day", "--quiet",
                                                "--target", "local"],
                      env=limited.env(db), cwd=config.PROJECT_ROOT, log=env.work / "logs" / "build_by_day_memlimit.log",
                      check=False, watch=spill)
    res["memlimit"]["by_day"] = {**_r(by_day), "returncode": by_day.returncode,
                                 "spill_peak_mib": round(by_day.watched_peak_mib, 1),
                                 "command": "schemahub build --by-day",
                                 "tail": "" if by_day.returncode == 0 else by_day.output_tail[-1500:]}


def step_train(env: DbtEnv, res: dict[str, Any]) -> None:
    run = proc.run("train", [str(Path(PY).with_name("schemahub")), "train", "--base", "BTC"],
                   env=env.env(env.work / "warehouse.duckdb"), cwd=config.PROJECT_ROOT,
                   log=env.work / "logs" / "train.log")
    res["train"] = {**_r(run), "command": "schemahub train --base BTC"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    ap.add_argument("--size", choices=tuple(SIZES), default="small")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma list of {','.join(STEPS)}")
    ap.add_argument("--work", type=Path, help="work folder (default target/bench/<size>)")
    ap.add_argument("--dbt-parts", default=",".join(DBT_PARTS),
                    help=f"dbt step scenarios, comma list of {','.join(DBT_PARTS)}")
    ap.add_argument("--build-exclude", default="",
                    help="nodes left out of `dbt build` (dbt --exclude syntax), e.g. a data test that fails on the "
                         "simulated data: a failing test makes dbt SKIP everything downstream, so the build would "
                         "not be a full build")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for the memlimit step")
    ap.add_argument("--results", type=Path, default=config.PROJECT_ROOT / "bench" / "results")
    ap.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    ap.add_argument("--merge", action="store_true",
                    help="update only the steps run in an existing results/<size>.json (their commands are kept "
                         "per step under step_commands)")
    args = ap.parse_args(argv)
    steps = [s for s in args.steps.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        ap.error(f"unknown step(s) {sorted(unknown)}; choose from {STEPS}")
    size = SIZES[args.size]
    work = (args.work or config.PROJECT_ROOT / "target" / "bench" / args.size).resolve()
    lake = work / "lake"
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {
        "size": args.size, "command": "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else argv),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine.describe(),
        "steps": steps, "errors": {}, "build_exclude": args.build_exclude,
    }
    path = args.results / f"{args.size}.json"
    if args.merge and path.exists():  # earlier results visible to the steps (e.g. the full run for incremental)
        res["_prior"] = json.loads(path.read_text())
        for key, value in res["_prior"].items():
            if key not in res and key not in steps and key in STEPS:
                res[key] = value
    env = DbtEnv(lake, work, build_exclude=args.build_exclude)
    t0 = time.perf_counter()
    for name in steps:
        print(f"[bench] {name} ...", flush=True)
        t = time.perf_counter()
        try:
            if name == "data":
                step_data(size, work, lake, res)
            elif name == "landing":
                step_landing(size, work, res)
            elif name == "backfill":
                step_backfill(size, work, res)
            elif name == "dbt":
                step_dbt(env, res, tuple(args.dbt_parts.split(",")))
            elif name == "incremental":
                step_incremental(env, res)
            elif name == "pandas":
                step_pandas(env, res)
            elif name == "memlimit":
                step_memlimit(env, res, args.memory_limit)
            elif name == "train":
                step_train(env, res)
        except (proc.BenchError, OSError, KeyError, IndexError, ValueError) as exc:
            res["errors"][name] = str(exc)[-3000:]
            print(f"[bench] {name} FAILED: {str(exc)[-600:]}", flush=True)
        print(f"[bench] {name} done in {time.perf_counter() - t:.0f}s", flush=True)
    res.pop("_prior", None)
    res["total_seconds"] = round(time.perf_counter() - t0, 1)
    res["machine"]["loadavg_at_end"] = machine.loadavg()
    args.results.mkdir(parents=True, exist_ok=True)
    res["step_commands"] = dict.fromkeys(steps, res["command"])
    if args.merge and path.exists():
        old = json.loads(path.read_text())
        old.setdefault("step_commands", dict.fromkeys(old.get("steps", []), old.get("command")))
        for name in steps:
            if name == "dbt" and "dbt" in res and "dbt" in old:  # scenarios (--dbt-parts) merge one by one
                parts = sorted(set(old["dbt"].get("parts", [])) | set(res["dbt"]["parts"]))
                old["dbt"] = {**old["dbt"], **res["dbt"], "parts": parts}
                _dbt_ratios(old["dbt"])
            elif name in res:
                old[name] = res[name]
            old["step_commands"][name] = res["command"]
            old["errors"].pop(name, None)
        old["errors"].update(res["errors"])
        old["later_runs"] = [*old.get("later_runs", []), {k: res[k] for k in ("command", "started", "machine")}]
        res = old
    path.write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(f"[bench] results: {path}")
    if not args.no_report:
        from bench.report import write_report

        write_report(args.results, config.PROJECT_ROOT / "BENCHMARKS.md")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

