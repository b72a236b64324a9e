"""Publishing bronze and unified trades (and gold) as Apache Iceberg tables through pyiceberg."""
