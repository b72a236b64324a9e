"""The machine a benchmark ran on: cores, memory (from /proc/meminfo, no psutil), load, versions."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def meminfo_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == field:
                return int(rest.split()[0])
    except OSError:
        return None
    return None


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def describe() -> dict[str, Any]:
    import duckdb
    import pyarrow

    total = meminfo_kb("MemTotal")
    avail = meminfo_kb("MemAvailable")
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "mem_total_gib": round(total / 2**20, 1) if total else None,
        "mem_available_gib": round(avail / 2**20, 1) if avail else None,
        "loadavg_at_start": loadavg(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }
