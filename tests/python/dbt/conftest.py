"""dbt test helpers: run dbt from the project dir against a throw-away lake and DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from schemahub import config

DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class DbtRunner:
    """Runs `dbt <args>` in the project dir with LAKE_ROOT / DUCKDB_PATH pointing at tmp paths."""

    lake_root: str
    duckdb_path: Path
    target: str = "local"
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "LAKE_ROOT": self.lake_root,
            "DUCKDB_PATH": str(self.duckdb_path),
            "DBT_PROFILES_DIR": str(config.PROJECT_ROOT),
            "DBT_TARGET": self.target,
            "DUCKDB_EXTENSION_DIR": str(config.extension_dir()),
            "SCHEMAHUB_HOME": str(config.PROJECT_ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            **self.extra_env,
        })
        return env

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            [DBT, *args, "--target", self.target, "--target-path", str(self.duckdb_path.parent / "dbt_target"),
             "--log-path", str(self.duckdb_path.parent / "dbt_logs")],
            cwd=config.PROJECT_ROOT, env=self.env(), capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
        return proc.stdout


@pytest.fixture
def dbt_local(tmp_lake: Path, tmp_path: Path) -> DbtRunner:
    """dbt against the fresh local lake of `tmp_lake` (LAKE_ROOT is already set to it)."""
    return DbtRunner(lake_root=str(tmp_lake), duckdb_path=tmp_path / "warehouse.duckdb")


@pytest.fixture
def dbt_s3(s3_lake: str, tmp_path: Path) -> DbtRunner:
    """dbt with the profile's `s3` target against the moto bucket of `s3_lake` (LAKE_ROOT is already set to it)."""
    return DbtRunner(lake_root=s3_lake, duckdb_path=tmp_path / "warehouse_s3.duckdb", target="s3")
