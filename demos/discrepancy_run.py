"""`schemahub discrepancies`: the live (or historical) cross-venue quote table, and recording its events.

Live: every `interval` each venue's order book is fetched through the ingest connectors' depth fetch on the
shared HTTP client (real venues or the sandbox, per configuration), all venues at once. `--from-lake` walks
silver `orderbook_snapshots` over time instead. Either way the rich table updates in place, and every flag
above the threshold is recorded to `<lake>/discrepancies/date=<YYYY-MM-DD>/*.parquet`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from demos.discrepancy import DiscrepancyEvent, Quote, VenueRow, assess, events, events_table
from schemahub.cli import SchemaHubError
from schemahub.storage import Lake

log = logging.getLogger(__name__)


class DiscrepancyError(SchemaHubError):
    pass


@dataclass
class Recorder:
    """Buffers events and writes them to the lake, one file per date and flush (atomic writes)."""

    lake: Lake
    flush_every: int = 200
    pending: list[DiscrepancyEvent] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, evts: list[DiscrepancyEvent]) -> None:
        self.pending.extend(evts)
        self.total += len(evts)
        if len(self.pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        by_date: dict[str, list[DiscrepancyEvent]] = {}
        for e in self.pending:
            by_date.setdefault(e.detected_ts.date().isoformat(), []).append(e)
        for day, evts in sorted(by_date.items()):
            first = min(e.detected_ts for e in evts).strftime("%Y%m%dT%H%M%S%f")
            last = max(e.detected_ts for e in evts).strftime("%Y%m%dT%H%M%S%f")
            kind = "lake" if evts[0].source == "lake" else "live"
            name = f"{kind}__{evts[0].base}__{first}__{last}.parquet"
            self.written.append(self.lake.write_parquet(events_table(evts), "discrepancies", f"date={day}", name))
        self.pending.clear()


def render(rows: list[VenueRow], median: float | None, *, base: str, threshold_bp: float, when: datetime,
           simulated: bool, source: str, n_events: int, errors: dict[str, str]) -> Group:
    sim = "[bold white on red] SIMULATED DATA (sandbox) [/] " if simulated else ""
    title = f"{sim}{base} across venues at {when.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC ({source})"
    table = Table(title=title, title_justify="left")
    for col in ("venue", "symbol", "bid", "ask", "mid", "spread bp", "dev bp", "age ms", ""):
        table.add_column(col, justify="left" if col in ("venue", "symbol", "") else "right")
    for r in rows:
        dev = "n/a" if r.deviation_bp is None else f"{r.deviation_bp:+.2f}"
        style = "bold red" if r.flagged else None
        table.add_row(r.venue, r.symbol, f"{r.bid:,.2f}", f"{r.ask:,.2f}", f"{r.mid:,.2f}", f"{r.spread_bp:.2f}",
                      dev, f"{r.staleness_ms:,.0f}", "DISAGREES" if r.flagged else "", style=style)
    for venue, err in sorted(errors.items()):
        table.add_row(venue, "", "", "", "", "", "", "", Text(f"no quote: {err}"[:80], style="yellow"))
    med = "n/a" if median is None else f"{median:,.2f}"
    foot = Text(f"dev bp: deviation of the venue's mid from the cross-venue median mid {med}; age: staleness of "
                f"the quote · threshold {threshold_bp:g} bp · events recorded so far: {n_events}\n")
    return Group(table, foot)


@dataclass
class RunSummary:
    steps: int
    events: int
    files: list[str]
    max_abs_deviation_bp: float
    errors: dict[str, int]


def _loop(steps: Iterator[tuple[datetime, list[Quote], dict[str, str]]], *, base: str, threshold_bp: float,
          source: str, simulated: bool, lake: Lake, console: Console, min_redraw_s: float) -> RunSummary:
    rec = Recorder(lake)
    n = 0
    worst = 0.0
    error_counts: dict[str, int] = {}
    last_draw = 0.0
    view = None
    with Live(console=console, auto_refresh=False, transient=False) as live:
        try:
            for when, quotes, errors in steps:
                n += 1
                for venue in errors:
                    error_counts[venue] = error_counts.get(venue, 0) + 1
                rows, median = assess(quotes, when, threshold_bp)
                rec.add(events(rows, median, when, base, threshold_bp, source, simulated))
                worst = max([worst, *(abs(r.deviation_bp) for r in rows if r.deviation_bp is not None)])
                view = (rows, median, when, errors)
                if time.monotonic() - last_draw >= min_redraw_s:
                    last_draw = time.monotonic()
                    live.update(render(rows, median, base=base, threshold_bp=threshold_bp, when=when,
                                       simulated=simulated, source=source, n_events=rec.total, errors=errors),
                                refresh=True)
        finally:
            rec.flush()
            if view is not None:  # the last state, whatever the redraw throttle skipped
                rows, median, when, errors = view
                live.update(render(rows, median, base=base, threshold_bp=threshold_bp, when=when,
                                   simulated=simulated, source=source, n_events=rec.total, errors=errors),
                            refresh=True)
    return RunSummary(n, rec.total, rec.written, worst, error_counts)


# ------------------------------------------------------------------------------------------------ live
VenueFetch = Callable[[], Quote]


def live_steps(fetchers: dict[str, VenueFetch], interval: float, duration: float) -> Iterator[
        tuple[datetime, list[Quote], dict[str, str]]]:
    """Every `interval` seconds, all venues' books fetched in parallel, until `duration` has passed."""
    deadline = time.monotonic() + duration
    with ThreadPoolExecutor(max_workers=max(len(fetchers), 1), thread_name_prefix="discrepancy") as pool:
        while True:
            started = time.monotonic()
            futures = {v: pool.submit(f) for v, f in fetchers.items()}
            quotes, errors = [], {}
            for venue, fut in futures.items():
                try:
                    quotes.append(fut.result())
                except Exception as exc:  # one venue down must not stop the table: it is shown as such
                    log.debug("discrepancies: %s quote failed: %s", venue, exc)
                    errors[venue] = str(exc)
            yield datetime.now(UTC), quotes, errors
            now = time.monotonic()
            if now >= deadline:
                return
            time.sleep(max(0.0, min(interval - (now - started), deadline - now)))


def run_live(base: str, *, threshold_bp: float, interval: float, duration: float, venues: list[str],
             lake: Lake | None = None, console: Console | None = None) -> RunSummary:
    from demos.quotes import live_fetchers, live_source

    lake = lake or Lake.from_env()
    fetchers, closer = live_fetchers(base, venues)
    source, simulated = live_source(venues)
    try:
        return _loop(live_steps(fetchers, interval, duration), base=base, threshold_bp=threshold_bp,
                     source=source, simulated=simulated, lake=lake, console=console or Console(), min_redraw_s=0.0)
    finally:
        closer()


# ------------------------------------------------------------------------------------------------ lake
def run_from_lake(base: str, *, threshold_bp: float, step: timedelta, since: datetime | None,
                  until: datetime | None, lake: Lake | None = None, console: Console | None = None,
                  max_staleness: timedelta = timedelta(seconds=30), speed: float = 0.0) -> RunSummary:
    """Walk historical silver orderbook_snapshots on a time grid; `speed` > 0 replays at that multiple of
    real time (0: as fast as possible, the table refreshing on the way)."""
    from demos.quotes import lake_steps

    lake = lake or Lake.from_env()
    steps, simulated = lake_steps(base, lake=lake, step=step, since=since, until=until, max_staleness=max_staleness)

    def paced() -> Iterator[tuple[datetime, list[Quote], dict[str, str]]]:
        for item in steps:
            if speed > 0:
                time.sleep(step.total_seconds() / speed)
            yield item

    return _loop(paced(), base=base, threshold_bp=threshold_bp, source="lake", simulated=simulated, lake=lake,
                 console=console or Console(), min_redraw_s=0.0 if speed > 0 else 0.1)
