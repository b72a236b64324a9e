"""Gold -> one in-memory training frame: features_2s joined to labels_10s, read through DuckDB into Arrow.

Pure parts (feature discovery, flat band, direction) are separate functions so they can be tested without I/O.
Only the columns the spec names are assumed; every other numeric column of features_2s is a candidate
feature unless it is listed in the explicit exclusion sets below.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ml.errors import GoldDataError, GoldNotFoundError
from schemahub.storage import Lake

log = logging.getLogger(__name__)

FEATURES_TABLE = "gold/features_2s"
LABELS_TABLE = "gold/labels_10s"
HORIZONS = (5, 10, 15, 30)

# --- explicit exclusions: a column listed here is never a model input --------------------------------------
KEY_COLUMNS = frozenset({
    "exchange", "symbol", "canonical_symbol", "base", "quote", "venue", "feature_ts", "feature_ts_ms", "feature_at",
    "partition_date", "date", "year", "month", "day", "hour",
})
METADATA_COLUMNS = frozenset({"created_ts", "etl_version", "source_quality", "updated_ts", "loaded_at"})
# Price levels are non-stationary: a tree splitting on "BTC above 60k" learns the regime of the training
# window, not a microstructure effect. Returns, imbalances and spreads carry the same information unit-free.
# Any other column named `*_price` (e.g. the cross-venue `xv_mid_price`) is treated as a level too.
PRICE_LEVEL_COLUMNS = frozenset({"price", "mid_price", "weighted_mid", "vwap", "micro_price", "last_price"})
# Anything named like a label or a future value is refused as an input even if it sits in features_2s.
LABEL_LIKE_PREFIXES = ("return_", "target", "label", "direction", "future", "fwd_", "next_", "log_return_target",
                       "price_target", "return_target")
CROSS_VENUE_PREFIXES = ("xv_", "leader_ret_")

NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                 "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "BOOLEAN")


def is_cross_venue(name: str) -> bool:
    return name.startswith(CROSS_VENUE_PREFIXES)


def discover_features(schema: Sequence[tuple[str, str]], user_excluded: Sequence[str] = ()) -> tuple[
        list[str], dict[str, str]]:
    """Split the features_2s schema into model inputs and excluded columns (name -> reason). Pure."""
    features: list[str] = []
    excluded: dict[str, str] = {}
    wanted_out = set(user_excluded)
    for name, dtype in schema:
        base_type = dtype.upper().split("(")[0].strip()
        if name in KEY_COLUMNS:
            excluded[name] = "key"
        elif name in METADATA_COLUMNS or name.startswith("_"):
            excluded[name] = "metadata"
        elif name in PRICE_LEVEL_COLUMNS or name.endswith("_price"):
            excluded[name] = "price level (non-stationary)"
        elif name.lower().startswith(LABEL_LIKE_PREFIXES):
            excluded[name] = "label-like name (possible look-ahead)"
        elif name in wanted_out:
            excluded[name] = "excluded by --exclude"
        elif base_type not in NUMERIC_TYPES:
            excluded[name] = f"non-numeric ({dtype})"
        else:
            features.append(name)
    unknown = wanted_out - {n for n, _ in schema}
    if unknown:
        raise GoldDataError(f"--exclude names columns that {FEATURES_TABLE} does not have: {sorted(unknown)}")
    return features, excluded


def direction_from_return(ret: np.ndarray, flat_bp: float) -> np.ndarray:
    """+1 / -1 / 0 with |ret| <= flat band (in bp of log return) counted as flat. Pure."""
    band = flat_bp * 1e-4
    out = np.where(ret > band, 1, np.where(ret < -band, -1, 0)).astype(np.int8)
    return out


def infer_flat_bp(return_10s: np.ndarray, direction_10s: np.ndarray) -> float:
    """The flat band gold used for `direction`: the largest |return_10s| labelled flat (0 when none). Pure."""
    flat = direction_10s == 0
    if not flat.any():
        return 0.0
    return float(np.nanmax(np.abs(return_10s[flat])) * 1e4)


@dataclass
class GoldFrame:
    """BTC (or another base) rows, sorted by (feature time, exchange, symbol), with the chosen horizon's label."""

    ts_ms: np.ndarray  # int64 feature time, epoch ms UTC
    exchange: np.ndarray  # str
    symbol: np.ndarray  # str
    X: np.ndarray  # float64 (n, p); NaN = missing
    feature_names: list[str]
    excluded: dict[str, str]
    horizon_s: int
    ret: np.ndarray  # realised log return over the horizon
    direction: np.ndarray  # int8 +1/-1/0
    flat_bp: float
    label_lag_ms: int  # target_ts - feature_ts - 10 s as gold built it (>= 0): the label ends this late
    source_files: list[tuple[str, int]] = field(default_factory=list)
    rows_dropped_invalid: int = 0  # joined rows left out: is_valid false or the horizon's return missing

    @property
    def n(self) -> int:
        return len(self.ts_ms)

    @property
    def label_end_ms(self) -> np.ndarray:
        """When each row's label is known: feature time + horizon + gold's label lag."""
        return self.ts_ms + self.horizon_s * 1000 + self.label_lag_ms

    def column(self, name: str) -> np.ndarray:
        try:
            return self.X[:, self.feature_names.index(name)]
        except ValueError:
            raise GoldDataError(
                f"{FEATURES_TABLE} has no usable feature column {name!r} (needed by a baseline); "
                f"excluded columns: {self.excluded}") from None

    def data_hash(self) -> str:
        """sha256 of exactly what the models see: keys, times, features, labels (row order included)."""
        h = hashlib.sha256()
        h.update(",".join(self.feature_names).encode())
        h.update(np.ascontiguousarray(self.ts_ms).tobytes())
        h.update("\x1f".join(self.exchange.tolist()).encode())
        h.update("\x1f".join(self.symbol.tolist()).encode())
        h.update(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.ret).tobytes())
        h.update(np.ascontiguousarray(self.direction).tobytes())
        return h.hexdigest()


# --- I/O ---------------------------------------------------------------------------------------------------
def gold_files(lake: Lake, table: str) -> list[tuple[str, int]]:
    """(lake-relative path, size) of every Parquet file of a gold table; GoldNotFoundError when none."""
    paths = lake.list_files(table, suffix=".parquet")
    if not paths:
        raise GoldNotFoundError(
            f"no gold Parquet under {lake.uri(table)}; build gold first (`make build`), "
            "or point LAKE_ROOT at a lake that has it")
    return [(p, lake.fs.get_file_info(lake.fs_path(p)).size or 0) for p in paths]


def _scan(lake: Lake, table: str) -> str:
    glob = lake.uri(table, "**", "*.parquet")
    return f"read_parquet('{glob}', hive_partitioning=true, union_by_name=true)"


def _ts_ms_sql(columns: dict[str, str], alias: str, table: str) -> str:
    """Epoch-ms expression for feature_ts: feature_ts_ms if present, else feature_ts (timestamp or epoch)."""
    if "feature_ts_ms" in columns and columns["feature_ts_ms"].upper() in NUMERIC_TYPES:
        return f"cast({alias}.feature_ts_ms as bigint)"
    if "feature_ts" not in columns:
        raise GoldDataError(f"{table} has neither feature_ts nor feature_ts_ms")
    dtype = columns["feature_ts"].upper()
    if dtype.startswith("TIMESTAMP"):
        return f"epoch_ms({alias}.feature_ts)"
    # the spec says epoch seconds; accept epoch ms too (values above 1e11 cannot be seconds)
    return (f"(case when {alias}.feature_ts > 100000000000 then cast({alias}.feature_ts as bigint) "
            f"else cast({alias}.feature_ts as bigint) * 1000 end)")


def _target_ts_ms_sql(columns: dict[str, str]) -> str | None:
    if "target_ts_ms" in columns and columns["target_ts_ms"].upper() in NUMERIC_TYPES:
        return "cast(l.target_ts_ms as bigint)"
    if "target_ts" in columns:
        if columns["target_ts"].upper().startswith("TIMESTAMP"):
            return "epoch_ms(l.target_ts)"
        return ("(case when l.target_ts > 100000000000 then cast(l.target_ts as bigint) "
                "else cast(l.target_ts as bigint) * 1000 end)")
    return None


def _schema(con, scan: str) -> dict[str, str]:
    rows = con.execute(f"describe select * from {scan}").fetchall()
    return {r[0]: str(r[1]) for r in rows}


def _row_filter(columns: dict[str, str], base: str | None, symbol: str | None, exchanges: Sequence[str],
                start: str | None, end: str | None, ts_sql: str) -> tuple[str, list[object]]:
    where: list[str] = []
    params: list[object] = []
    if base:
        if "base" in columns:
            where.append("upper(f.base) = upper(?)")
            params.append(base)
        elif "canonical_symbol" in columns:
            where.append("upper(split_part(f.canonical_symbol, '-', 1)) = upper(?)")
            params.append(base)
        else:
            raise GoldDataError(f"{FEATURES_TABLE} has neither `base` nor `canonical_symbol`; cannot select {base}")
    if symbol:
        cols = [c for c in ("canonical_symbol", "symbol") if c in columns]
        where.append("(" + " or ".join(f"upper(f.{c}) = upper(?)" for c in cols) + ")")
        params += [symbol] * len(cols)
    if exchanges:
        if "exchange" not in columns:
            raise GoldDataError(f"{FEATURES_TABLE} has no `exchange` column; cannot filter on {list(exchanges)}")
        where.append("lower(f.exchange) in (" + ", ".join("?" for _ in exchanges) + ")")
        params += [e.lower() for e in exchanges]
    if start:
        where.append(f"{ts_sql} >= epoch_ms(cast(? as timestamp))")
        params.append(start)
    if end:
        where.append(f"{ts_sql} < epoch_ms(cast(? as timestamp))")
        params.append(end)
    return (" where " + " and ".join(where)) if where else "", params


def load_features(lake: Lake, *, base: str | None, symbol: str | None = None, exchanges: Sequence[str] = (),
                  start: str | None = None, end: str | None = None, columns: Sequence[str] | None = None
                  ) -> tuple[pa.Table, dict[str, str], list[tuple[str, int]]]:
    """Feature rows only (for scoring): (table with _ts_ms/_exchange/_symbol + feature columns, schema, files)."""
    from schemahub.duck import connect

    files = gold_files(lake, FEATURES_TABLE)
    con = connect()
    scan = _scan(lake, FEATURES_TABLE)
    fcols = _schema(con, scan)
    ts_sql = _ts_ms_sql(fcols, "f", FEATURES_TABLE)
    where, params = _row_filter(fcols, base, symbol, exchanges, start, end, ts_sql)
    wanted = list(columns) if columns is not None else [c for c in fcols if c not in KEY_COLUMNS]
    missing = [c for c in wanted if c not in fcols]
    if missing:
        raise GoldDataError(f"{FEATURES_TABLE} lacks columns the model needs: {missing}")
    ex = "cast(f.exchange as varchar)" if "exchange" in fcols else "''"
    sel = ", ".join(f'cast(f."{c}" as double) as "{c}"' for c in wanted)
    sql = (f"select {ts_sql} as _ts_ms, {ex} as _exchange, cast(f.symbol as varchar) as _symbol"
           f"{', ' + sel if sel else ''} from {scan} f{where} order by _ts_ms, _exchange, _symbol")
    table = con.execute(sql, params).to_arrow_table()
    con.close()
    return table, fcols, files


def load_gold(lake: Lake, *, base: str | None = "BTC", symbol: str | None = None, exchanges: Sequence[str] = (),
              horizon_s: int = 10, start: str | None = None, end: str | None = None,
              exclude: Sequence[str] = (), flat_bp: float | None = None) -> GoldFrame:
    """Join features_2s and labels_10s for one base asset and return the training frame.

    Rows kept: label `is_valid` true and the horizon's return finite. Errors name the table and column.
    """
    from schemahub.duck import connect

    if horizon_s not in HORIZONS:
        raise GoldDataError(f"horizon {horizon_s}s is not one of {HORIZONS}")
    files = gold_files(lake, FEATURES_TABLE) + gold_files(lake, LABELS_TABLE)
    con = connect()
    fscan, lscan = _scan(lake, FEATURES_TABLE), _scan(lake, LABELS_TABLE)
    fcols, lcols = _schema(con, fscan), _schema(con, lscan)
    ret_col = f"return_{horizon_s}s"
    for need in (ret_col, "return_10s", "direction", "symbol"):
        if need not in lcols:
            raise GoldDataError(f"{LABELS_TABLE} has no column {need!r} (columns: {sorted(lcols)})")
    if "symbol" not in fcols:
        raise GoldDataError(f"{FEATURES_TABLE} has no column 'symbol'")
    features, excluded = discover_features(list(fcols.items()), exclude)
    if not features:
        raise GoldDataError(f"{FEATURES_TABLE} has no numeric feature columns (excluded: {excluded})")

    f_ts, l_ts = _ts_ms_sql(fcols, "f", FEATURES_TABLE), _ts_ms_sql(lcols, "l", LABELS_TABLE)
    join_keys = ["symbol"] + (["exchange"] if "exchange" in fcols and "exchange" in lcols else [])
    on = " and ".join([f"f.{k} = l.{k}" for k in join_keys] + [f"{f_ts} = {l_ts}"])
    where, params = _row_filter(fcols, base, symbol, exchanges, start, end, f_ts)
    valid = "coalesce(l.is_valid, false)" if "is_valid" in lcols else "true"
    target_sql = _target_ts_ms_sql(lcols)
    ex = "cast(f.exchange as varchar)" if "exchange" in fcols else "''"
    sel = ", ".join(f'cast(f."{c}" as double) as "{c}"' for c in features)
    sql = f"""
        select {f_ts} as _ts_ms, {ex} as _exchange, cast(f.symbol as varchar) as _symbol,
               cast(l.{ret_col} as double) as _ret, cast(l.return_10s as double) as _ret10,
               cast(l.direction as integer) as _dir10,
               {target_sql + ' - ' + l_ts if target_sql else 'null'} as _label_span_ms,
               {valid} as _valid, {sel}
        from {fscan} f join {lscan} l on {on}
        {where}
        order by _ts_ms, _exchange, _symbol
    """
    log.info("reading gold %s + %s", lake.uri(FEATURES_TABLE), lake.uri(LABELS_TABLE))
    table = con.execute(sql, params).to_arrow_table()
    con.close()
    if table.num_rows == 0:
        raise GoldDataError(_no_rows_message(lake, base, symbol, exchanges))
    return frame_from_arrow(table, features, excluded, horizon_s, flat_bp, files)


def _no_rows_message(lake: Lake, base: str | None, symbol: str | None, exchanges: Sequence[str]) -> str:
    from schemahub.duck import connect

    con = connect()
    scan = _scan(lake, FEATURES_TABLE)
    cols = _schema(con, scan)
    key = "base" if "base" in cols else ("canonical_symbol" if "canonical_symbol" in cols else "symbol")
    have = [r[0] for r in con.execute(f"select distinct cast({key} as varchar) from {scan} order by 1").fetchall()]
    con.close()
    return (f"no gold rows joined features_2s to labels_10s for base={base} symbol={symbol} "
            f"exchanges={list(exchanges) or 'all'}; {key} values present: {have}")


def frame_from_arrow(table: pa.Table, features: list[str], excluded: dict[str, str], horizon_s: int,
                     flat_bp: float | None, files: list[tuple[str, int]]) -> GoldFrame:
    """Arrow (from the join) -> GoldFrame: keep valid rows, fix the flat band, refuse all-NaN features."""
    valid = table.column("_valid").to_numpy(zero_copy_only=False).astype(bool)
    ret = table.column("_ret").to_numpy(zero_copy_only=False).astype(np.float64)
    keep = valid & np.isfinite(ret)
    if not keep.any():
        raise GoldDataError(f"none of the {table.num_rows} joined gold rows has a valid, finite return_{horizon_s}s "
                            "(is_valid false or label NULL everywhere)")
    idx = np.flatnonzero(keep)
    ts_all = table.column("_ts_ms").to_numpy(zero_copy_only=False).astype(np.int64)
    key = np.char.add(np.char.add(np.asarray(table.column("_exchange").to_pylist(), dtype=str), "|"),
                      np.char.add(np.asarray(table.column("_symbol").to_pylist(), dtype=str), "|"))
    key = np.char.add(key, ts_all.astype(str))
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        dup = uniq[counts > 1]
        raise GoldDataError(f"gold has {len(dup)} duplicated (exchange, symbol, feature_ts) keys after joining "
                            f"features_2s to labels_10s, e.g. {dup[:3].tolist()}; each must be unique")
    ret10 = table.column("_ret10").to_numpy(zero_copy_only=False).astype(np.float64)[idx]
    dir10 = np.asarray(table.column("_dir10").to_numpy(zero_copy_only=False), dtype=np.float64)[idx]
    X = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(np.float64)[idx] for c in features])
    X[~np.isfinite(X)] = np.nan
    all_nan = [c for j, c in enumerate(features) if np.isnan(X[:, j]).all()]
    if all_nan:
        raise GoldDataError(f"{FEATURES_TABLE} feature column(s) {all_nan} are NULL/NaN on every selected row; "
                            "fix gold or pass --exclude " + " --exclude ".join(all_nan))
    if flat_bp is None:
        ok = np.isfinite(dir10) & np.isfinite(ret10)
        flat_bp = infer_flat_bp(ret10[ok], dir10[ok]) if ok.any() else 0.0
        if horizon_s == 10 and ok.all():
            direction = dir10.astype(np.int8)
        else:
            direction = direction_from_return(ret[idx], flat_bp)
    else:
        direction = direction_from_return(ret[idx], flat_bp)
    span = np.asarray(table.column("_label_span_ms").to_numpy(zero_copy_only=False), dtype=np.float64)[idx]
    span = span[np.isfinite(span)]
    label_lag = int(max(0.0, float(span.max()) - 10_000)) if span.size else 0
    return GoldFrame(
        ts_ms=table.column("_ts_ms").to_numpy(zero_copy_only=False).astype(np.int64)[idx],
        exchange=np.asarray(table.column("_exchange").to_pylist(), dtype=object)[idx].astype(str),
        symbol=np.asarray(table.column("_symbol").to_pylist(), dtype=object)[idx].astype(str),
        X=X, feature_names=list(features), excluded=excluded, horizon_s=horizon_s, ret=ret[idx],
        direction=direction, flat_bp=float(flat_bp), label_lag_ms=label_lag, source_files=files,
        rows_dropped_invalid=int(table.num_rows - len(idx)),
    )
