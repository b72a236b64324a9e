"""The product seed file: which products `ingest` and `backfill` work on when none is named.

Format (the spec's, extended to several venues; `config/mappings/product_ids_seed.yaml`):

    venues:
      binance:
        product_ids: [BTCUSDT, ETHUSDT]
      coinbase:
        product_ids: [BTC-USD, ETH-USD]
      kraken:
        product_ids: [XBTUSD, ETHUSD]
    metadata:
      last_updated: 2025-12-15T12:00:00Z
      count: 6

The spec's single-venue form (`product_ids: [...]` plus `metadata.source: coinbase`) is read too.
Symbols are each venue's own (Kraken: the AssetPairs `altname`). A malformed file is an error naming the file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.connectors import REGISTRY
from ingest.connectors.base import Product
from ingest.errors import SeedError
from schemahub import config

DEFAULT_SEED = Path("config") / "mappings" / "product_ids_seed.yaml"
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,40}$")


def default_path() -> Path:
    return config.project_path(DEFAULT_SEED)


@dataclass
class Seed:
    products: dict[str, list[str]] = field(default_factory=dict)  # venue -> symbols (ordered, unique)
    last_updated: str | None = None

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.products.values())

    def for_venue(self, venue: str) -> list[str]:
        return list(self.products.get(venue, []))

    def venues_of(self, symbol: str) -> list[str]:
        return [v for v, syms in self.products.items() if symbol in syms]

    def to_yaml(self) -> str:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {
            "venues": {v: {"product_ids": list(syms)} for v, syms in sorted(self.products.items())},
            "metadata": {"last_updated": now, "count": self.count},
        }
        header = ("# Products `schemahub ingest` / `backfill` work on when none is named (each venue's own symbols).\n"
                  "# Managed by `schemahub update-seed --fetch --write [--merge] [--filter-regex RE]`.\n")
        return header + yaml.safe_dump(doc, sort_keys=False)


def parse(text: str, where: str) -> Seed:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeedError(f"product seed file {where} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise SeedError(f"product seed file {where} should be a mapping with `venues:` (or `product_ids:`)")
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise SeedError(f"product seed file {where}: `metadata` should be a mapping")
    products: dict[str, list[str]] = {}
    if "venues" in doc:
        venues = doc["venues"]
        if not isinstance(venues, dict):
            raise SeedError(f"product seed file {where}: `venues` should map venue -> {{product_ids: [...]}}")
        for venue, block in venues.items():
            ids = block.get("product_ids") if isinstance(block, dict) else block
            products[str(venue)] = _ids(ids, where, f"venues.{venue}.product_ids")
    elif "product_ids" in doc:
        venue = str(meta.get("source", "coinbase"))
        products[venue] = _ids(doc["product_ids"], where, "product_ids")
    else:
        raise SeedError(f"product seed file {where} has neither `venues:` nor `product_ids:`")
    for venue in products:
        if venue not in REGISTRY:
            raise SeedError(f"product seed file {where}: unknown venue {venue!r} (known: {', '.join(REGISTRY)})")
    updated = meta.get("last_updated")
    return Seed(products, None if updated is None else str(updated))


def _ids(value: object, where: str, key: str) -> list[str]:
    if not isinstance(value, list):
        raise SeedError(f"product seed file {where}: `{key}` should be a list of product ids")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _SYMBOL.match(item):
            raise SeedError(f"product seed file {where}: `{key}[{i}]` = {item!r} is not a product id")
        if item not in out:
            out.append(item)
    return out


def load(path: Path | None = None) -> Seed:
    p = path or default_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedError(f"product seed file {p} not found (create it with `schemahub update-seed --fetch "
                        "--write`, or name the products on the command line)") from None
    except OSError as exc:
        raise SeedError(f"cannot read product seed file {p}: {exc}") from None
    return parse(text, str(p))


def save(seed: Seed, path: Path | None = None) -> Path:
    """Atomic write (temporary sibling + rename): a reader sees the old file or the new one."""
    p = path or default_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{uuid.uuid4().hex}")
    try:
        tmp.write_text(seed.to_yaml(), encoding="utf-8")
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def select(products: list[Product], pattern: str | None, active_only: bool = True) -> list[Product]:
    try:
        rx = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise SeedError(f"--filter-regex {pattern!r} is not a valid regular expression: {exc}") from None
    return [p for p in products if (p.active or not active_only) and (rx is None or rx.fullmatch(p.symbol))]


def merged(old: Seed | None, fetched: dict[str, list[str]], merge: bool) -> Seed:
    """New seed from fetched products; with `merge`, keep every old product (and venue) too."""
    out: dict[str, list[str]] = {}
    if merge and old is not None:
        out = {v: list(s) for v, s in old.products.items()}
    for venue, syms in fetched.items():
        cur = out.setdefault(venue, [])
        for s in syms:
            if s not in cur:
                cur.append(s)
    if not merge and old is not None:  # venues not fetched this time stay as they were
        for v, syms in old.products.items():
            out.setdefault(v, list(syms))
    return Seed(out)
