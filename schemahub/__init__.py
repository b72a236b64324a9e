"""SchemaHub: a local-first crypto market-data lakehouse."""

__version__ = "0.1.0"
