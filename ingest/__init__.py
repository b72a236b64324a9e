"""Extractors: exchange connectors, the shared HTTP client, bronze writer, checkpoints, backfills."""
