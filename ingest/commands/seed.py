"""`schemahub update-seed`: fetch each venue's products and manage config/mappings/product_ids_seed.yaml.

    schemahub update-seed --fetch --write                      # all venues, active products
    schemahub update-seed coinbase --fetch --write --filter-regex '.*-USD' --merge
    schemahub update-seed --dry-run                            # show what would be written
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("update-seed", help="fetch products from the venues and update the product seed file",
                       description="Fetch product lists (Binance exchangeInfo, Coinbase /products, Kraken "
                                   "AssetPairs) and write the seed file that ingest/backfill read.")
    p.add_argument("venues", nargs="*", metavar="VENUE", help="binance coinbase kraken (default: all)")
    p.add_argument("--fetch", action="store_true", help="fetch the product lists from the venues")
    p.add_argument("--write", action="store_true", help="write the seed file (else only show it)")
    p.add_argument("--merge", action="store_true", help="keep products already in the seed file")
    p.add_argument("--filter-regex", default=None, help="keep only product ids matching this regex (full match)")
    p.add_argument("--include-inactive", action="store_true", help="keep halted / offline products too")
    p.add_argument("--dry-run", action="store_true", help="show what would be written; write nothing")
    p.add_argument("--path", type=Path, default=None,
                   help="seed file (default: config/mappings/product_ids_seed.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ingest import seed as seeds
    from ingest.connectors import REGISTRY, connector
    from ingest.errors import SeedError
    from ingest.http import HttpClient

    path = args.path or seeds.default_path()
    venues = list(dict.fromkeys(v.lower() for v in args.venues)) or list(REGISTRY)
    unknown = [v for v in venues if v not in REGISTRY]
    if unknown:
        raise SeedError(f"unknown venue(s) {unknown}; known venues: {', '.join(REGISTRY)}")
    old = seeds.load(path) if path.exists() else None
    if not args.fetch:
        if old is None:
            raise SeedError(f"product seed file {path} does not exist; run with --fetch --write to create it")
        new = old
        if args.filter_regex:
            fake = [seeds.Product(v, s, "", "", "listed", True) for v, syms in old.products.items() for s in syms]
            kept = seeds.select(fake, args.filter_regex)
            new = seeds.Seed({v: [p.symbol for p in kept if p.venue == v] for v in old.products})
    else:
        fetched: dict[str, list[str]] = {}
        with HttpClient() as client:
            for venue in venues:
                products = connector(venue, client).products()
                chosen = seeds.select(products, args.filter_regex, active_only=not args.include_inactive)
                fetched[venue] = sorted(p.symbol for p in chosen)
                print(f"{venue}: {len(products)} products listed, {len(chosen)} kept", file=sys.stderr)
        new = seeds.merged(old, fetched, args.merge)
    text = new.to_yaml()
    if args.dry_run or not args.write:
        print(f"# would write {path} ({new.count} products){'' if args.write else ' (add --write to save)'}")
        print(text, end="")
        return 0
    seeds.save(new, path)
    print(f"wrote {path}: {new.count} products ({', '.join(f'{v} {len(s)}' for v, s in new.products.items())})")
    return 0
