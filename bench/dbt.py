"""dbt build per layer and end to end, the raw-DuckDB floor of the same compiled SQL, and incremental builds.

Every dbt call is a child process (`proc.run`): wall time and the child's peak RSS (DuckDB runs inside dbt).
Each scenario works on its own DuckDB file that already holds the seeds, so no figure includes `dbt seed`.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import proc
from schemahub import config

DBT = str(Path(sys.executable).with_name("dbt"))
LAYER_SELECT = {"staging": "models/staging", "silver": "models/silver", "gold": "models/gold"}


@dataclass
class DbtEnv:
    """Where one benchmark's dbt runs: lake, DuckDB file, target and log folders (all under `work`)."""

    lake: Path
    work: Path
    memory_limit: str | None = None  # DuckDB memory_limit (e.g. "2GB"); None = the profile's default (4GB)
    build_exclude: str = ""  # `dbt build --exclude` selection ("" = nothing left out)

    def build_args(self) -> list[str]:
        return ["--exclude", *self.build_exclude.split()] if self.build_exclude.strip() else []

    def env(self, db: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "LAKE_ROOT": str(self.lake), "DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(config.PROJECT_ROOT),
            "DBT_TARGET": "local", "DUCKDB_EXTENSION_DIR": str(config.extension_dir()),
            "SCHEMAHUB_HOME": str(config.PROJECT_ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        })
        # profiles.yml reads both (memory_limit under settings, temp_directory under config_options); the floor
        # (bench/floor.py) applies the same two to its session
        env["SCHEMAHUB_DUCKDB_TEMP_DIR"] = str(self.work / "duckdb_spill")
        if self.memory_limit:
            env["SCHEMAHUB_DUCKDB_MEMORY_LIMIT"] = self.memory_limit
        return env

    def argv(self, *args: str) -> list[str]:
        return [DBT, *args, "--target", "local", "--target-path", str(self.work / "dbt_target"),
                "--log-path", str(self.work / "dbt_logs")]

    def dbt(self, name: str, db: Path, *args: str, check: bool = True, watch: Path | None = None) -> proc.Run:
        for layer in ("silver", "gold"):  # DuckDB's COPY creates one directory level only
            (self.lake / layer).mkdir(parents=True, exist_ok=True)
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        return proc.run(name, self.argv(*args), env=self.env(db), cwd=config.PROJECT_ROOT,
                        log=self.work / "logs" / f"{name}.log", check=check, watch=watch)

    def seeded_db(self) -> Path:
        """A DuckDB file holding only the seeds (made once), copied for each scenario."""
        base = self.work / "seeded.duckdb"
        if not base.exists():
            self.dbt("dbt_seed", base, "seed")
        return base

    def fresh_db(self, name: str = "warehouse") -> Path:
        """A fresh copy of the seeded file, always at the same path by default: a new DUCKDB_PATH changes the
        dbt profile, and a changed profile makes dbt re-parse the whole project (no partial parsing), a cost
        a user who keeps one warehouse file never pays. `name` only labels the scenario."""
        db = self.work / "warehouse.duckdb"
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)
        shutil.copyfile(self.seeded_db(), db)
        return db

    def clear_outputs(self) -> None:
        for layer in ("silver", "gold"):
            shutil.rmtree(self.lake / layer, ignore_errors=True)


def manifest_path(env: DbtEnv) -> Path:
    return env.work / "dbt_target" / "manifest.json"


def floor(env: DbtEnv, name: str, db: Path, layers: str, with_tests: bool = False
          ) -> tuple[proc.Run, dict[str, float]]:
    import json

    out = env.work / f"{name}.json"
    for layer in ("silver", "gold"):  # as for dbt: DuckDB's COPY creates one directory level only
        (env.lake / layer).mkdir(parents=True, exist_ok=True)
    run = proc.run(name, [sys.executable, "-m", "bench.floor", str(env.work / "compiled_manifest.json"), str(db),
                          str(env.lake),
                          "--layers", layers, "--out", str(out), *(["--with-tests"] if with_tests else [])],
                   env=env.env(db), cwd=config.PROJECT_ROOT, log=env.work / "logs" / f"{name}.log")
    return run, json.loads(out.read_text())
