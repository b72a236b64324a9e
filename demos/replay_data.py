"""Reading what the replay and the spike finder need from the lake (Parquet through DuckDB, no dbt database).

- trades: silver `trades_unified` (exchange event time `trade_ts`)
- books: silver `orderbook_snapshots` (`snapshot_ts` in ms, best bid/ask, mid, spread_bp)
- spikes: gold `features_2s` (per venue, 2-second grid: `ret_*`, `price_volatility`)
- provenance: bronze lineage (`_source`, `_source_uri`) says whether the data came from the sandbox
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np

from demos.lake_tables import LakeTable, bronze_tables, table
from demos.timeutil import to_ns
from schemahub import config, duck
from schemahub.cli import SchemaHubError
from schemahub.storage import Lake


class ReplayDataError(SchemaHubError):
    """The lake lacks what the replay needs (names the table and the window)."""


@dataclass
class VenueTrades:
    venue: str
    ts_ns: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    side: np.ndarray


@dataclass
class VenueBook:
    venue: str
    ts_ns: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    mid: np.ndarray
    spread_bp: np.ndarray


@dataclass
class Provenance:
    simulated: bool
    reason: str


@dataclass
class ReplayData:
    symbol: str
    at: datetime
    start: datetime
    end: datetime
    trades: dict[str, VenueTrades]  # over the (wider) lead-lag window
    books: dict[str, VenueBook]
    provenance: Provenance
    leadlag_start: datetime
    leadlag_end: datetime
    notes: list[str] = field(default_factory=list)

    @property
    def venues(self) -> list[str]:
        return sorted(set(self.trades) | set(self.books))


def _view(con: duckdb.DuckDBPyConnection, lake: Lake, t: LakeTable) -> list[str]:
    """Create a temp view over a lake table; returns its columns (raises when the table has no files)."""
    files = t.files(lake)
    if not files:
        raise ReplayDataError(f"{t.layer} table {t.name} has no Parquet files under {lake.uri(t.folder)}: "
                              f"build it first (make build)")
    con.execute(f"create or replace temp view {t.name} as select * from {t.read_sql(lake, files)}")
    return [r[0] for r in con.execute(f"describe {t.name}").fetchall()]


def base_filter(columns: list[str], base: str) -> tuple[str, list[object]]:
    """SQL predicate selecting one base asset (BTC) whatever the table calls its symbol columns."""
    if "base" in columns:
        return "upper(base) = ?", [base]
    if "canonical_symbol" in columns:
        return "upper(canonical_symbol) like ?", [f"{base}-%"]
    aliases = {"BTC": ["BTC", "XBT"]}.get(base, [base])
    return "(" + " or ".join("upper(symbol) like ?" for _ in aliases) + ")", [f"{a}%" for a in aliases]


def _ts_ns_expr(con: duckdb.DuckDBPyConnection, view: str, column: str) -> str:
    """Nanoseconds since the epoch from a timestamp column or an integer ms/s column."""
    kind = con.execute(f"select typeof({column}) from {view} limit 1").fetchone()
    kind_s = (kind[0] if kind else "BIGINT").upper()
    if "TIMESTAMP" in kind_s:
        return f"epoch_ns({column})"
    if column.endswith("_ms") or column == "snapshot_ts":
        return f"cast({column} as bigint) * 1000000"
    return f"cast({column} as bigint) * 1000000000"


def _date_between(column: str, start: datetime, end: datetime) -> str:
    return f"cast({column} as varchar) between '{start.date().isoformat()}' and '{end.date().isoformat()}'"


def provenance(con: duckdb.DuckDBPyConnection, lake: Lake, start: datetime, end: datetime) -> Provenance:
    """SIMULATED when any bronze row of those dates names the sandbox or a loopback URL in its lineage."""
    sandbox = config.sandbox_url()
    checked = 0
    for t in bronze_tables():
        if not t.name.endswith("_trades") and not t.name.endswith("_depth"):
            continue
        files = t.files(lake)
        if not files:
            continue
        checked += 1
        row = con.execute(
            f"select _source, _source_uri from {t.read_sql(lake, files)} "
            f"where {_date_between('date', start - timedelta(days=1), end)} and ("
            "  _source ilike '%sandbox%' or coalesce(_source_uri, '') ilike '%sandbox%'"
            "  or starts_with(coalesce(_source_uri, ''), ?)"
            "  or regexp_matches(coalesce(_source_uri, ''), '^https?://(127\\.|localhost|\\[::1\\])')) limit 1",
            [sandbox],
        ).fetchone()
        if row:
            return Provenance(True, f"{t.name} lineage: _source={row[0]!r}, _source_uri={row[1]!r}")
    if checked == 0:
        return Provenance(False, "no bronze lineage found to check")
    return Provenance(False, "bronze lineage names real venue endpoints")


def load_replay(symbol: str, at: datetime, window: timedelta, leadlag_window: timedelta,
                lake: Lake | None = None) -> ReplayData:
    lake = lake or Lake.from_env()
    base = symbol.upper().split("-")[0].split("/")[0]
    start, end = at - window / 2, at + window / 2
    ll_half = max(window, leadlag_window) / 2
    ll_start, ll_end = at - ll_half, at + ll_half
    con = duck.connect()
    try:
        cols = _view(con, lake, table("trades_unified"))
        where, params = base_filter(cols, base)
        ts = _ts_ns_expr(con, "trades_unified", "trade_ts")
        part = f" and {_date_between('trade_date', ll_start, ll_end)}" if "trade_date" in cols else ""
        rows = con.execute(
            f"select exchange, {ts} as ts_ns, price, quantity, side from trades_unified "
            f"where {where}{part} and {ts} between ? and ? order by exchange, ts_ns",
            [*params, to_ns(ll_start), to_ns(ll_end)],
        ).to_arrow_table()
        if rows.num_rows == 0:
            span = con.execute(f"select min(trade_ts), max(trade_ts) from trades_unified where {where}",
                               params).fetchone()
            raise ReplayDataError(
                f"trades_unified has no {base} trades between {ll_start.isoformat()} and {ll_end.isoformat()} "
                f"(its {base} trades span {span[0]} .. {span[1]})")
        trades = _split_trades(rows)
        books, notes = _load_books(con, lake, base, ll_start, ll_end)
        prov = provenance(con, lake, ll_start, ll_end)
    finally:
        con.close()
    return ReplayData(base, at, start, end, trades, books, prov, ll_start, ll_end, notes)


def _split_trades(rows) -> dict[str, VenueTrades]:
    out: dict[str, VenueTrades] = {}
    ex = np.asarray(rows.column("exchange").to_pylist(), dtype=object)
    ts = rows.column("ts_ns").to_numpy().astype(np.int64)
    price = rows.column("price").to_numpy().astype(float)
    qty = rows.column("quantity").to_numpy().astype(float)
    side = np.asarray(rows.column("side").to_pylist(), dtype=object)
    for venue in sorted(set(ex)):
        m = ex == venue
        out[str(venue)] = VenueTrades(str(venue), ts[m], price[m], qty[m], side[m])
    return out


def _load_books(con: duckdb.DuckDBPyConnection, lake: Lake, base: str, start: datetime,
                end: datetime) -> tuple[dict[str, VenueBook], list[str]]:
    t = table("orderbook_snapshots")
    if not t.files(lake):
        return {}, ["no silver orderbook_snapshots in the lake: mids are taken from trades, spreads are unknown"]
    cols = _view(con, lake, t)
    where, params = base_filter(cols, base)
    ts = _ts_ns_expr(con, "orderbook_snapshots", "snapshot_ts")
    part = f" and {_date_between('partition_date', start, end)}" if "partition_date" in cols else ""
    rows = con.execute(
        f"select exchange, {ts} as ts_ns, best_bid_price, best_ask_price, mid_price, spread_bp "
        f"from orderbook_snapshots where {where}{part} and {ts} between ? and ? order by exchange, ts_ns",
        [*params, to_ns(start) - 60_000_000_000, to_ns(end)],  # a minute before: the book standing at start
    ).to_arrow_table()
    out: dict[str, VenueBook] = {}
    ex = np.asarray(rows.column("exchange").to_pylist(), dtype=object)
    arrays = {c: rows.column(c).to_numpy(zero_copy_only=False).astype(float) for c in
              ("best_bid_price", "best_ask_price", "mid_price", "spread_bp")}
    ts_ns = rows.column("ts_ns").to_numpy().astype(np.int64)
    for venue in sorted(set(ex)):
        m = ex == venue
        out[str(venue)] = VenueBook(str(venue), ts_ns[m], arrays["best_bid_price"][m], arrays["best_ask_price"][m],
                                    arrays["mid_price"][m], arrays["spread_bp"][m])
    notes = [] if out else [f"orderbook_snapshots has no {base} books in the window: mids from trades"]
    return out, notes


@dataclass(frozen=True)
class Spike:
    feature_ts: datetime
    score_bp: float  # largest |ret| across venues, in bp
    ret_column: str
    venue: str  # the venue with that largest move
    price_volatility: float | None
    venues: int


def find_spikes(symbol: str, top: int = 10, *, ret_column: str = "ret_5s", min_gap: timedelta = timedelta(seconds=30),
                warmup: timedelta = timedelta(seconds=60), lake: Lake | None = None) -> list[Spike]:
    """The biggest moves in gold features_2s (largest |ret| across venues), at least `min_gap` apart, leaving
    out the first `warmup` of each venue's features (their returns reach back before the data starts)."""
    lake = lake or Lake.from_env()
    base = symbol.upper().split("-")[0]
    con = duck.connect()
    try:
        cols = _view(con, lake, table("features_2s"))
        if ret_column not in cols:
            raise ReplayDataError(f"gold features_2s has no column {ret_column!r}; columns: {', '.join(cols)}")
        where, params = base_filter(cols, base)
        vol = "price_volatility" if "price_volatility" in cols else "cast(null as double)"
        ts = _ts_ns_expr(con, "features_2s", "feature_ts_ms" if "feature_ts_ms" in cols else "feature_ts")
        rows = con.execute(
            f"""
            with rows as (
                select {ts} as ts_ns, exchange, abs({ret_column}) * 1e4 as move_bp, {vol} as vol,
                       min({ts}) over (partition by exchange) as first_ns
                from features_2s where {where} and {ret_column} is not null and isfinite({ret_column})
            ),
            moves as (  -- leave out each venue's warm-up, where returns reach back before its first data
                select * from rows where ts_ns >= first_ns + {int(warmup.total_seconds() * 1e9)}
            )
            select ts_ns, max(move_bp) as score_bp, arg_max(exchange, move_bp) as venue,
                   max(vol) as vol, count(*) as venues
            from moves group by ts_ns order by score_bp desc limit ?
            """,
            [*params, max(top * 50, 200)],
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise ReplayDataError(f"gold features_2s has no {base} rows with {ret_column}: build gold first")
    picked: list[Spike] = []
    need = min(2, max(r[4] for r in rows))  # a cross-venue event: at least two venues quoted at that time
    for ts_ns, score, venue, vol_value, venues in rows:
        if venues < need:
            continue
        when = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
        if any(abs((when - p.feature_ts).total_seconds()) < min_gap.total_seconds() for p in picked):
            continue
        picked.append(Spike(when, float(score), ret_column, str(venue),
                            None if vol_value is None else float(vol_value), int(venues)))
        if len(picked) >= top:
            break
    return picked
