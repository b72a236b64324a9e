"""Exchange connectors: one module per venue (facts + pure parsers + thin fetch methods) and a registry.

Adding a venue = one module here, its fixtures and tests, and one line in `REGISTRY`.
"""

from __future__ import annotations

from ingest.connectors.base import Connector, Page, Product, Record
from ingest.connectors.binance import Binance
from ingest.connectors.coinbase import Coinbase
from ingest.connectors.kraken import Kraken
from ingest.errors import SeedError
from ingest.http import HttpClient

REGISTRY: dict[str, type[Connector]] = {"binance": Binance, "coinbase": Coinbase, "kraken": Kraken}


def connector_class(venue: str) -> type[Connector]:
    try:
        return REGISTRY[venue]
    except KeyError:
        raise SeedError(f"unknown venue {venue!r}; known venues: {', '.join(REGISTRY)}") from None


def connector(venue: str, client: HttpClient) -> Connector:
    return connector_class(venue)(client)


__all__ = ["REGISTRY", "Binance", "Coinbase", "Connector", "Kraken", "Page", "Product", "Record", "connector",
           "connector_class"]
