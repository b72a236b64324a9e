"""Which Iceberg catalog SchemaHub publishes to, chosen by configuration, and read-only look-ups on it.

Default: a pyiceberg `SqlCatalog` on a local SQLite file with the warehouse beside the lake:

    local lake  LAKE_ROOT=/x/lake       catalog sqlite:////x/lake/iceberg/catalog.db, warehouse file:///x/lake/iceberg
    S3 lake     LAKE_ROOT=s3://b/p      catalog sqlite:///<state dir>/iceberg/b__p.db, warehouse s3://b/p/iceberg

(SQLite cannot live on S3, so an S3 lake keeps its SQL catalog file locally; several machines sharing one S3
warehouse need a shared catalog: REST or Glue.)

Settings (environment variables):
    SCHEMAHUB_ICEBERG_CATALOG    sql (default) | rest | glue
    SCHEMAHUB_ICEBERG_URI        sql: SQLAlchemy URL; rest: the REST endpoint (required for rest)
    SCHEMAHUB_ICEBERG_WAREHOUSE  warehouse location (default <LAKE_ROOT>/iceberg)
    SCHEMAHUB_ICEBERG_NAMESPACE  namespace / Glue database (default schemahub)
    SCHEMAHUB_ICEBERG_TOKEN, SCHEMAHUB_ICEBERG_CREDENTIAL   REST auth (bearer token or client_id:secret)
Anything else goes through pyiceberg's own configuration for the catalog named `schemahub`
(`~/.pyiceberg.yaml` or `PYICEBERG_CATALOG__SCHEMAHUB__<PROPERTY>`), which pyiceberg merges in. S3 access for
the warehouse comes from the standard AWS variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).
Only the SQL catalog is exercised by the tests; REST and Glue are configuration that was not run here.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from schemahub import config
from schemahub.cli import SchemaHubError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

log = logging.getLogger(__name__)

CATALOG_NAME = "schemahub"
DEFAULT_NAMESPACE = "schemahub"
KINDS = ("sql", "rest", "glue")


class CatalogError(SchemaHubError):
    """The Iceberg catalog is misconfigured or cannot be opened."""


def warehouse_default(lake_root: str) -> str:
    """`<LAKE_ROOT>/iceberg` as a URI pyiceberg accepts (file:// for a local lake)."""
    if config.is_s3(lake_root):
        return f"{lake_root}/iceberg"
    return Path(lake_root, "iceberg").as_uri()


def sql_uri_default(lake_root: str) -> str:
    """SQLite catalog file: inside the local warehouse, or under the state dir for an S3 lake."""
    if config.is_s3(lake_root):
        tag = re.sub(r"[^A-Za-z0-9._-]+", "__", lake_root[len("s3://") :].strip("/"))
        path = config.state_dir() / "iceberg" / f"{tag}.db"
    else:
        path = Path(lake_root, "iceberg", "catalog.db")
    return f"sqlite:///{path}"


def s3_file_io_properties() -> dict[str, str]:
    """pyiceberg FileIO properties for S3 from the standard AWS environment variables."""
    s3 = config.s3_settings()
    props = {"s3.region": str(s3["region"])}
    if s3["endpoint_url"]:
        props["s3.endpoint"] = str(s3["endpoint_url"])
    if s3["access_key_id"]:
        props["s3.access-key-id"] = str(s3["access_key_id"])
        props["s3.secret-access-key"] = str(s3["secret_access_key"])
        if s3["session_token"]:
            props["s3.session-token"] = str(s3["session_token"])
    return props


@dataclass(frozen=True)
class CatalogSettings:
    kind: str
    namespace: str
    warehouse: str | None
    uri: str | None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> CatalogSettings:
        kind = os.environ.get("SCHEMAHUB_ICEBERG_CATALOG", "sql").strip().lower() or "sql"
        if kind not in KINDS:
            raise CatalogError(f"SCHEMAHUB_ICEBERG_CATALOG={kind!r} is not one of {', '.join(KINDS)}")
        lake = config.lake_root()
        uri = os.environ.get("SCHEMAHUB_ICEBERG_URI") or None
        warehouse = os.environ.get("SCHEMAHUB_ICEBERG_WAREHOUSE") or None
        extra: dict[str, str] = {}
        if kind == "sql":
            uri = uri or sql_uri_default(lake)
            warehouse = warehouse or warehouse_default(lake)
        elif kind == "rest":
            for env, prop in (("SCHEMAHUB_ICEBERG_TOKEN", "token"), ("SCHEMAHUB_ICEBERG_CREDENTIAL", "credential")):
                if os.environ.get(env):
                    extra[prop] = os.environ[env]
        elif kind == "glue":
            warehouse = warehouse or (warehouse_default(lake) if config.is_s3(lake) else None)
            extra["glue.region"] = str(config.s3_settings()["region"])
        namespace = os.environ.get("SCHEMAHUB_ICEBERG_NAMESPACE", DEFAULT_NAMESPACE).strip() or DEFAULT_NAMESPACE
        return cls(kind=kind, namespace=namespace, warehouse=warehouse, uri=uri, extra=extra)

    @property
    def sqlite_path(self) -> Path | None:
        if self.kind == "sql" and self.uri and self.uri.startswith("sqlite:///"):
            return Path(self.uri[len("sqlite:///") :])
        return None

    def properties(self) -> dict[str, str]:
        """The properties handed to `pyiceberg.catalog.load_catalog` (merged with pyiceberg's own config)."""
        props: dict[str, str] = {"type": self.kind, **self.extra}
        if self.uri:
            props["uri"] = self.uri
        if self.warehouse:
            props["warehouse"] = self.warehouse
        if (self.warehouse or "").startswith("s3://") or config.is_s3(config.lake_root()) or self.kind == "glue":
            props.update(s3_file_io_properties())
        return props

    def describe(self) -> str:
        where = self.uri or "(uri from pyiceberg config)"
        return f"{self.kind} catalog {where}, warehouse {self.warehouse or '(catalog default)'}, namespace {self.namespace}"


def open_catalog(settings: CatalogSettings | None = None, *, create: bool = True) -> Catalog:
    """Load the configured catalog; with `create`, make the SQLite file's folder and the namespace."""
    from pyiceberg.catalog import load_catalog

    settings = settings or CatalogSettings.from_env()
    if settings.kind == "rest" and not settings.uri and not os.environ.get("PYICEBERG_CATALOG__SCHEMAHUB__URI"):
        raise CatalogError("rest catalog needs SCHEMAHUB_ICEBERG_URI (the REST endpoint)")
    sqlite = settings.sqlite_path
    if sqlite is not None and not create and not sqlite.exists():
        raise CatalogError(f"no Iceberg catalog at {sqlite}: nothing published yet (run `schemahub publish`)")
    if sqlite is not None:
        sqlite.parent.mkdir(parents=True, exist_ok=True)
    try:
        catalog = _load_with_retry(load_catalog, settings, create=create)
    except SchemaHubError:
        raise
    except Exception as exc:
        raise CatalogError(f"cannot open {settings.describe()}: {exc}") from exc
    return catalog


def _load_with_retry(load_catalog, settings: CatalogSettings, *, create: bool) -> Catalog:  # type: ignore[no-untyped-def]
    """Open the catalog (and its namespace). Two processes opening a fresh SQLite catalog race to create its
    tables and namespace rows (pyiceberg lets the IntegrityError / "table exists" through); the loser retries
    and then finds them made."""
    from sqlalchemy.exc import IntegrityError, OperationalError
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

    @retry(retry=retry_if_exception_type((OperationalError, IntegrityError)), stop=stop_after_attempt(6),
           wait=wait_random(0.05, 0.3), reraise=True)
    def load() -> Catalog:
        catalog = load_catalog(CATALOG_NAME, **settings.properties())
        if create:
            catalog.create_namespace_if_not_exists(settings.namespace)
        return catalog

    return load()


def identifier(name: str, settings: CatalogSettings | None = None) -> str:
    settings = settings or CatalogSettings.from_env()
    return f"{settings.namespace}.{name}"


def duckdb_path(location: str) -> str:
    """A metadata location as DuckDB's iceberg_scan takes it (plain path for local files)."""
    return location[len("file://") :] if location.startswith("file://") else location


def metadata_locations(settings: CatalogSettings | None = None) -> dict[str, str]:
    """Current metadata.json of every published table: `{table name: path or s3:// URI}`.

    Read-only: returns `{}` when nothing was published yet (no catalog file). This is what the DuckDB shell
    uses to open the latest snapshot of each table:
        select * from iceberg_scan('<metadata_locations()["trades_unified"]>')
    """
    settings = settings or CatalogSettings.from_env()
    sqlite = settings.sqlite_path
    if sqlite is not None and not sqlite.exists():
        return {}
    catalog = open_catalog(settings, create=False)
    try:
        names = catalog.list_tables(settings.namespace)
    except Exception as exc:  # NoSuchNamespaceError: nothing published yet
        if type(exc).__name__ == "NoSuchNamespaceError":
            return {}
        raise
    out = {}
    for ident in names:
        table = catalog.load_table(ident)
        out[ident[-1]] = duckdb_path(table.metadata_location)
    return out
