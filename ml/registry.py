"""The model registry in the lake: `<LAKE_ROOT>/models/<name>/<version>/` plus a `latest.json` pointer.

A version folder holds model.txt (LightGBM text model), metadata.json, test_predictions.parquet, report.md and
the report's PNGs. Everything goes through `schemahub.storage.Lake`, so the registry works on S3 as well.
The pointer is written last: `latest` never names a half-written version.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from typing import Any

from ml.errors import ModelNotFoundError
from schemahub import config
from schemahub.storage import Lake

MODELS_DIR = "models"
LATEST = "latest.json"
MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
PREDICTIONS_FILE = "test_predictions.parquet"
_VERSION_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def to_json(obj: Any) -> str:
    """Strict JSON (NaN/inf become null), sorted keys, so equal content gives equal bytes."""

    def clean(o: Any) -> Any:
        if isinstance(o, float):
            return None if math.isnan(o) or math.isinf(o) else o
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        if hasattr(o, "item"):  # numpy scalar
            return clean(o.item())
        return o

    return json.dumps(clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"


def code_version() -> dict[str, object]:
    """git commit of the project (and whether ml/ has uncommitted edits), or 'unknown' outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=config.PROJECT_ROOT, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "ml"], cwd=config.PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
        return {"git_commit": commit, "ml_dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "ml_dirty": None}


def version_dir(name: str, version: str) -> tuple[str, str, str]:
    return (MODELS_DIR, name, version)


def save_version(lake: Lake, name: str, version: str, *, model_text: str, metadata: dict[str, Any],
                 predictions: Any, files: dict[str, bytes]) -> str:
    """Write every artifact of a version, then move the `latest` pointer. Returns the version's URI."""
    if not _VERSION_RE.match(version):
        raise ValueError(f"bad version name {version!r}")
    base = version_dir(name, version)
    lake.write_bytes(model_text.encode(), *base, MODEL_FILE)
    lake.write_parquet(predictions, *base, PREDICTIONS_FILE)
    for fname, data in files.items():
        lake.write_bytes(data, *base, fname)
    lake.write_bytes(to_json(metadata).encode(), *base, METADATA_FILE)
    pointer = {"version": version, "model_sha256": metadata.get("model_sha256"), "created_at": metadata.get("created_at")}
    lake.write_bytes(to_json(pointer).encode(), MODELS_DIR, name, LATEST)
    return lake.uri(*base)


def list_versions(lake: Lake, name: str) -> list[str]:
    files = lake.list_files(MODELS_DIR, name, suffix=METADATA_FILE)
    return sorted({f.split("/")[-2] for f in files})


def resolve_version(lake: Lake, name: str, version: str) -> str:
    """'latest' -> the pointer's version; any other name must exist. Errors list what does exist."""
    if version == "latest":
        if not lake.exists(MODELS_DIR, name, LATEST):
            known = sorted({f.split("/")[1] for f in lake.list_files(MODELS_DIR, suffix=METADATA_FILE)})
            raise ModelNotFoundError(
                f"no trained model {name!r} under {lake.uri(MODELS_DIR)} (no {LATEST}); "
                f"models present: {known or 'none'}; run `schemahub train` first")
        version = json.loads(lake.read_bytes(MODELS_DIR, name, LATEST))["version"]
    if not _VERSION_RE.match(version) or not lake.exists(*version_dir(name, version), METADATA_FILE):
        have = list_versions(lake, name)
        raise ModelNotFoundError(
            f"unknown version {version!r} of model {name!r} under {lake.uri(MODELS_DIR, name)}; "
            f"versions present: {have[-10:] or 'none'}")
    return version


def load_version(lake: Lake, name: str, version: str) -> tuple[str, str, dict[str, Any]]:
    """(resolved version, LightGBM model text, metadata) of a registered version."""
    version = resolve_version(lake, name, version)
    base = version_dir(name, version)
    metadata = json.loads(lake.read_bytes(*base, METADATA_FILE))
    if not lake.exists(*base, MODEL_FILE):
        raise ModelNotFoundError(f"version {version} of {name} has metadata but no {MODEL_FILE} at {lake.uri(*base)}")
    return version, lake.read_bytes(*base, MODEL_FILE).decode(), metadata
