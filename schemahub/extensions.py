"""Fill the project-local DuckDB extension directory from the duckdb-extension-* wheels.

`python -m schemahub.extensions` (run by `make setup`) copies httpfs, aws, avro and iceberg into
`<DUCKDB_EXTENSION_DIR>/<version>/<platform>/` so that every client (Python, dbt, the shell) loads them from
there and nothing ever tries to download. Idempotent. Where the wheels do not exist (macOS, ARM), it falls
back to DuckDB's own `INSTALL`, which needs internet once.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import duckdb

from schemahub import config

EXTENSIONS = ("httpfs", "aws", "avro", "iceberg")  # json, icu, parquet are built into duckdb 1.5.5


def install(ext_dir: Path | None = None) -> list[str]:
    ext_dir = ext_dir or config.extension_dir()
    ext_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False})
    version = con.execute("pragma version").fetchone()[0]
    installed = {r[0] for r in con.execute("select extension_name from duckdb_extensions() where installed").fetchall()}
    done = []
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(f"duckdb_extension_{name}")
        except ImportError:
            if name not in installed:  # no wheel for this platform: DuckDB's own download
                con.execute(f"install {name}")
            done.append(name)
            continue
        src = Path(module.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
        if not src.exists():
            sys.exit(f"{src} missing: duckdb {version} does not match duckdb-extension-{name}")
        if name not in installed:
            con.execute(f"force install '{src}'")
        done.append(name)
    for name in EXTENSIONS:
        con.execute(f"load {name}")
    return done


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    names = install(target)
    print(f"duckdb extensions ready in {target or config.extension_dir()}: {', '.join(names)}")


if __name__ == "__main__":
    main()
