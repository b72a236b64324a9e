"""Where things live. The one place that turns settings (environment variables) into paths and URLs.

`LAKE_ROOT` decides where every layer of the lake lives: a local folder (default `./lake`, relative paths
resolve from the project root) or `s3://bucket/prefix`. Exchange base URLs default to the real venues;
`SCHEMAHUB_EXCHANGE=sandbox` (or a per-venue `SCHEMAHUB_<VENUE>_URL`) points them elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("SCHEMAHUB_HOME") or Path(__file__).resolve().parents[1])

VENUES = ("binance", "coinbase", "kraken")

REAL_BASE_URLS = {
    "binance": "https://api.binance.com",
    "coinbase": "https://api.exchange.coinbase.com",
    "kraken": "https://api.kraken.com",
}
BINANCE_DUMPS_URL = "https://data.binance.vision"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"


def project_path(value: str | os.PathLike[str]) -> Path:
    """Resolve a local path setting: absolute stays, relative resolves from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def lake_root() -> str:
    """The lake root as a string: an absolute local path or an `s3://bucket/prefix` URI (no trailing slash)."""
    value = os.environ.get("LAKE_ROOT", "lake").strip() or "lake"
    if value.startswith("s3://"):
        return value.rstrip("/")
    return str(project_path(value))


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def state_dir() -> Path:
    """Local checkpoint folder (`state/`), used unless checkpoints are kept in the lake."""
    return project_path(os.environ.get("SCHEMAHUB_STATE_DIR", "state"))


def extension_dir() -> Path:
    """Project-local DuckDB extension directory filled by `make setup` from the duckdb-extension wheels."""
    return project_path(os.environ.get("DUCKDB_EXTENSION_DIR", ".duckdb_extensions"))


def sandbox_url() -> str:
    return os.environ.get("SCHEMAHUB_SANDBOX_URL", DEFAULT_SANDBOX_URL).rstrip("/")


def venue_base_url(venue: str) -> str:
    """Base URL of a venue's REST API: per-venue override, else the sandbox when selected, else the real one."""
    if venue not in REAL_BASE_URLS:
        raise ValueError(f"unknown venue {venue!r}; known venues: {', '.join(VENUES)}")
    override = os.environ.get(f"SCHEMAHUB_{venue.upper()}_URL")
    if override:
        return override.rstrip("/")
    if os.environ.get("SCHEMAHUB_EXCHANGE", "real").lower() == "sandbox":
        return f"{sandbox_url()}/{venue}"
    return REAL_BASE_URLS[venue]


def binance_dumps_url() -> str:
    """Base URL of Binance's bulk-dump site; the sandbox serves a simulated one under `/binance-data`."""
    override = os.environ.get("SCHEMAHUB_BINANCE_DUMPS_URL")
    if override:
        return override.rstrip("/")
    if os.environ.get("SCHEMAHUB_EXCHANGE", "real").lower() == "sandbox":
        return f"{sandbox_url()}/binance-data"
    return BINANCE_DUMPS_URL


def s3_settings() -> dict[str, str | None]:
    """S3 endpoint and credentials from the standard AWS environment variables."""
    return {
        "endpoint_url": os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "access_key_id": os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "session_token": os.environ.get("AWS_SESSION_TOKEN"),
    }
