"""Gold layer checked from outside its SQL, on a SIMULATED sandbox market written straight into bronze.

- Removing every trade and book after a cut time leaves every feature at or before the cut unchanged
  (features_2s is built twice: on the full bronze and on the truncated bronze).
- Rebuilding one day rewrites only that day's gold partitions, with the same rows as the full build.
- labels_10s equals labels computed here in Python (pandas/numpy) from silver trades_unified and
  orderbook_snapshots, following the documented rules, not the SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.bronze.writer import BronzeWriter
from sandbox.bronze import depth_records, trade_records
from sandbox.market import Market
from sandbox.specs import VENUES, market_for
from schemahub import config, duck
from schemahub.storage import Lake

START = dt.datetime(2025, 1, 14, 23, 56, tzinfo=dt.UTC)
END = dt.datetime(2025, 1, 15, 0, 6, tzinfo=dt.UTC)
CUT = dt.datetime(2025, 1, 15, 0, 1, 7, 300_000, tzinfo=dt.UTC)  # not on the 2-s grid, inside day 2
DAY1, DAY2 = "2025-01-14", "2025-01-15"
GOLD = ("features_2s", "labels_10s")
VOLATILE = {"created_ts"}  # build time: the only column allowed to differ between two builds

# the documented label rules (models/gold/_gold__docs.md, macros/gold_params.sql)
HORIZON_S = 10
FLAT_BAND = 0.5e-4
MAX_BOOK_AGE_MS = 5_000
GAP_THRESHOLD_S = 5
ASOF_HORIZON_S = 600


@dataclass(frozen=True)
class Built:
    full: Path  # lake built in full from the whole market
    truncated: Path  # lake built in full from the market cut at CUT
    full_rows: dict[str, pd.DataFrame]  # gold tables of the full lake right after the full build
    full_files: dict[str, dict[str, tuple[int, bytes]]]  # gold files after the full build
    rebuilt_rows: dict[str, pd.DataFrame]  # gold tables after rebuilding DAY2 alone
    rebuilt_files: dict[str, dict[str, tuple[int, bytes]]]


def write_bronze(lake: Path, market: Market, cut: dt.datetime | None) -> None:
    """Trades and 1-s book snapshots of every venue's BTC market; with `cut`, nothing after it exists."""
    writer = BronzeWriter(Lake(str(lake)))
    for venue in VENUES:
        symbol = market_for(venue, "BTC").symbol
        t_ns = market.tape(venue, "BTC").t_ns
        hi = len(t_ns) if cut is None else int(np.searchsorted(t_ns, _ns(cut), side="right"))
        table = f"raw_{venue}_trades"
        writer.write(table, symbol, writer.to_arrow(table, trade_records(market, venue, "BTC", 0, hi),
                                                    source=f"{venue}.sandbox.trades", source_uri="test://gold"))
        books = [b for b in depth_records(market, venue, "BTC", 1.0) if cut is None or b["_recv_ts"] <= cut]
        table = f"raw_{venue}_depth"
        writer.write(table, symbol, writer.to_arrow(table, books, source=f"{venue}.sandbox.depth",
                                                    source_uri="test://gold", recv_ts=None))


def _ns(ts: dt.datetime) -> int:
    return (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1) * 1000


def dbt(lake: Path, *args: str) -> None:
    for layer in ("silver", "gold"):  # DuckDB's COPY creates one directory level only
        (lake / layer).mkdir(parents=True, exist_ok=True)
    work = lake.parent
    env = {**os.environ, "LAKE_ROOT": str(lake), "DUCKDB_PATH": str(work / "warehouse.duckdb"),
           "DBT_PROFILES_DIR": str(config.PROJECT_ROOT), "DBT_TARGET": "local",
           "DUCKDB_EXTENSION_DIR": str(config.extension_dir()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--target-path", str(work / "dbt_target"),
         "--log-path", str(work / "dbt_logs")],
        cwd=config.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} on {lake} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")


def build(lake: Path, day: str | None = None) -> None:
    window = ["--vars", f"{{start_date: '{day}', end_date: '{day}'}}"] if day else []
    # seeds, staging, silver and the two gold models in one dbt invocation (dbt's start-up dominates here)
    dbt(lake, "build", "-s", "+features_2s", "+labels_10s", "--exclude-resource-type", "test",
        "--exclude-resource-type", "unit_test", *window)


def read(lake: Path, layer: str, model: str) -> pd.DataFrame:
    con = duck.connect()
    try:
        return con.sql(f"select * from read_parquet('{lake}/{layer}/{model}/*/*.parquet', "
                       "hive_partitioning = true, hive_types = {'partition_date': varchar})").df()
    finally:
        con.close()


def files(lake: Path, model: str) -> dict[str, tuple[int, bytes]]:
    root = lake / "gold" / model
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.parquet")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    market = Market(7, START, END, assets=("BTC",))
    full = tmp_path_factory.mktemp("gold_full") / "lake"
    truncated = tmp_path_factory.mktemp("gold_cut") / "lake"
    write_bronze(full, market, None)
    write_bronze(truncated, market, CUT)
    for lake in (full, truncated):
        build(lake)
    full_rows = {m: read(full, "gold", m) for m in GOLD}
    full_files = {m: files(full, m) for m in GOLD}
    build(full, DAY2)
    return Built(full, truncated, full_rows, full_files, {m: read(full, "gold", m) for m in GOLD},
                 {m: files(full, m) for m in GOLD})


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    key = ["exchange", "symbol", "feature_ts"]
    cols = [c for c in a.columns if c not in VOLATILE]
    a = a[cols].sort_values(key).reset_index(drop=True)
    b = b[cols].sort_values(key).reset_index(drop=True)
    assert len(a) == len(b), f"{what}: {len(a)} rows vs {len(b)}"
    for col in cols:
        left, right = a[col], b[col]
        same = (left == right) | (left.isna() & right.isna())
        assert same.all(), f"{what}: column {col} differs at\n{a.loc[~same, [*key, col]].head()}\n" \
                           f"{b.loc[~same, [*key, col]].head()}"


def test_features_unchanged_when_data_after_feature_ts_removed(built: Built) -> None:
    cut_s = math.floor(CUT.timestamp())
    full = built.full_rows["features_2s"]
    cut = read(built.truncated, "gold", "features_2s")
    assert cut.feature_ts.max() <= cut_s < full.feature_ts.max(), "the truncated bronze must end at the cut"
    before = full[full.feature_ts <= cut_s]
    assert len(before) > 300 and before.xv_leader_ret_10s.notna().sum() > 100 and before.ret_60s.notna().any()
    assert_same_rows(before, cut[cut.feature_ts <= cut_s], "features at or before the cut, full vs truncated")


def test_one_day_rebuild_rewrites_only_that_day(built: Built) -> None:
    for model in GOLD:
        before, after = built.full_files[model], built.rebuilt_files[model]
        assert set(before) == set(after) == {f"partition_date={DAY1}/data_0.parquet",
                                             f"partition_date={DAY2}/data_0.parquet"}
        day1, day2 = f"partition_date={DAY1}/data_0.parquet", f"partition_date={DAY2}/data_0.parquet"
        assert after[day1] == before[day1], f"{model}: rebuilding {DAY2} touched {DAY1}"
        assert after[day2][0] != before[day2][0], f"{model}: {DAY2} was not rewritten"
        full, rebuilt = built.full_rows[model], built.rebuilt_rows[model]
        assert_same_rows(full[full.partition_date == DAY2], rebuilt[rebuilt.partition_date == DAY2],
                         f"{model} {DAY2}: one-day rebuild vs full build")
        assert not rebuilt.partition_date.isna().any()


def python_labels(trades: pd.DataFrame, books: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The documented label rules, for one venue, from silver rows (not from the gold SQL)."""
    books = books.assign(known_ms=np.maximum(books.snapshot_ts, books.recv_ms.fillna(books.snapshot_ts)))
    books = books[books.mid_price > 0].sort_values(["known_ms", "snapshot_ts"], kind="stable")
    known, mids = books.known_ms.to_numpy(), books.mid_price.to_numpy()
    trade_us, qty = trades.trade_us.to_numpy(), trades.quantity.to_numpy()
    order = np.argsort(trade_us, kind="stable")
    trade_us, qty = trade_us[order], qty[order]
    events = np.unique(np.concatenate([-(-trade_us // 1_000_000), -(-known // 1000)]))
    last_event = events.max()

    def book_at(ms: int) -> tuple[float | None, int | None]:
        """Mid and age of the latest book known at `ms`; unknown past the venue's last event (the data ends)."""
        i = np.searchsorted(known, ms, side="right") - 1
        if i < 0 or known[i] <= ms - (ASOF_HORIZON_S + 1) * 1000 or ms > last_event * 1000:
            return None, None
        return float(mids[i]), ms - int(known[i])

    out = []
    for t in rows.feature_ts.to_numpy():
        cur, cur_age = book_at(t * 1000)
        tgt, tgt_age = book_at((t + HORIZON_S) * 1000)
        ret = math.log(tgt / cur) if cur is not None and tgt is not None else None
        in_window = (known > t * 1000) & (known <= (t + HORIZON_S) * 1000)
        lo, hi = np.searchsorted(trade_us, t * 1_000_000, "right"), np.searchsorted(
            trade_us, (t + HORIZON_S) * 1_000_000, "right")
        silences = [s - events[np.searchsorted(events, s, "right") - 1] for s in range(t + 1, t + HORIZON_S + 1)]
        covered = last_event >= t + HORIZON_S
        gap = not covered or max(silences) >= GAP_THRESHOLD_S or tgt_age is None \
            or tgt_age > MAX_BOOK_AGE_MS
        path = [cur, *mids[in_window]] if cur is not None else list(mids[in_window])
        later = {h: book_at((t + h) * 1000)[0] for h in (5, 15, 30)}
        out.append({
            "feature_ts": t, "current_price": cur, "target_price": tgt, "return_10s": ret,
            "direction": None if ret is None else (0 if abs(ret) < FLAT_BAND else (1 if ret > 0 else -1)),
            # path statistics exist only for a window the data covers to its end
            "max_price_10s": max(path) if path and covered else None,
            "min_price_10s": min(path) if path and covered else None,
            "volume_10s": float(qty[lo:hi].sum()) if covered else None,
            "trade_count_10s": int(hi - lo) if covered else None,
            **{f"return_{h}s": (math.log(p / cur) if p is not None and cur is not None else None)
               for h, p in later.items()},
            "is_valid": bool(cur is not None and tgt is not None and cur_age <= MAX_BOOK_AGE_MS and not gap),
        })
    return pd.DataFrame(out)


def test_labels_match_independent_python(built: Built) -> None:
    con = duck.connect()
    try:
        trades = con.sql(f"select exchange, symbol, epoch_us(trade_ts) as trade_us, quantity from read_parquet("
                         f"'{built.full}/silver/trades_unified/*/*.parquet')").df()
        books = con.sql(f"select exchange, symbol, snapshot_ts, epoch_ms(recv_ts) as recv_ms, mid_price from "
                        f"read_parquet('{built.full}/silver/orderbook_snapshots/*/*.parquet')").df()
    finally:
        con.close()
    gold = built.full_rows["labels_10s"]
    assert set(gold.exchange) == set(VENUES)
    checked = 0
    for (exchange, symbol), rows in gold.groupby(["exchange", "symbol"]):
        rows = rows.sort_values("feature_ts").reset_index(drop=True)
        mine = python_labels(trades[(trades.exchange == exchange) & (trades.symbol == symbol)],
                             books[(books.exchange == exchange) & (books.symbol == symbol)], rows)
        where = f"{exchange} {symbol}"
        assert (rows.target_ts == rows.feature_ts + HORIZON_S).all(), where
        for col in ("is_valid", "direction", "trade_count_10s"):
            left, right = rows[col].astype("float"), mine[col].astype("float")
            same = (left == right) | (left.isna() & right.isna())
            assert same.all(), f"{where}: {col} differs at feature_ts {list(rows.feature_ts[~same][:5])}"
        for col in ("current_price", "target_price", "return_10s", "return_5s", "return_15s", "return_30s",
                    "max_price_10s", "min_price_10s", "volume_10s"):
            left, right = rows[col].astype("float").to_numpy(), mine[col].astype("float").to_numpy()
            ok = np.isclose(left, right, rtol=1e-12, atol=1e-12, equal_nan=True)
            assert ok.all(), f"{where}: {col} differs at feature_ts {list(rows.feature_ts[~ok][:5])}"
        assert rows.is_valid.mean() > 0.8, f"{where}: only {rows.is_valid.mean():.0%} valid labels"
        assert rows.direction.isin([-1, 1]).any() and (rows.direction == 0).any(), where
        checked += len(rows)
    assert checked > 800


def test_by_day_build_equals_the_whole_build(built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`schemahub build --by-day` (silver every date first, then gold date by date) writes the same gold rows
    as one whole build, across the midnight of the fixture market (gold at 23:59 looks ahead into day 2)."""
    from schemahub.build import bronze_dates, by_day_steps, run_steps

    lake = tmp_path / "lake"
    write_bronze(lake, Market(7, START, END, assets=("BTC",)), None)
    for layer in ("silver", "gold"):
        (lake / layer).mkdir(parents=True, exist_ok=True)
    dates = bronze_dates(str(lake))
    assert dates == [DAY1, DAY2]
    for key, value in {"LAKE_ROOT": str(lake), "DUCKDB_PATH": str(tmp_path / "w.duckdb"),
                       "DBT_PROFILES_DIR": str(config.PROJECT_ROOT), "DBT_TARGET": "local",
                       "DUCKDB_EXTENSION_DIR": str(config.extension_dir()),
                       "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}.items():
        monkeypatch.setenv(key, value)
    # the steps of the real command up to gold (the training set and the whole test suite need more data
    # than this 10-minute market holds, and the whole build it is compared with leaves them out too)
    steps = [s for s in by_day_steps(dates) if s.label not in ("training set", "tests")]
    assert [s.label for s in steps] == ["seeds", "staging views", *(f"silver {d}" for d in dates),
                                        *(f"gold {d}" for d in dates)]
    run_steps(steps, "local", progress=False)
    for model in GOLD:
        assert_same_rows(built.full_rows[model], read(lake, "gold", model), f"{model} by day vs whole")


def test_by_day_build_names_the_failing_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from schemahub.build import BuildError, Step, run_steps

    monkeypatch.setenv("DBT_PROFILES_DIR", str(config.PROJECT_ROOT))
    with pytest.raises(BuildError, match=r"dbt step 'silver 2025-01-15' \(dbt run --no-such-flag\) failed with exit 2"):
        run_steps([Step("silver 2025-01-15", ("run", "--no-such-flag"))], None, progress=False)
