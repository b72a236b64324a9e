"""Sub-commands of `schemahub` contributed by the ingest package (one module per command family)."""

from __future__ import annotations

import argparse
import importlib

COMMANDS = (
    "ingest.commands.seed",  # update-seed
    "ingest.commands.trades",  # ingest, backfill
    "ingest.commands.dumps",  # dumps (Binance bulk archives)
    "ingest.commands.books",  # books (REST depth polling), import-recording
    "ingest.commands.compact",  # compact
)


def register(sub: argparse._SubParsersAction) -> None:
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
