"""Where the discrepancy detector's quotes come from: live venue books, or historical book snapshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import numpy as np

from demos.discrepancy import Quote
from demos.lake_tables import table
from demos.replay_data import base_filter, provenance
from schemahub import config, duck
from schemahub.cli import SchemaHubError
from schemahub.storage import Lake

# The venue's own pair for a base asset (bronze symbols; the canonical map is seeds/symbol_map.csv).
VENUE_SYMBOLS = {
    "BTC": {"binance": "BTCUSDT", "coinbase": "BTC-USD", "kraken": "XBTUSD"},
    "ETH": {"binance": "ETHUSDT", "coinbase": "ETH-USD", "kraken": "ETHUSD"},
}


def venue_symbol(base: str, venue: str) -> str:
    try:
        return VENUE_SYMBOLS[base][venue]
    except KeyError:
        raise SchemaHubError(f"no {venue} pair known for base {base!r}; known bases: "
                             f"{', '.join(VENUE_SYMBOLS)}") from None


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def live_source(venues: list[str]) -> tuple[str, bool]:
    """A label for where live quotes come from, and whether they are simulated (sandbox or loopback)."""
    urls = {v: config.venue_base_url(v) for v in venues}
    simulated = any(u.startswith(config.sandbox_url()) or _is_loopback(u) for u in urls.values())
    hosts = sorted({urlparse(u).netloc for u in urls.values()})
    return f"live:{','.join(hosts)}", simulated


# ------------------------------------------------------------------------------------------------ live
def live_fetchers(base: str, venues: list[str]) -> tuple[dict[str, Callable[[], Quote]], Callable[[], None]]:
    """One zero-argument function per venue that fetches its current best bid/ask through the ingest
    connector's depth fetch (shared HTTP client: rate limits, retries). Returns them and a closer."""
    try:
        from ingest.connectors import connector
        from ingest.http import HttpClient
    except ImportError as exc:
        raise SchemaHubError(f"the ingest connectors' depth fetch is not available: {exc}") from exc
    client = HttpClient()
    fetchers: dict[str, Callable[[], Quote]] = {}
    for venue in venues:
        conn = connector(venue, client)
        symbol = venue_symbol(base, venue)
        fetchers[venue] = _depth_fetcher(conn, venue, symbol)
    return fetchers, client.close


def _depth_fetcher(conn, venue: str, symbol: str) -> Callable[[], Quote]:
    def fetch() -> Quote:
        page = conn.depth(symbol)
        if not page.records:
            raise SchemaHubError(f"{venue} {symbol}: depth reply held no book ({page.uri})")
        rec = page.records[0]
        bids, asks = rec.bids, rec.asks
        if not bids or not asks:
            raise SchemaHubError(f"{venue} {symbol}: empty side in the book (bids {len(bids)}, asks {len(asks)}) "
                                 f"at {page.uri}")
        book_ts = None
        venue_time = getattr(rec, "time", None)
        if isinstance(venue_time, str) and venue_time:
            book_ts = datetime.fromisoformat(venue_time.replace("Z", "+00:00"))
        recv = getattr(page, "recv_ts", None) or datetime.now(UTC)
        best_bid = max(float(level[0]) for level in bids)
        best_ask = min(float(level[0]) for level in asks)
        return Quote(venue, symbol, best_bid, best_ask, book_ts, recv)

    return fetch


# ------------------------------------------------------------------------------------------------ lake
def lake_steps(base: str, *, lake: Lake, step: timedelta, since: datetime | None, until: datetime | None,
               max_staleness: timedelta) -> tuple[Iterator[tuple[datetime, list[Quote], dict[str, str]]], bool]:
    """Historical quotes on a time grid from silver orderbook_snapshots: at each grid time each venue's
    latest snapshot at or before it (older than `max_staleness`: reported as missing)."""
    t = table("orderbook_snapshots")
    files = t.files(lake)
    if not files:
        raise SchemaHubError(f"silver orderbook_snapshots has no Parquet files under {lake.uri(t.folder)}: "
                             "import book recordings and run dbt build first")
    con = duck.connect()
    try:
        con.execute(f"create temp view obs as select * from {t.read_sql(lake, files)}")
        cols = [r[0] for r in con.execute("describe obs").fetchall()]
        where, params = base_filter(cols, base)
        kind = con.execute("select typeof(snapshot_ts) from obs limit 1").fetchone()
        ts = "epoch_ms(snapshot_ts)" if kind and "TIMESTAMP" in kind[0].upper() else "cast(snapshot_ts as bigint)"
        rng = []
        if since:
            rng.append(f"{ts} >= {int(since.timestamp() * 1000) - int(max_staleness.total_seconds() * 1000)}")
        if until:
            rng.append(f"{ts} <= {int(until.timestamp() * 1000)}")
        cond = " and ".join([where, *rng])
        rows = con.execute(
            f"select exchange, symbol, {ts} as ts_ms, best_bid_price, best_ask_price from obs where {cond} "
            "and best_bid_price > 0 and best_ask_price >= best_bid_price order by exchange, ts_ms", params,
        ).fetchall()
        if not rows:
            raise SchemaHubError(f"orderbook_snapshots has no {base} books in the requested range")
        first = datetime.fromtimestamp(min(r[2] for r in rows) / 1000, tz=UTC)
        last = datetime.fromtimestamp(max(r[2] for r in rows) / 1000, tz=UTC)
        simulated = provenance(con, lake, first, last).simulated
    finally:
        con.close()
    by_venue: dict[str, tuple[str, np.ndarray, np.ndarray, np.ndarray]] = {}
    for venue in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == venue]
        by_venue[venue] = (sel[-1][1], np.array([r[2] for r in sel], dtype=np.int64),
                           np.array([r[3] for r in sel], dtype=float), np.array([r[4] for r in sel], dtype=float))
    start = since or first
    end = until or last
    step_ms = int(step.total_seconds() * 1000)
    if step_ms <= 0:
        raise SchemaHubError(f"bad --step {step}: must be positive")
    stale_ms = int(max_staleness.total_seconds() * 1000)

    def gen() -> Iterator[tuple[datetime, list[Quote], dict[str, str]]]:
        t_ms = int(start.timestamp() * 1000)
        end_ms = int(end.timestamp() * 1000)
        while t_ms <= end_ms:
            now = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
            quotes, errors = [], {}
            for venue, (symbol, ts_ms, bid, ask) in by_venue.items():
                i = int(np.searchsorted(ts_ms, t_ms, side="right")) - 1
                if i < 0 or t_ms - ts_ms[i] > stale_ms:
                    errors[venue] = "no book snapshot in the last " + f"{stale_ms / 1000:g} s"
                    continue
                snap = datetime.fromtimestamp(int(ts_ms[i]) / 1000, tz=UTC)
                quotes.append(Quote(venue, symbol, float(bid[i]), float(ask[i]), snap, snap))
            yield now, quotes, errors
            t_ms += step_ms

    return gen(), simulated
