"""Run a child process and measure its wall time and peak memory.

Peak memory is the kernel's own high-water mark of the child (`ru_maxrss` from `os.wait4`, KiB on Linux), so
it covers DuckDB's threads inside dbt; grandchildren are not waited by us and are not counted (dbt runs
DuckDB in-process, so nothing is lost). In-process measurements run in a child too (`python -m bench.child`)
so that every peak is the peak of one job alone.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
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
    watched_peak_mib: float = 0.0  # largest size seen of the `watch` folder (e.g. DuckDB's spill files)


def _folder_mib(folder: Path) -> float:
    total = 0
    try:
        for p in folder.rglob("*"):
            with contextlib.suppress(OSError):  # a spill file deleted between listing and stat
                total += p.stat().st_size
    except OSError:  # the folder itself went away while being listed (DuckDB removes it when done)
        pass
    return total / 2**20


class _Watcher(threading.Thread):
    """Samples a folder's size twice a second while the child runs (DuckDB deletes its spill files when done)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.done = folder, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            if self.folder.exists():
                self.peak = max(self.peak, _folder_mib(self.folder))


def run(name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
        log: Path | None = None, check: bool = True, watch: Path | None = None) -> Run:
    """Run argv to completion; wall seconds and peak RSS (MiB) of that child alone (and the peak size of the
    `watch` folder while it ran)."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    watcher = _Watcher(watch) if watch else None
    if watcher:
        watcher.start()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()
        if watcher:
            watcher.done.set()
            watcher.join()
    tail = log.read_text()[-4000:] if log else ""
    if check and proc.returncode != 0:
        raise BenchError(f"{name}: exit {proc.returncode}: {' '.join(argv)}\n{tail}")
    return Run(name, seconds, usage.ru_maxrss / 1024, proc.returncode, tail,
               watcher.peak if watcher else 0.0)


def python_child(name: str, module_args: list[str], **kw: object) -> Run:
    return run(name, [sys.executable, "-m", *module_args], **kw)  # type: ignore[arg-type]
