"""Argument helpers shared by the ingest commands: lake selection, dates, products, checkpoint stores."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from pathlib import Path

from ingest.connectors import REGISTRY
from ingest.errors import SeedError
from schemahub.cli import SchemaHubError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def add_lake_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--s3-bucket", help="write the lake to s3://BUCKET/PREFIX (sets LAKE_ROOT for this run)")
    p.add_argument("--s3-prefix", default="schemahub", help="key prefix inside the bucket (default: schemahub)")
    p.add_argument("--seed-path", type=Path, default=None,
                   help="product seed YAML (default: config/mappings/product_ids_seed.yaml)")


def apply_lake_args(args: argparse.Namespace) -> None:
    """--s3-bucket/--s3-prefix map to LAKE_ROOT=s3://bucket/prefix (everything else reads LAKE_ROOT)."""
    if args.s3_bucket:
        if not _BUCKET.match(args.s3_bucket):
            raise SchemaHubError(f"--s3-bucket {args.s3_bucket!r} is not a valid S3 bucket name")
        prefix = (args.s3_prefix or "").strip("/")
        os.environ["LAKE_ROOT"] = f"s3://{args.s3_bucket}/{prefix}" if prefix else f"s3://{args.s3_bucket}"


def parse_when(value: str, flag: str) -> dt.datetime:
    """ISO-8601 date or date-time (naive means UTC), or `now`; a bad value is a clear error."""
    text = value.strip()
    if text.lower() == "now":
        return dt.datetime.now(dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SchemaHubError(f"{flag} {value!r} is not a date or date-time (use e.g. 2025-01-31 or "
                             "2025-01-31T12:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def resolve_targets(targets: list[str], seed_path: Path | None) -> list[tuple[str, str]]:
    """`binance coinbase kraken [PRODUCT...]` -> [(venue, symbol)], products from the seed when none is named."""
    from ingest import seed as seeds

    for t in targets:
        if t.isalpha() and t.islower() and t not in REGISTRY:
            raise SeedError(f"unknown venue {t!r}; known venues: {', '.join(REGISTRY)} (products are written "
                            "in the venue's own upper-case form, e.g. BTCUSDT, BTC-USD, XBTUSD)")
    venues = [t for t in targets if t.lower() in REGISTRY]
    products = [t for t in targets if t.lower() not in REGISTRY]
    venues = list(dict.fromkeys(v.lower() for v in venues))
    seed = None

    def get_seed() -> seeds.Seed:
        nonlocal seed
        if seed is None:
            seed = seeds.load(seed_path)
        return seed

    jobs: list[tuple[str, str]] = []
    if not products:
        s = get_seed()
        for venue in venues or list(REGISTRY):
            syms = s.for_venue(venue)
            if not syms and venues:
                raise SeedError(f"no {venue} products in the seed file {seed_path or seeds.default_path()}; "
                                f"name one (schemahub ingest {venue} SYMBOL) or run update-seed")
            jobs += [(venue, sym) for sym in syms]
        return jobs
    for product in products:
        if len(venues) == 1:
            jobs.append((venues[0], product))
            continue
        try:
            listed = get_seed().venues_of(product)
        except SeedError:
            listed = []
        candidates = [v for v in listed if not venues or v in venues]
        if len(candidates) == 1:
            jobs.append((candidates[0], product))
        elif not venues and not listed and "-" in product:
            jobs.append(("coinbase", product))  # the spec's form: `schemahub ingest BTC-USD`
        elif len(candidates) > 1:
            jobs += [(v, product) for v in candidates]
        else:
            known = ", ".join(REGISTRY)
            raise SeedError(f"unknown product {product!r}: not in the seed file for "
                            f"{', '.join(venues) if venues else 'any venue'}; name its venue "
                            f"({known}), e.g. `schemahub ingest binance {product}`")
    return list(dict.fromkeys(jobs))
