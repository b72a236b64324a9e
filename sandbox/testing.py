"""Starting sandbox servers from tests (used by the `sandbox_server` fixture in tests/python/conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

from sandbox.server import SandboxConfig, SandboxServer

TEST_END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TEST_DEFAULTS: dict[str, Any] = {
    "seed": 7,
    "start": TEST_END - dt.timedelta(minutes=30),  # a fixed window: deterministic across runs
    "end": TEST_END,
    "stall_seconds": 1.0,  # short stalls keep tests fast (use a client timeout below it)
}


def start_sandbox(**config_overrides: Any) -> SandboxServer:
    """A started SandboxServer on 127.0.0.1 (any free port) with TEST_DEFAULTS updated by `config_overrides`
    (any SandboxConfig field: seed, start, end, symbols, fault_rate, fault_seed, fault_kinds, stall_seconds,
    overlap_trades, enforce_limits, limit_scale, binance_window_s, binance_ban_s, live). Call `.stop()` when done."""
    known = {f.name for f in fields(SandboxConfig)}
    bad = sorted(set(config_overrides) - known)
    if bad:
        raise TypeError(f"start_sandbox: unknown SandboxConfig field(s) {bad}; known: {sorted(known)}")
    return SandboxServer(SandboxConfig(**{**TEST_DEFAULTS, **config_overrides}), port=0).start()
