"""`schemahub demo`'s guard rails: a missing command fails loudly, and real data is never mixed or wiped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from demos.pipeline import DemoOptions, DemoState, DemoStepError, demo_env, schemahub, step_prepare_lake
from schemahub.storage import Lake


def _state(lake: Path, tmp_path: Path) -> DemoState:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    return DemoState(Lake(str(lake)), demo_env(str(lake)), now, now, tmp_path)


def _bronze(lake: Path, uri: str) -> None:
    Lake(str(lake)).write_parquet(
        pa.table({"id": [1], "_source": ["binance.rest.historicalTrades"], "_source_uri": [uri]}),
        "bronze", "raw_binance_trades", "symbol=BTCUSDT", "date=2026-11-21", "a.parquet")


def test_a_command_that_does_not_exist_fails_the_step_by_name(tmp_lake: Path, tmp_path: Path) -> None:
    with pytest.raises(DemoStepError, match="`schemahub no-such-step` does not exist yet"):
        schemahub(_state(tmp_lake, tmp_path), "no-such-step", what="an undelivered step")


def test_the_demo_refuses_a_lake_with_real_data(tmp_lake: Path, tmp_path: Path) -> None:
    _bronze(tmp_lake, "https://api.binance.com/api/v3/historicalTrades?symbol=BTCUSDT")
    with pytest.raises(DemoStepError, match="holds real data"):
        step_prepare_lake(_state(tmp_lake, tmp_path), DemoOptions())
    assert Lake(str(tmp_lake)).list_files("bronze"), "real data must stay untouched"


def test_the_demo_replaces_a_previous_demo_lake(tmp_lake: Path, tmp_path: Path) -> None:
    _bronze(tmp_lake, "http://127.0.0.1:8765/binance/api/v3/historicalTrades?symbol=BTCUSDT")
    Lake(str(tmp_lake)).write_parquet(pa.table({"x": [1]}), "gold", "features_2s", "partition_date=2026-11-21",
                                      "data_0.parquet")
    assert "cleared" in step_prepare_lake(_state(tmp_lake, tmp_path), DemoOptions())
    assert not Lake(str(tmp_lake)).list_files("bronze") and not Lake(str(tmp_lake)).list_files("gold")
