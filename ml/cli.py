"""Sub-commands of `schemahub` contributed by the ml package."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's sub-commands to the `schemahub` parser."""
