"""`schemahub demo` (`make demo`): the whole pipeline on the sandbox exchange, end to end, with progress.

Every step is the real command path: the sandbox runs in a thread of this process (live, fixed seed, a window
ending now); the pipeline's commands run as `schemahub ...` / `dbt ...` subprocesses with the environment
pointing them at the sandbox and LAKE_ROOT; the discrepancy detector and the replay run in-process through
the same functions their commands use. A step whose command does not exist yet fails loudly, naming it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from schemahub import config
from schemahub.cli import SchemaHubError, build_parser
from schemahub.storage import Lake

VENUES = ("binance", "coinbase", "kraken")


class DemoStepError(SchemaHubError):
    pass


@dataclass
class DemoOptions:
    hours: float = 5.0  # below ~5 h the walk-forward has too few rows for LightGBM to beat the linear baseline
    seed: int = 7
    symbols: tuple[str, ...] = ("BTC", "ETH")
    discrepancy_seconds: float = 10.0
    publish: bool = True


@dataclass
class DemoState:
    lake: Lake
    env: dict[str, str]
    start: datetime
    end: datetime
    work: Path
    sandbox_url: str = ""
    results: list[tuple[str, str, float, str]] = field(default_factory=list)  # name, status, seconds, detail
    pages: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _commands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:  # argparse keeps sub-commands in its _SubParsersAction
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return set(action.choices)
    return set()


def _exe(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


def run_command(argv: list[str], env: dict[str, str], *, what: str, timeout: float = 900) -> None:
    """Run a real command with its output on the terminal (progress bars included); fail naming it."""
    shown = " ".join(argv[1:] if argv[0] == sys.executable else argv)
    print(f"  $ {shown}", flush=True)
    try:
        proc = subprocess.run(argv, cwd=config.PROJECT_ROOT, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DemoStepError(f"{what}: `{shown}` did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise DemoStepError(f"{what}: `{shown}` exited with {proc.returncode}")


def schemahub(state: DemoState, *args: str, what: str, timeout: float = 900) -> None:
    if args[0] not in _commands():
        raise DemoStepError(f"{what}: the command `schemahub {args[0]}` does not exist yet "
                            "(its package has not delivered it), so this step cannot run")
    run_command([sys.executable, "-m", "schemahub.cli", *args], state.env, what=what, timeout=timeout)


# ------------------------------------------------------------------------------------------------ steps
def _is_simulated_only(lake: Lake) -> tuple[bool, str]:
    """True when every bronze row in the lake came from the sandbox (so a new demo may replace it)."""
    from demos.lake_tables import bronze_tables
    from schemahub import duck

    con = duck.connect()
    try:
        for t in bronze_tables():
            files = t.files(lake)
            if not files:
                continue
            row = con.execute(
                f"select count(*) from {t.read_sql(lake, files)} where not ("
                "  _source ilike '%sandbox%' or coalesce(_source_uri, '') ilike '%sandbox%'"
                "  or regexp_matches(coalesce(_source_uri, ''), '^https?://(127\\.|localhost|\\[::1\\])'))"
            ).fetchone()
            if row and row[0]:
                return False, f"{t.name} holds {row[0]} rows that did not come from the sandbox"
    finally:
        con.close()
    return True, ""


def step_prepare_lake(state: DemoState, opts: DemoOptions) -> str:
    lake = state.lake
    if not lake.list_files("bronze"):
        return f"lake {lake.root} has no bronze yet"
    simulated, why = _is_simulated_only(lake)
    if not simulated:
        raise DemoStepError(f"the lake {lake.root} holds real data ({why}); the demo will not mix simulated data "
                            "into it: set LAKE_ROOT to another folder for the demo")
    for top in ("bronze", "silver", "gold", "models", "predictions", "discrepancies", "_state", "iceberg"):
        path = lake.fs_path(top)
        if lake.exists(top):
            lake.fs.delete_dir(path)
    return f"cleared the previous demo's simulated data from {lake.root}"


def step_sandbox(state: DemoState, opts: DemoOptions) -> str:
    from sandbox.server import SandboxConfig, SandboxServer

    # The simulated market depends on (seed, start, end): the recordings step uses exactly this window, so the
    # books it records belong to the same market as the trades served here.
    cfg = SandboxConfig(seed=opts.seed, start=state.start, end=state.end, symbols=opts.symbols, live=True)
    server = SandboxServer(cfg, port=0).start()
    state.sandbox_url = server.url
    state.env.update({"SCHEMAHUB_EXCHANGE": "sandbox", "SCHEMAHUB_SANDBOX_URL": server.url})
    for venue in VENUES:
        state.env.pop(f"SCHEMAHUB_{venue.upper()}_URL", None)
    os.environ.update({"SCHEMAHUB_EXCHANGE": "sandbox", "SCHEMAHUB_SANDBOX_URL": server.url})
    _SERVERS.append(server)
    return (f"SIMULATED exchange at {server.url} (seed {opts.seed}, {state.start:%H:%M:%S}..now UTC, live, "
            f"{','.join(opts.symbols)})")


_SERVERS: list = []


def step_backfill(state: DemoState, opts: DemoOptions) -> str:
    from demos.quotes import venue_symbol

    products = [venue_symbol(base, venue) for venue in VENUES for base in opts.symbols]
    schemahub(state, "backfill", *products, "--since", state.start.isoformat(), "--until", state.end.isoformat(),
              "--workers", "2", what="trade backfill")
    return "trades of every venue and product landed in bronze"


def _recordings_dir(state: DemoState) -> Path:
    return state.work / "sandbox-recordings"


def step_start_recordings(state: DemoState, opts: DemoOptions) -> str:
    """`schemahub sandbox --record` in the background (CPU-bound), while the backfill talks to the sandbox."""
    rec_dir = _recordings_dir(state)
    if rec_dir.exists():
        shutil.rmtree(rec_dir)
    if "sandbox" not in _commands():
        raise DemoStepError("book recordings: the command `schemahub sandbox --record` does not exist yet")
    argv = [sys.executable, "-m", "schemahub.cli", "sandbox", "--record", str(rec_dir), "--seed", str(opts.seed),
            "--start", state.start.isoformat(), "--end", state.end.isoformat(), "--symbols", ",".join(opts.symbols)]
    log_path = state.work / "recordings.log"
    print(f"  $ {' '.join(argv[1:])}  (in the background; log {log_path})", flush=True)
    log = log_path.open("w", encoding="utf-8")
    _BACKGROUND["recordings"] = (subprocess.Popen(argv, cwd=config.PROJECT_ROOT, env=state.env, stdout=log,
                                                  stderr=subprocess.STDOUT), log_path)
    log.close()
    return f"recording {state.start:%H:%M:%S}..{state.end:%H:%M:%S} UTC of book and trade streams in the background"


def step_recordings(state: DemoState, opts: DemoOptions) -> str:
    proc, log_path = _BACKGROUND.pop("recordings")
    print(f"  waiting for the sandbox recordings (log {log_path}) ...", flush=True)
    try:
        rc = proc.wait(timeout=900)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise DemoStepError(f"sandbox recordings did not finish within 900 s (log {log_path})") from None
    if rc != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise DemoStepError(f"sandbox recordings exited with {rc}; log {log_path}:\n{tail}")
    rec_dir = _recordings_dir(state)
    files = sorted(str(p) for p in rec_dir.rglob("*.rec") if p.is_file())
    if not files:
        raise DemoStepError(f"sandbox recordings: nothing was written under {rec_dir}")
    size = sum(Path(f).stat().st_size for f in files) / 1e6
    return f"{len(files)} recording file(s), {size:.0f} MB, under {rec_dir}"


_BACKGROUND: dict[str, tuple[subprocess.Popen, Path]] = {}


def step_import(state: DemoState, opts: DemoOptions) -> str:
    """One `schemahub import-recording` per venue, run side by side (each is single-threaded)."""
    if "import-recording" not in _commands():
        raise DemoStepError("import of the book recordings: the command `schemahub import-recording` does not "
                            "exist yet (its package has not delivered it), so this step cannot run")
    rec_dir = _recordings_dir(state)
    procs = []
    for venue in VENUES:
        files = sorted(str(p) for p in (rec_dir / venue).rglob("*.rec") if p.is_file())
        if not files:
            raise DemoStepError(f"import of the book recordings: no {venue} recording under {rec_dir / venue}")
        argv = [sys.executable, "-m", "schemahub.cli", "import-recording", "--venue", venue, *files]
        log_path = state.work / f"import-{venue}.log"
        print(f"  $ {' '.join(argv[1:])}  (log {log_path})", flush=True)
        with log_path.open("w", encoding="utf-8") as log:
            procs.append((venue, subprocess.Popen(argv, cwd=config.PROJECT_ROOT, env=state.env, stdout=log,
                                                  stderr=subprocess.STDOUT), log_path))
    failed = []
    for venue, proc, log_path in procs:
        try:
            rc = proc.wait(timeout=1200)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        text = log_path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines()[-6:]:
            print(f"  {venue}: {line}")
        if rc != 0:
            failed.append(f"{venue} (exit {rc}, log {log_path})")
    if failed:
        raise DemoStepError(f"import-recording failed for {', '.join(failed)}")
    return "recordings of every venue imported into bronze (trades, bbo, depth updates, book snapshots, gaps)"


def step_dbt_build(state: DemoState, opts: DemoOptions) -> str:
    if not state.lake.is_s3:  # dbt-duckdb's external COPY needs the parent folders on local disk
        for layer in ("silver", "gold"):
            Path(state.lake.fs_path(layer)).mkdir(parents=True, exist_ok=True)
    run_command([_exe("dbt"), "build", "--target", state.env["DBT_TARGET"]], state.env, what="dbt build",
                timeout=1200)
    return "staging, trades_unified, silver and gold built and tested"


def step_train(state: DemoState, opts: DemoOptions) -> str:
    schemahub(state, "train", what="model training")
    return "walk-forward LightGBM trained and registered"


def step_publish(state: DemoState, opts: DemoOptions) -> str:
    schemahub(state, "publish", what="Iceberg publish")
    return "raw and unified trades published as Iceberg tables"


def step_discrepancies(state: DemoState, opts: DemoOptions) -> str:
    """The live detector against a live sandbox whose market runs on past now (the pipeline's sandbox ends at
    the demo's start), polling books through the ingest connectors."""
    from demos.discrepancy_run import run_live
    from sandbox.server import SandboxConfig, SandboxServer

    now = datetime.now(UTC).replace(microsecond=0)
    cfg = SandboxConfig(seed=opts.seed, start=now - timedelta(minutes=15), end=now + timedelta(hours=1),
                        symbols=("BTC",), live=True)
    saved = os.environ.get("SCHEMAHUB_SANDBOX_URL")
    with SandboxServer(cfg, port=0) as live:
        os.environ["SCHEMAHUB_SANDBOX_URL"] = live.url
        try:
            summary = run_live("BTC", threshold_bp=1.0, interval=1.0, duration=opts.discrepancy_seconds,
                               venues=list(VENUES), lake=state.lake)
        finally:
            if saved is None:
                os.environ.pop("SCHEMAHUB_SANDBOX_URL", None)
            else:
                os.environ["SCHEMAHUB_SANDBOX_URL"] = saved
    if summary.steps and summary.errors and all(n == summary.steps for n in summary.errors.values()):
        raise DemoStepError(f"live discrepancies: no venue answered ({summary.errors})")
    state.pages["discrepancy events"] = state.lake.uri("discrepancies")
    return (f"{summary.steps} polls of the sandbox books, {summary.events} disagreements above 1 bp recorded, "
            f"largest {summary.max_abs_deviation_bp:.2f} bp")


def step_replay(state: DemoState, opts: DemoOptions) -> str:
    from demos.replay import find_spikes, replay, spike_center, spike_lines

    spikes = find_spikes("BTC", 5, lake=state.lake)
    print("\n".join("  " + x for x in spike_lines(spikes)))
    result = replay("BTC", spike_center(spikes[0]), timedelta(seconds=12))
    print("\n".join("  " + x for x in result.summary))
    state.pages["volatility replay"] = str(result.page)
    return f"replay of the biggest BTC spike ({spikes[0].score_bp:.1f} bp) written"


def step_docs(state: DemoState, opts: DemoOptions) -> str:
    run_command([_exe("dbt"), "docs", "generate", "--static", "--target", state.env["DBT_TARGET"]], state.env,
                what="dbt docs")
    target = config.project_path(state.env.get("DBT_TARGET_PATH") or "target")
    state.pages["lineage docs site"] = str(target / "static_index.html")
    return "static lineage site generated"


# ------------------------------------------------------------------------------------------------ summary
def table_counts(lake: Lake) -> list[tuple[str, str, int | None, str]]:
    from demos.lake_tables import all_tables
    from schemahub import duck

    con = duck.connect()
    out = []
    try:
        for t in all_tables():
            files = t.files(lake)
            if not files:
                continue
            try:
                n = con.execute(f"select count(*) from {t.read_sql(lake, files)}").fetchone()[0]
                out.append((t.layer, t.name, int(n), f"{len(files)} file(s)"))
            except Exception as exc:  # report, don't hide: a table the summary cannot read is shown as such
                out.append((t.layer, t.name, None, f"unreadable: {str(exc).splitlines()[0][:80]}"))
        from demos.shell_init import iceberg_views

        for plan in iceberg_views():  # the published Iceberg tables, read through DuckDB's iceberg_scan
            if plan.sql is None:
                out.append(("iceberg", plan.table, None, plan.note[:80]))
                continue
            n = con.execute(f"select count(*) from iceberg_scan('{plan.note.replace(chr(39), chr(39) * 2)}')").fetchone()[0]
            out.append(("iceberg", plan.table, int(n), "latest snapshot"))
    finally:
        con.close()
    return out


METRIC_KEYS = ("ic", "rank_ic", "accuracy", "auc", "log_loss", "gross_bp_per_trade", "rows")


def model_metrics(lake: Lake, name: str = "btc_predictor") -> tuple[str, dict[str, dict[str, float]], str] | None:
    """The latest registered version, its overall out-of-sample metrics per model/baseline, and its folder."""
    try:
        from ml import registry
    except ImportError:
        return None
    try:
        version = registry.resolve_version(lake, name, "latest")
        meta = json.loads(lake.read_bytes(*registry.version_dir(name, version), registry.METADATA_FILE))
    except Exception:
        return None
    out: dict[str, dict[str, float]] = {}
    for model, block in (meta.get("metrics") or {}).items():
        overall = block.get("overall") if isinstance(block, dict) else None
        if isinstance(overall, dict):
            out[model] = {k: overall[k] for k in METRIC_KEYS if isinstance(overall.get(k), int | float)}
    return version, out, lake.uri(*registry.version_dir(name, version))


def print_summary(state: DemoState, console: Console, elapsed: float) -> None:
    steps = Table(title="SchemaHub demo: steps", title_justify="left")
    for col in ("step", "status", "seconds", "what happened"):
        steps.add_column(col)
    for name, status, secs, detail in state.results:
        style = "green" if status == "ok" else "bold red"
        steps.add_row(name, f"[{style}]{status}[/]", f"{secs:.1f}", detail)
    console.print(steps)

    counts = Table(title=f"Rows per table (lake {state.lake.root}) -- SIMULATED DATA", title_justify="left")
    for col in ("layer", "table", "rows", "files"):
        counts.add_column(col, justify="right" if col == "rows" else "left")
    for layer, name, n, note in table_counts(state.lake):
        counts.add_row(layer, name, "?" if n is None else f"{n:,}", note)
    console.print(counts)

    model = model_metrics(state.lake)
    if model:
        version, metrics, where = model
        mt = Table(title=f"Model btc_predictor {version}: out-of-sample (walk-forward) metrics", title_justify="left")
        mt.add_column("model")
        for key in METRIC_KEYS:
            mt.add_column(key, justify="right")
        for name, values in metrics.items():
            mt.add_row(name, *(("" if k not in values else f"{values[k]:,.0f}" if k == "rows" else f"{values[k]:.4f}")
                               for k in METRIC_KEYS))
        console.print(mt)
        console.print(f"model, metadata and report (report.md + PNG plots): {where}")
    for what, where in state.pages.items():
        console.print(f"{what}: {where}")
    console.print("DuckDB shell over every table: make shell")
    verdict = "[bold green]demo finished[/]" if not state.failures else \
        f"[bold red]demo finished with {len(state.failures)} failed step(s)[/]"
    console.print(f"{verdict} in {elapsed:.0f} s. All data shown is SIMULATED (sandbox exchange).")


# ------------------------------------------------------------------------------------------------ run
STEPS: list[tuple[str, Callable[[DemoState, DemoOptions], str], bool]] = [
    # name, function, required (later steps need it)
    ("prepare lake", step_prepare_lake, True),
    ("sandbox exchange", step_sandbox, True),
    ("start book recordings", step_start_recordings, True),
    ("backfill trades", step_backfill, True),
    ("book recordings", step_recordings, True),
    ("import recordings", step_import, True),
    ("dbt build", step_dbt_build, True),
    ("train model", step_train, False),
    ("publish Iceberg", step_publish, False),
    ("live discrepancies", step_discrepancies, False),
    ("volatility replay", step_replay, False),
    ("docs site", step_docs, False),
]


def demo_env(lake_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "LAKE_ROOT": lake_root,
        "DBT_PROFILES_DIR": str(config.PROJECT_ROOT),
        "DBT_TARGET": env.get("DBT_TARGET") or ("s3" if config.is_s3(lake_root) else "local"),
        "DUCKDB_EXTENSION_DIR": str(config.extension_dir()),
        "SCHEMAHUB_HOME": str(config.PROJECT_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "SCHEMAHUB_STATE_DIR": str(config.state_dir() / "demo"),
    })
    return env


def run_demo(opts: DemoOptions, console: Console | None = None) -> int:
    console = console or Console()
    lake_root = config.lake_root()
    end = datetime.now(UTC).replace(microsecond=0)
    work = config.state_dir() / "demo"
    work.mkdir(parents=True, exist_ok=True)
    os.environ["LAKE_ROOT"] = lake_root
    state = DemoState(Lake(lake_root), demo_env(lake_root), end - timedelta(hours=opts.hours), end, work)
    steps = [s for s in STEPS if opts.publish or s[0] != "publish Iceberg"]
    if opts.discrepancy_seconds <= 0:
        steps = [s for s in steps if s[0] != "live discrepancies"]
    console.rule("[bold]SchemaHub demo on the SANDBOX exchange (SIMULATED data)")
    console.print(f"lake {lake_root} · window {state.start:%Y-%m-%d %H:%M:%S} .. {end:%H:%M:%S} UTC · seed {opts.seed}")
    t0 = time.monotonic()
    try:
        for i, (name, fn, required) in enumerate(steps, 1):
            console.rule(f"[{i}/{len(steps)}] {name}", align="left")
            s0 = time.monotonic()
            try:
                detail = fn(state, opts)
            except Exception as exc:
                secs = time.monotonic() - s0
                msg = str(exc) or type(exc).__name__
                state.results.append((name, "FAILED", secs, msg))
                state.failures.append(name)
                console.print(f"[bold red]step {name!r} FAILED:[/] {msg}")
                if required:
                    console.print("[bold red]later steps need this one: stopping[/]")
                    break
                continue
            secs = time.monotonic() - s0
            state.results.append((name, "ok", secs, detail))
            console.print(f"[green]ok[/] {detail} ({secs:.1f} s)")
    finally:
        for proc, _ in _BACKGROUND.values():
            proc.kill()
        _BACKGROUND.clear()
        for server in _SERVERS:
            server.stop()
        _SERVERS.clear()
    console.rule("[bold]Summary")
    print_summary(state, console, time.monotonic() - t0)
    return 1 if state.failures else 0
