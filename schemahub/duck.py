"""DuckDB connections that use the project-local extension directory and never download anything."""

from __future__ import annotations

from urllib.parse import urlparse

import duckdb

from schemahub import config


def connect(database: str = ":memory:", *, read_only: bool = False, s3: bool | None = None) -> duckdb.DuckDBPyConnection:
    """Open DuckDB with the local extensions; add an S3 secret when the lake (or `s3=True`) needs it."""
    con = duckdb.connect(
        database,
        read_only=read_only,
        config={
            "extension_directory": str(config.extension_dir()),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        },
    )
    con.execute("set timezone = 'UTC'")
    if s3 if s3 is not None else config.is_s3(config.lake_root()):
        con.execute(s3_secret_sql())
    return con


def s3_secret_sql(name: str = "schemahub_lake") -> str:
    """`CREATE SECRET` for S3 from the standard AWS environment variables (endpoint optional)."""
    s3 = config.s3_settings()
    parts = ["TYPE s3", f"REGION '{s3['region']}'"]
    if s3["access_key_id"]:
        parts += [f"KEY_ID '{s3['access_key_id']}'", f"SECRET '{s3['secret_access_key']}'"]
        if s3["session_token"]:
            parts.append(f"SESSION_TOKEN '{s3['session_token']}'")
    if s3["endpoint_url"]:
        parsed = urlparse(str(s3["endpoint_url"]))
        parts += [f"ENDPOINT '{parsed.netloc or parsed.path}'", "URL_STYLE 'path'"]
        parts.append(f"USE_SSL {'true' if parsed.scheme == 'https' else 'false'}")
    return f"CREATE OR REPLACE SECRET {name} ({', '.join(parts)})"
