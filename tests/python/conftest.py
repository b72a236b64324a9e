"""Fixtures shared by every test area. Area-specific fixtures live in tests/python/<area>/conftest.py."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schemahub import config

REAL_DATA = config.PROJECT_ROOT.parent / "shared" / "data" / "real"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real (real recorded exchange data); the test skips cleanly when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real recorded data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture
def tmp_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local lake: LAKE_ROOT and the checkpoint folder point into tmp_path."""
    lake = tmp_path / "lake"
    lake.mkdir()
    monkeypatch.setenv("LAKE_ROOT", str(lake))
    monkeypatch.setenv("SCHEMAHUB_STATE_DIR", str(tmp_path / "state"))
    return lake


class MotoServer:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.proc = proc
        self.endpoint = f"http://127.0.0.1:{port}"

    def env(self, bucket: str, prefix: str = "lake") -> dict[str, str]:
        """Environment that points LAKE_ROOT and every AWS client at this server."""
        return {
            "LAKE_ROOT": f"s3://{bucket}/{prefix}",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def create_bucket(self, name: str) -> None:
        import boto3

        boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id="test", aws_secret_access_key="test",
            region_name="us-east-1",
        ).create_bucket(Bucket=name)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """A moto S3 server on 127.0.0.1 (never a real bucket), killed at the end of the session."""
    # The venv's own moto first: another moto_server on PATH (e.g. pyenv's 5.2.1) fails multipart uploads.
    venv_exe = Path(sys.executable).with_name("moto_server")
    exe = str(venv_exe) if venv_exe.exists() else shutil.which("moto_server") or str(venv_exe)
    port = free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield MotoServer(port, proc)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_lake(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """LAKE_ROOT on a fresh bucket of the moto server; returns the s3:// root."""
    bucket = ("lake-" + re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()))[:50].strip("-")
    moto_server.create_bucket(bucket)
    for key, value in moto_server.env(bucket).items():
        monkeypatch.setenv(key, value)
    return os.environ["LAKE_ROOT"]


# ---------------------------------------------------------------- sandbox exchange (owned by the sandbox helper)
@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Callable[..., Any]]:
    """Factory fixture: `start = sandbox_server; sb = start(**config_overrides)` starts a SandboxServer on
    127.0.0.1 (free port) serving SIMULATED Binance/Coinbase/Kraken and returns it (`sb.url`,
    `sb.base_url("binance")`, `sb.market.trades("binance", "BTCUSDT")`, `sb.inject("5xx")`, `sb.fault_log`).

    Defaults (sandbox.testing.TEST_DEFAULTS): seed 7, the fixed window 2025-12-31T23:30Z..2026-01-01T00:00Z,
    `stall_seconds=1.0`, live=False, real rate limits enforced (pass `enforce_limits=False` or `limit_scale=...`
    to relax them). Every call starts a NEW server (fault counters are per server); all of them are stopped at the
    end of the session.
    """
    from sandbox.testing import start_sandbox

    started: list[Any] = []

    def start(**config_overrides: Any) -> Any:
        sb = start_sandbox(**config_overrides)
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()
# ---------------------------------------------------------------- end of sandbox block
