"""The one `schemahub` command. Each area registers its own sub-commands; heavy imports happen inside them.

    schemahub sandbox | update-seed | ingest | backfill | dumps | books | import-recording | compact
    schemahub build [--by-day] | train | predict | replay | discrepancies | publish | snapshots | shell-init | ...
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Modules that contribute sub-commands: each has `register(subparsers)` adding parsers whose
# `func(args) -> int | None` does the work.
COMMAND_MODULES = (
    "sandbox.cli",
    "ingest.cli",
    "ml.cli",
    "demos.cli",
    "publish.cli",
    "schemahub.build",
)


class SchemaHubError(Exception):
    """Base error: its message names what failed (venue, symbol, file, column) and why."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="schemahub", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SchemaHubError as exc:
        print(f"schemahub {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
