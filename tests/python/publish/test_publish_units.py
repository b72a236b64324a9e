"""Pure parts of the publisher: time conversion, date options, catalog settings, the read-only look-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from publish.catalog import CatalogError, CatalogSettings, metadata_locations
from publish.cli import parse_dates
from publish.convert import ConvertError, check_one_day, event_times, unify
from schemahub.cli import SchemaHubError


def us(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_event_times_are_exact_per_unit() -> None:
    kraken = event_times(pa.array(["1704067199.999999", "1704067200", "1704067200.1"]), "seconds_text", what="k")
    assert kraken.to_pylist() == [us(2023, 12, 31, 23, 59, 59, 999999), us(2024, 1, 1), us(2024, 1, 1, 0, 0, 0, 100000)]
    binance = event_times(pa.array([1704067200123, 1735689600000001], pa.int64()), "ms_or_us", what="b")
    assert binance.to_pylist() == [us(2024, 1, 1, 0, 0, 0, 123000), us(2025, 1, 1, 0, 0, 0, 1)]
    coinbase = event_times(pa.array(["2024-01-01T00:00:00.000123Z"]), "iso8601", what="c")
    assert coinbase.to_pylist() == [us(2024, 1, 1, 0, 0, 0, 123)]


def test_event_times_name_what_is_wrong() -> None:
    with pytest.raises(ConvertError, match=r"k\.parquet column 'time': 'soon' is not decimal seconds"):
        event_times(pa.array(["1704067200.5", "soon"]), "seconds_text", what="k.parquet column 'time'")
    with pytest.raises(ConvertError, match="1 row"):
        event_times(pa.array([None, 1704067200000], pa.int64()), "ms", what="b.parquet")
    with pytest.raises(ConvertError, match="not on 2024-01-02"):
        check_one_day(event_times(pa.array([1704067200000], pa.int64()), "ms", what="x"), dt.date(2024, 1, 2),
                      what="x.parquet")


def test_unify_adds_columns_and_refuses_type_changes() -> None:
    a = pa.schema([("id", pa.int64()), ("price", pa.string())])
    b = pa.schema([("id", pa.int64()), ("price", pa.string()), ("maker", pa.string())])
    assert unify([("a", a), ("b", b)]).names == ["id", "price", "maker"]
    with pytest.raises(ConvertError, match="'price' is double in c but string in a"):
        unify([("a", a), ("c", pa.schema([("price", pa.float64())]))])


def test_parse_dates() -> None:
    assert parse_dates("2024-01-30:2024-02-01,2024-03-01") == {
        dt.date(2024, 1, 30), dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2024, 3, 1)}
    with pytest.raises(SchemaHubError, match="end before start"):
        parse_dates("2024-02-01:2024-01-01")
    with pytest.raises(SchemaHubError, match="'yesterday'"):
        parse_dates("yesterday")


def test_catalog_settings(tmp_lake: Path, iceberg_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = CatalogSettings.from_env()
    assert local.uri == f"sqlite:///{tmp_lake}/iceberg/catalog.db"
    assert local.warehouse == (tmp_lake / "iceberg").as_uri()
    assert metadata_locations() == {}  # nothing published: no catalog file is created by looking
    assert not (tmp_lake / "iceberg").exists()

    monkeypatch.setenv("LAKE_ROOT", "s3://bucket/some/prefix")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    s3 = CatalogSettings.from_env()
    assert s3.warehouse == "s3://bucket/some/prefix/iceberg"
    assert s3.uri == f"sqlite:///{iceberg_env / 'state' / 'iceberg' / 'bucket__some__prefix.db'}"
    assert s3.properties()["s3.endpoint"] == "http://127.0.0.1:9"

    # REST and Glue are configuration only here (no server to talk to): check what would be handed over
    monkeypatch.setenv("SCHEMAHUB_ICEBERG_CATALOG", "rest")
    monkeypatch.setenv("SCHEMAHUB_ICEBERG_URI", "https://catalog.example/api")
    monkeypatch.setenv("SCHEMAHUB_ICEBERG_TOKEN", "t0k")
    rest = CatalogSettings.from_env().properties()
    assert rest["type"] == "rest" and rest["uri"] == "https://catalog.example/api" and rest["token"] == "t0k"
    monkeypatch.setenv("SCHEMAHUB_ICEBERG_CATALOG", "glue")
    glue = CatalogSettings.from_env().properties()
    assert glue["type"] == "glue" and glue["warehouse"] == "s3://bucket/some/prefix/iceberg"
    monkeypatch.setenv("SCHEMAHUB_ICEBERG_CATALOG", "hive-ish")
    with pytest.raises(CatalogError, match="hive-ish"):
        CatalogSettings.from_env()
