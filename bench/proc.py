"""Run a child process and measure its wall time and peak memory.

Peak memory is the kernel's own high-water mark of the child (`ru_maxrss` from `os.wait4`, KiB on Linux), so
it covers DuckDB's threads inside dbt; grandchildren are not waited by us and are not counted (dbt runs
DuckDB in-process, so nothing is lost). In-process measurements run in a child too (`python -m bench.child`)
so that every peak is the peak of one job alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class BenchError(RuntimeError):
    """A benchmark step failed (names the step and shows the end of its output)."""


@dataclass
class Run:
    name: str
    seconds: float
    peak_rss_mib: float
    returncode: int
    output_tail: str


def run(name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
        log: Path | None = None, check: bool = True) -> Run:
    """Run argv to completion; wall seconds and peak RSS (MiB) of that child alone."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
    tail = log.read_text()[-4000:] if log else ""
    if check and proc.returncode != 0:
        raise BenchError(f"{name}: exit {proc.returncode}: {' '.join(argv)}\n{tail}")
    return Run(name, seconds, usage.ru_maxrss / 1024, proc.returncode, tail)


def python_child(name: str, module_args: list[str], **kw: object) -> Run:
    return run(name, [sys.executable, "-m", *module_args], **kw)  # type: ignore[arg-type]
