"""CLI commands (to be filled in)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-commands of this module."""
