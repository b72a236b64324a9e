"""`schemahub build`: `dbt build` of the lake, whole or one UTC date at a time (`--by-day`).

A whole `dbt build` computes every model over the whole history in one query per model: the window functions
of gold (per venue and symbol, ordered by second) then hold all of it at once, so DuckDB's memory grows with the
history (bench/NOTES.md: the 10 M-trade week fails under a 1 GB memory_limit, a day builds in it). `--by-day`
runs the same models through their own date window (`--vars '{start_date: D, end_date: D}'`, the path of an
incremental day), so memory is bounded by one day plus its lookback:

1. `dbt seed` and the staging views;
2. silver, one date at a time (every date first: gold's labels look ahead into the next date);
3. gold's date-partitioned models, one date at a time;
4. the gold_versioned training set (a snapshot over the whole labelled span: its split boundaries move with
   every day, so it is built once, whole);
5. `dbt test` (data and unit tests) over everything.

The result is the same lake as a whole `dbt build` (tests/python/dbt/test_build_by_day.py compares every row).
Each step is its own dbt invocation (about 5-10 s of dbt start-up each), so on a small lake the whole build is
faster; `--by-day` is for histories that outgrow memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from schemahub import config
from schemahub.cli import SchemaHubError

DATE_PART = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")
VERSIONED = "config.materialized:gold_versioned"


class BuildError(SchemaHubError):
    """A dbt step of `schemahub build` failed (names the step and the date)."""


@dataclass(frozen=True)
class Step:
    label: str
    args: tuple[str, ...]


def bronze_dates(lake_root: str) -> list[str]:
    """Every UTC date that has a bronze partition, oldest first."""
    from schemahub.storage import Lake

    files = Lake(lake_root).list_files("bronze", suffix=".parquet")
    return sorted({m.group(1) for f in files if (m := DATE_PART.search("/" + f))})


def date_range(start: str, end: str) -> list[str]:
    try:
        lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        raise BuildError(f"--start/--end must be dates like 2024-01-31: {exc}") from None
    if hi < lo:
        raise BuildError(f"--end {end} is before --start {start}")
    return [(lo + dt.timedelta(days=i)).isoformat() for i in range((hi - lo).days + 1)]


def by_day_steps(dates: list[str]) -> list[Step]:
    """The dbt invocations of a by-day build, in order."""
    def window(d: str) -> tuple[str, str]:
        return "--vars", json.dumps({"start_date": d, "end_date": d})

    steps = [Step("seeds", ("seed",)), Step("staging views", ("run", "--select", "models/staging"))]
    steps += [Step(f"silver {d}", ("run", "--select", "models/silver", *window(d))) for d in dates]
    steps += [Step(f"gold {d}", ("run", "--select", "models/gold", "--exclude", VERSIONED, *window(d)))
              for d in dates]
    steps += [Step("training set", ("run", "--select", VERSIONED)), Step("tests", ("test",))]
    return steps


def run_steps(steps: list[Step], target: str | None, progress: bool = True) -> None:
    from tqdm import tqdm

    dbt = str(Path(sys.executable).with_name("dbt"))
    extra = ("--target", target) if target else ()
    bar = tqdm(steps, desc="dbt by day", unit="step", disable=not progress)
    for step in bar:
        bar.set_postfix_str(step.label)
        proc = subprocess.run([dbt, *step.args, *extra], cwd=config.PROJECT_ROOT, env=os.environ.copy(),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-25:])
            raise BuildError(f"dbt step '{step.label}' (dbt {' '.join(step.args)}) failed with exit "
                             f"{proc.returncode}; the dates before it are built and kept:\n{tail}")


def cmd_build(args: argparse.Namespace) -> int:
    target = args.target or os.environ.get("DBT_TARGET")
    if not args.by_day:
        dbt = str(Path(sys.executable).with_name("dbt"))
        return subprocess.run([dbt, "build", *(("--target", target) if target else ())],
                              cwd=config.PROJECT_ROOT).returncode
    if bool(args.start) != bool(args.end):
        raise BuildError("give both --start and --end, or neither (then every date in bronze)")
    lake_root = config.lake_root()
    dates = date_range(args.start, args.end) if args.start else bronze_dates(lake_root)
    if not dates:
        raise BuildError(f"no bronze partitions (date=YYYY-MM-DD) under {lake_root}/bronze: nothing to build")
    steps = by_day_steps(dates)
    print(f"schemahub build --by-day: {len(dates)} date(s) {dates[0]} .. {dates[-1]} of {lake_root}, "
          f"{len(steps)} dbt steps")
    run_steps(steps, target, progress=not args.quiet)
    print("schemahub build --by-day: done (seeds, silver and gold per date, training set, tests)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("build", help="dbt build of the lake (whole, or --by-day with memory bounded by a day)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--by-day", action="store_true", help="one UTC date at a time (bounded memory)")
    p.add_argument("--start", help="first date (YYYY-MM-DD) of a --by-day build; default: the first in bronze")
    p.add_argument("--end", help="last date of a --by-day build; default: the last in bronze")
    p.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)
