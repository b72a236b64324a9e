"""The same staging + silver models build against an S3 lake (moto on 127.0.0.1) with the profile's `s3` target."""

from __future__ import annotations

import boto3
from dbt_bronze_fixture import write_fixture_lake

from ingest.bronze.writer import BronzeWriter
from schemahub import duck


def test_silver_builds_on_s3(s3_lake: str, moto_server, dbt_s3) -> None:
    truth = write_fixture_lake(BronzeWriter())
    dbt = dbt_s3
    dbt("build", "-s", "path:models/staging", "+path:models/silver", "--indirect-selection", "cautious")

    bucket, prefix = s3_lake.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/silver/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    for model, part in [("trades_unified", "trade_date"), ("bars_1m", "partition_date"),
                        ("orderbook_snapshots", "partition_date"), ("trades_agg", "partition_date")]:
        for day in ("2024-12-31", "2025-01-01"):
            assert f"{prefix}/silver/{model}/{part}={day}/data_0.parquet" in keys, (model, day, keys)
    assert not [k for k in keys if "__HIVE_DEFAULT_PARTITION__" in k]

    con = duck.connect(str(dbt.duckdb_path), read_only=True)
    try:
        n = con.execute("select count(*) from trades_unified").fetchone()[0]
    finally:
        con.close()
    assert n == sum(len(v) for v in truth.values())
