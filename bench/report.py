"""Write BENCHMARKS.md from bench/results/*.json (every size that has a result file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ORDER = ("tiny", "twodates", "small", "medium", "large")
TARGETS = {
    "backfill": "90 % or more of each venue's ceiling, no 429/418",
    "dbt": "dbt build within 1.5x of the raw-DuckDB floor end to end",
    "incremental": "one-day build within 2x of (full build / number of days)",
    "dump": "landing from dumps within 2x of the pyarrow floor",
    "scaling": "flat time per million trades from 1M to 10M",
}


def _f(x: Any, nd: int = 2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _machine(r: dict[str, Any]) -> str:
    m = r["machine"]
    return (f"{m['cores']} cores ({m.get('cpu_model')}), {m['mem_total_gib']} GiB RAM "
            f"({m['mem_available_gib']} GiB available at start), load average {m.get('loadavg_at_start')} at start "
            f"and {m.get('loadavg_at_end')} at end; Python {m['python']}, DuckDB {m['duckdb']}, "
            f"pyarrow {m['pyarrow']}")


def section(r: dict[str, Any]) -> list[str]:
    out = [f"## Size `{r['size']}`", "",
           f"- command: `{r['command']}` (started {r['started']}, {r['total_seconds']} s in all)",
           f"- machine: {_machine(r)}"]
    cmds = r.get("step_commands") or {}
    if len(set(cmds.values())) > 1:
        out.append("- the steps came from several runs (same machine, same lake); the command behind each step:")
        out += [f"  - {step}: `{cmd}`" for step, cmd in cmds.items()]
        loads = [x["machine"].get("loadavg_at_start") for x in r.get("later_runs", [])]
        out.append(f"  - load averages at the start of those later runs: {loads}")
    data = r.get("data")
    if data:
        out.append(f"- data: {_f(data['trades'])} SIMULATED trades over {data['days']:g} day(s) "
                   f"({', '.join(f'{k} {v:,}' for k, v in data['trades_by_venue_asset'].items())}) "
                   "+ klines + 1 s depth snapshots, written straight into bronze"
                   + (f" in {data['seconds']} s, peak {data['peak_rss_mib']} MiB" if not data.get("reused") else
                      " (lake reused from an earlier run)"))
    if r.get("errors"):
        out.append(f"- steps that FAILED in this run: {', '.join(sorted(r['errors']))} (messages in the JSON)")
    out.append("")
    land = r.get("landing")
    if land:
        out += ["### Bronze landing rate (ratio = engine time / pyarrow floor time on the same records)", "",
                "| input | records | engine rec/s | floor rec/s | ratio |", "|---|---:|---:|---:|---:|"]
        for venue, v in land["rest"].items():
            out.append(f"| REST pages {venue} | {_f(v['records'])} | {_f(v['records_per_s'], 0)} | "
                       f"{_f(v['floor_records_per_s'], 0)} | {_f(v['ratio'])}x |")
        d = land["dump"]
        out.append(f"| Binance dump zip | {_f(d['records'])} | {_f(d['records_per_s'], 0)} | "
                   f"{_f(d['floor_records_per_s'], 0)} | {_f(d['ratio'])}x |")
        out += ["", f"Target: {TARGETS['dump']}.", ""]
    bf = r.get("backfill")
    if bf:
        out += [f"### Backfill against the sandbox enforcing the real limits ({bf['seconds_per_venue']:g} s per venue; "
                "Binance at least 150 s)", "",
                "| venue | trades | trades/s (whole run) | steady trades/s | ceiling | steady share of ceiling | "
                "client budget | first trade after | statuses | throttles | error |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"]
        for venue, v in bf["venues"].items():
            steady = v.get("steady_share_of_ceiling")
            out.append(f"| {venue} | {_f(v['trades'])} | {_f(v['trades_per_s'], 0)} "
                       f"({v['share_of_ceiling']:.0%}) | {_f(v.get('steady_trades_per_s'), 0)} "
                       f"(over {_f(v.get('steady_seconds'), 0)} s) | {_f(v['ceiling_trades_per_s'], 0)} | "
                       f"{'n/a' if steady is None else f'{steady:.0%}'} | "
                       f"{_f(v['client_budget_trades_per_s'], 0)} | {_f(v['seconds_to_first_trade'], 1)} s | "
                       f"{v['by_status']} | {v['throttles'] or 'none'} | {v['error'] or ''} |")
        out += ["", "Steady rate: Binance counts only pages answered inside whole server minute windows (its weight "
                "is metered per fixed minute, so a run straddling a window edge can spend two budgets in little more "
                "than a minute); Coinbase and Kraken leave out the first 5 s (their token buckets start full).", "",
                f"Target: {TARGETS['backfill']}.", ""]
    d = r.get("dbt")
    if d:
        fl = d.get("floor_e2e")
        out += ["### dbt vs the same compiled SQL in one DuckDB session", "",
                "| what | wall s | peak RSS MiB | vs floor |", "|---|---:|---:|---:|"]
        if fl:
            out.append(f"| floor: compiled SQL, one DuckDB session (all layers) | {fl['seconds']} | "
                       f"{fl['peak_rss_mib']} | 1.00x |")
        fb = d.get("floor_build_e2e")
        if fb and fl:
            m = fb["models"]
            out.append(f"| floor of `dbt build`: the same, then every compiled data test ({_f(int(m['tests.count']))} "
                       f"tests, {m['tests.data_tests']} s, {int(m['tests.failing'])} failing) | {fb['seconds']} | "
                       f"{fb['peak_rss_mib']} | {fb['seconds'] / fl['seconds']:.2f}x |")
        for key, label in (("run_e2e", "`dbt run` end to end"),
                           ("build_e2e", "`dbt build` end to end (models + data tests + unit tests)")):
            if key in d:
                ratio = f"{d[key]['seconds'] / fl['seconds']:.2f}x" if fl else "n/a"
                if key == "build_e2e" and fb:
                    ratio += f" (**{d[key]['seconds'] / fb['seconds']:.2f}x the floor of `dbt build`**)"
                out.append(f"| {label} | {d[key]['seconds']} | {d[key]['peak_rss_mib']} | {ratio} |")
        for layer, v in d.get("layers", {}).items():
            fl_layer = fl["layers"].get(layer) if fl else None
            ratio = f"{v['seconds'] / fl_layer:.2f}x (floor {fl_layer} s)" if fl_layer else "n/a"
            out.append(f"| `dbt run --select models/{layer}` (on the previous layers) | {v['seconds']} | "
                       f"{v['peak_rss_mib']} | {ratio} |")
        if "build_e2e" in d and d["build_e2e"].get("summary"):
            excl = r.get("build_exclude")
            out += ["", f"`dbt build` result: {d['build_e2e']['summary']} (exit {d['build_e2e'].get('returncode')})"
                    + (f"; left out with --exclude: `{excl}`" if excl else "") + "."]
        if fl:
            out += ["", "Floor per model (s): " + ", ".join(f"{k} {v}" for k, v in fl["models"].items())]
        out += ["", f"Target: {TARGETS['dbt']}.", ""]
    inc = r.get("incremental")
    if inc:
        out += ["### Incremental: one date vs full rebuild", "",
                f"`dbt run --vars '{{start_date: {inc['rebuilt_date']}, end_date: {inc['rebuilt_date']}}}'` on a lake "
                f"of {inc['dates_in_lake']} date(s): {inc['seconds']} s (peak {inc['peak_rss_mib']} MiB) vs full "
                f"`dbt run` {inc['full_run_seconds']} s / {inc['dates_in_lake']} = {inc['full_per_day_seconds']} s "
                f"per day: **{inc['ratio_vs_full_per_day']}x**. {inc['note']}.", ""]
        dp = inc.get("date_partitioned_only")
        if dp:
            out += [f"The date-partitioned models alone (`{dp['exclude']}`: the training set is a snapshot over the "
                    "whole labelled span, its split boundaries move with every new day, so it is rebuilt whole by "
                    f"design): one date {dp['incremental']['seconds']} s vs full {dp['full']['seconds']} s / "
                    f"{inc['dates_in_lake']} = {dp['full_per_day_seconds']} s per day: "
                    f"**{dp['ratio_vs_full_per_day']}x**.", ""]
        out += [f"Target: {TARGETS['incremental']}.", ""]
    pdx = r.get("pandas")
    if pdx:
        out += ["### dbt model vs a straightforward pandas implementation", "",
                "| model | dbt run s | dbt peak MiB | pandas s | pandas peak MiB | pandas/dbt time | pandas/dbt memory |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for model, v in pdx.items():
            out.append(f"| {model} | {v['dbt']['seconds']} | {v['dbt']['peak_rss_mib']} | {v['pandas']['seconds']} | "
                       f"{v['pandas']['peak_rss_mib']} | {v['ratio_pandas_vs_dbt']}x | "
                       f"{v['memory_ratio_pandas_vs_dbt']}x |")
        out += ["", "The dbt side includes dbt's start-up and the bronze view registration; the pandas features_2s "
                "computes 25 of the 70 columns (bench/pandas_impl.py).", ""]
    ml = r.get("memlimit")
    if ml:
        out += ["### dbt build under a DuckDB memory limit", "",
                f"`dbt build` with SCHEMAHUB_DUCKDB_MEMORY_LIMIT={ml['memory_limit']} (profiles.yml's memory_limit; "
                f"spill folder SCHEMAHUB_DUCKDB_TEMP_DIR) (exit {ml.get('returncode')}: {ml.get('summary')}): "
                f"{ml['seconds']} s, peak {ml['peak_rss_mib']} MiB, largest spill seen "
                f"{_f(ml.get('spill_peak_mib'), 0)} MiB (with the profile's default limit, 4GB: "
                f"{ml.get('default_limit_build_seconds')} s, peak {ml.get('default_limit_peak_rss_mib')} MiB). "
                "Peak RSS is the whole dbt process; memory_limit bounds DuckDB's buffer manager only."]
        bd = ml.get("by_day")
        if bd:
            out.append(f"The same limit and lake built one UTC date at a time (`{bd['command']}`: silver per date, "
                       f"gold per date, then the training set and every test): exit {bd['returncode']}, "
                       f"{bd['seconds']} s, peak {bd['peak_rss_mib']} MiB, largest spill seen "
                       f"{_f(bd.get('spill_peak_mib'), 0)} MiB.")
        if ml.get("first_attempt"):
            out.append(f"First attempt: {ml['first_attempt']}.")
        out.append("")
    tr = r.get("train")
    if tr:
        out += ["### Training", "", f"`{tr['command']}` on this lake: {tr['seconds']} s, peak {tr['peak_rss_mib']} MiB.", ""]
    return out


def scaling(results: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in results if r.get("data") and r.get("dbt")]
    rows.sort(key=lambda r: r["data"]["trades"])
    if not rows:
        return []
    out = ["## Scaling: seconds per million trades", "",
           "| size | trades | days | `dbt run` s / M | `dbt build` s / M | floor s / M | train s / M | "
           "`dbt build` peak MiB | train peak MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def per_m(x: dict[str, Any] | None, m: float) -> str:
        return "n/a" if not x else f"{x['seconds'] / m:.1f}"

    def peak(x: dict[str, Any] | None) -> str:
        return "n/a" if not x else f"{x['peak_rss_mib']:,.0f}"

    for r in rows:
        m = r["data"]["trades"] / 1e6
        d = r["dbt"]
        out.append(f"| {r['size']} | {r['data']['trades']:,} | {r['data']['days']:g} | {per_m(d.get('run_e2e'), m)} | "
                   f"{per_m(d.get('build_e2e'), m)} | {per_m(d.get('floor_e2e'), m)} | {per_m(r.get('train'), m)} | "
                   f"{peak(d.get('build_e2e'))} | {peak(r.get('train'))} |")
    out += ["", f"Target: {TARGETS['scaling']}."
            + (" `tiny` (1 hour, a smoke-test size) is listed only to show the fixed per-invocation cost: it is "
               "not a laptop-scale point." if any(r["size"] == "tiny" for r in rows) else ""), ""]
    return out


def write_report(results: Path, out: Path, notes: Path | None = None) -> None:
    found = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}
    ordered = [found[k] for k in ORDER if k in found and k != "tiny"]
    notes = notes or results.parent / "NOTES.md"
    lines = ["# SchemaHub benchmarks", "",
             "Generated by `python -m bench.run --size <size>` (`make bench BENCH_ARGS='--size small'`) from "
             "`bench/results/<size>.json`; the analysis below the tables is `bench/NOTES.md`. Every figure is "
             "measured in the run it is reported with, against a floor measured in that same run; wall times "
             "are from ONE run each on the machine named (landing: the minimum of 3 interleaved repeats), so "
             "read ratios, not absolute seconds. Data is SIMULATED (sandbox.market, seed 7).", ""]
    for r in ordered:
        lines += section(r)
    lines += scaling([found[k] for k in ORDER if k in found])
    if notes.exists():
        lines += [notes.read_text()]
    out.write_text("\n".join(lines).rstrip() + "\n")
