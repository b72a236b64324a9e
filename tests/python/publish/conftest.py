"""Fixtures of the Iceberg publisher tests (inputs are built by publish_inputs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def iceberg_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No SCHEMAHUB_ICEBERG_* from the outside; the SQL catalog of an S3 lake lives under tmp_path."""
    for key in ("SCHEMAHUB_ICEBERG_CATALOG", "SCHEMAHUB_ICEBERG_URI", "SCHEMAHUB_ICEBERG_WAREHOUSE",
                "SCHEMAHUB_ICEBERG_NAMESPACE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SCHEMAHUB_STATE_DIR", str(tmp_path / "state"))
    yield tmp_path


@pytest.fixture(params=["local", "s3"])
def any_lake(request: pytest.FixtureRequest, iceberg_env: Path) -> str:
    """The same test on a local lake and on a moto S3 lake (warehouse at <LAKE_ROOT>/iceberg either way)."""
    if request.param == "local":
        return str(request.getfixturevalue("tmp_lake"))
    return str(request.getfixturevalue("s3_lake"))
