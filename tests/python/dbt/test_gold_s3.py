"""The gold models build against an S3 lake (moto on 127.0.0.1) with the profile's `s3` target: date partitions for
features_2s and labels_10s, a version directory for training_sets, never a `__HIVE_DEFAULT_PARTITION__`.
The market is SIMULATED (sandbox), written straight into bronze on the bucket."""

from __future__ import annotations

import datetime as dt

import boto3

from sandbox.bronze import write_bronze
from sandbox.market import Market
from schemahub import duck


def test_gold_builds_on_s3(s3_lake: str, moto_server, dbt_s3) -> None:
    market = Market(3, dt.datetime(2025, 2, 9, 23, 57, tzinfo=dt.UTC), dt.datetime(2025, 2, 10, 0, 3, tzinfo=dt.UTC),
                    assets=("BTC",))
    write_bronze(market, datasets=("trades", "depth"))
    dbt_s3("build", "-s", "+training_sets", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    dbt_s3("test", "-s", "features_2s", "labels_10s", "training_sets", "test_name:gold_*",
           "--exclude-resource-type", "unit_test")

    bucket, prefix = s3_lake.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/gold/")
    keys = {o["Key"].removeprefix(f"{prefix}/gold/") for page in pages for o in page.get("Contents", [])}
    for day in ("2025-02-09", "2025-02-10"):
        assert f"features_2s/partition_date={day}/data_0.parquet" in keys, keys
        assert f"labels_10s/partition_date={day}/data_0.parquet" in keys, keys
        assert f"training_sets/data_version=v1.0/partition_date={day}/data_0.parquet" in keys, keys
    assert not [k for k in keys if "__HIVE_DEFAULT_PARTITION__" in k]

    con = duck.connect(str(dbt_s3.duckdb_path), read_only=True)
    try:
        n_features, n_labels = con.execute(
            "select (select count(*) from features_2s), (select count(*) from labels_10s)").fetchone()
        n_train = con.execute("select count(*) from training_sets where data_version = 'v1.0'").fetchone()[0]
    finally:
        con.close()
    assert n_features == n_labels == 3 * 6 * 60 // 2  # three venues, six minutes, one row every 2 s
    assert n_train > 0
