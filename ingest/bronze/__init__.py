"""Bronze: raw per-source tables, venue-native fields plus lineage, append-only Parquet."""

from ingest.bronze.tables import TABLES, BronzeTable, table
from ingest.bronze.writer import BronzeFile, BronzeWriter

__all__ = ["TABLES", "BronzeFile", "BronzeTable", "BronzeWriter", "table"]
