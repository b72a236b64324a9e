"""Running the project's real dbt from tests: absolute lake, a private database file and target folder
(so tests never collide with a developer's `make build`), the project-local extensions."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from schemahub import config

DBT_TESTS = config.PROJECT_ROOT / "tests" / "python" / "dbt"


def dbt_exe() -> str:
    return shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


def dbt_env(lake: Path, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LAKE_ROOT": str(lake),
        "DBT_PROFILES_DIR": str(config.PROJECT_ROOT),
        "DBT_TARGET": "local",
        "DUCKDB_PATH": str(work / "schemahub.duckdb"),
        "DUCKDB_EXTENSION_DIR": str(config.extension_dir()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def dbt_cmd(work: Path, *args: str) -> list[str]:
    return [dbt_exe(), *args, "--target-path", str(work / "target"), "--log-path", str(work / "logs")]


def dbt(lake: Path, work: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(dbt_cmd(work, *args), cwd=config.PROJECT_ROOT, env=dbt_env(lake, work),
                          capture_output=True, text=True, timeout=timeout, check=False)


def load_bronze_fixture():
    """The dbt tests' small bronze lake writer (tests/python/dbt/*bronze_fixture.py), loaded by path."""
    found = sorted(DBT_TESTS.glob("*bronze_fixture.py"))
    if not found:
        raise FileNotFoundError(f"no *bronze_fixture.py under {DBT_TESTS}: the dbt tests' small bronze lake moved")
    spec = importlib.util.spec_from_file_location("schemahub_tests_bronze_fixture", found[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module
