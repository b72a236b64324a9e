"""Reading gold: feature discovery with explicit exclusions, joins, filters and clear errors on bad input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ml.dataset import discover_features, is_cross_venue, load_gold
from ml.errors import GoldDataError, GoldNotFoundError, TooFewRowsError
from ml.train import TrainRequest, train
from schemahub.storage import Lake


def test_discover_features_excludes_keys_metadata_levels_labels_and_text() -> None:
    schema = [("exchange", "VARCHAR"), ("feature_ts", "BIGINT"), ("partition_date", "DATE"), ("price", "DOUBLE"),
              ("mid_price", "DOUBLE"), ("ret_10s", "DOUBLE"), ("return_10s", "DOUBLE"), ("future_mid", "DOUBLE"),
              ("ob_imbalance", "DOUBLE"), ("is_us_hours", "INTEGER"), ("gap_indicator", "BOOLEAN"),
              ("source_quality", "VARCHAR"), ("etl_version", "VARCHAR"), ("_source", "VARCHAR"),
              ("xv_basis_bp", "DOUBLE"), ("spread_bp", "DECIMAL(18,6)"), ("bucket_ts", "TIMESTAMP"),
              ("xv_mid_price", "DOUBLE"), ("xv_leader_ret_2s", "DOUBLE")]
    features, excluded = discover_features(schema, user_excluded=["spread_bp"])
    assert features == ["ret_10s", "ob_imbalance", "is_us_hours", "gap_indicator", "xv_basis_bp", "xv_leader_ret_2s"]
    assert excluded["xv_mid_price"].startswith("price level")
    assert [f for f in features if is_cross_venue(f)] == ["xv_basis_bp", "xv_leader_ret_2s"]
    assert excluded["return_10s"].startswith("label-like") and excluded["future_mid"].startswith("label-like")
    assert excluded["price"].startswith("price level") and excluded["exchange"] == "key"
    assert excluded["spread_bp"] == "excluded by --exclude" and excluded["bucket_ts"].startswith("non-numeric")
    with pytest.raises(GoldDataError, match="nope"):
        discover_features(schema, user_excluded=["nope"])


def test_load_gold_joins_labels_and_keeps_only_the_base(gold12: Lake) -> None:
    frame = load_gold(gold12, base="BTC")
    assert set(frame.exchange) == {"binance", "coinbase"} and set(frame.symbol) == {"BTCUSDT", "BTC-USD"}
    assert np.all(np.diff(frame.ts_ms) >= 0)
    assert frame.flat_bp == pytest.approx(0.3, abs=0.01)
    assert frame.label_lag_ms == 0
    # labels_10s.volume_10s is the FUTURE volume: the feature must be the one from features_2s
    feats = pa.concat_tables(
        pa.parquet.read_table(gold12.uri(p)) for p in gold12.list_files("gold/features_2s", suffix=".parquet"))
    first = feats.filter(pc.and_(pc.equal(feats["exchange"], frame.exchange[0]),
                                 pc.equal(feats["feature_ts_ms"], int(frame.ts_ms[0]))))
    assert frame.column("volume_10s")[0] == first["volume_10s"][0].as_py()
    only_cb = load_gold(gold12, base="BTC", exchanges=["coinbase"])
    assert set(only_cb.exchange) == {"coinbase"}
    assert load_gold(gold12, base="BTC", symbol="BTCUSDT").n == frame.n - only_cb.n
    assert load_gold(gold12, base="ETH", exclude=["xv_basis_bp", "leader_ret_2s"]).n > 0


def test_other_horizons_use_their_own_return_and_the_same_flat_band(gold12: Lake) -> None:
    f30 = load_gold(gold12, horizon_s=30)
    f10 = load_gold(gold12, horizon_s=10)
    assert f30.flat_bp == f10.flat_bp
    assert np.std(f30.ret) > np.std(f10.ret) * 1.3
    assert set(np.unique(f30.direction)) == {-1, 0, 1}


def test_timestamp_typed_feature_ts_is_read_too(make_gold: Callable[..., Lake]) -> None:
    def as_timestamps(t: dict[str, pa.Table]) -> dict[str, pa.Table]:
        out = {}
        for k, tab in t.items():
            ts = pa.array(np.asarray(tab["feature_ts_ms"]), pa.timestamp("ms", tz="UTC"))
            tab = tab.drop_columns(["feature_ts_ms"] + (["target_ts_ms"] if "target_ts_ms" in tab.column_names else []))
            out[k] = tab.set_column(tab.column_names.index("feature_ts"), "feature_ts", ts)
        return out

    lake = make_gold(hours=2, mutate=as_timestamps)
    frame = load_gold(lake)
    assert frame.ts_ms.min() == 1_772_409_660_000 and frame.n > 3000


def test_no_gold_is_a_clear_error(tmp_lake) -> None:
    with pytest.raises(GoldNotFoundError, match=r"no gold Parquet under .*gold/features_2s"):
        load_gold(Lake.from_env())


def test_unknown_base_lists_what_is_there(gold12: Lake) -> None:
    with pytest.raises(GoldDataError, match=r"base=DOGE.*\['BTC', 'ETH'\]"):
        load_gold(gold12, base="DOGE")


def test_all_nan_feature_is_a_clear_error(make_gold: Callable[..., Lake]) -> None:
    def kill_spread(t: dict[str, pa.Table]) -> dict[str, pa.Table]:
        f = t["features"]
        i = f.column_names.index("spread_bp")
        t["features"] = f.set_column(i, "spread_bp", pa.nulls(f.num_rows, pa.float64()))
        return t

    lake = make_gold(hours=2, mutate=kill_spread)
    with pytest.raises(GoldDataError, match=r"\['spread_bp'\] are NULL/NaN on every selected row.*--exclude spread_bp"):
        load_gold(lake)
    assert "spread_bp" not in load_gold(lake, exclude=["spread_bp"]).feature_names


def test_missing_label_column_is_named(make_gold: Callable[..., Lake]) -> None:
    def drop(t: dict[str, pa.Table]) -> dict[str, pa.Table]:
        t["labels"] = t["labels"].drop_columns(["return_15s"])
        return t

    lake = make_gold(hours=2, mutate=drop)
    with pytest.raises(GoldDataError, match="labels_10s has no column 'return_15s'"):
        load_gold(lake, horizon_s=15)


def test_too_few_rows_is_a_clear_error(make_gold: Callable[..., Lake]) -> None:
    lake = make_gold(hours=0.9)
    with pytest.raises(TooFewRowsError, match="walk-forward needs"):
        train(TrainRequest(), lake, progress=False)


def test_duplicated_keys_are_a_clear_error(make_gold: Callable[..., Lake]) -> None:
    def duplicate(t: dict[str, pa.Table]) -> dict[str, pa.Table]:
        t["features"] = pa.concat_tables([t["features"], t["features"].slice(100, 2)])
        return t

    lake = make_gold(hours=2, mutate=duplicate)
    with pytest.raises(GoldDataError, match=r"2 duplicated \(exchange, symbol, feature_ts\) keys"):
        load_gold(lake)


def test_invalid_labels_are_left_out_and_counted(gold12: Lake) -> None:
    frame = load_gold(gold12)
    assert 0.005 < frame.rows_dropped_invalid / (frame.n + frame.rows_dropped_invalid) < 0.02  # ~1% planted
