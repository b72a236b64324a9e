"""The trade engines behind `schemahub ingest` (watermarked) and `schemahub backfill` (bounded window).

One job = one (venue, symbol). A venue *walker* turns the venue's own cursor scheme into a stream of
`Step`s (the rows of one page plus the cursor to continue from); the `TradeSink` buffers rows, flushes them to
bronze at `batch_size` (memory stays bounded however long the run), and saves the checkpoint only AFTER the
flush returned, so a checkpoint never covers data that is not durable.

Exactly once, by (venue, symbol, trade id), even with repeated / overlapping pages, crashes and reruns:
- the sink keeps the id ranges bronze already holds (`BronzeWriter.covered_ranges`, updated after every
  flush) and drops every row whose id is inside them, and every id already buffered;
- walkers skip over covered ranges before asking the venue (`IdRanges.extend_up/down`), which is how a resume
  recovers what was written after the last checkpoint (a crash between write and checkpoint);
- cursors only move forward (Binance `fromId = max id + 1`, Coinbase `after = min id`, Kraken
  `since = max(since, last)`), so a stale page cannot move them back; a page with nothing new is retried a
  few times, then the walk stops with an error (or, for Kraken's "nothing new", ends).

Walk directions: Binance forward by trade id (`historicalTrades?fromId`; start from a time via `aggTrades?
startTime`), Coinbase backward with `after` (start from a time via binary search over trade ids), Kraken
forward in time with the ns `last` cursor.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.bronze.writer import BronzeWriter
from ingest.checkpoints import Checkpoint, CheckpointStore
from ingest.connectors import Binance, Coinbase, Connector, Kraken, connector
from ingest.connectors.coinbase import parse_time
from ingest.errors import CheckpointError, FatalError, IngestError, RetriesExhaustedError
from ingest.http import HttpClient

log = logging.getLogger(__name__)

DATASET = "trades"
DEFAULT_CUTOFF = dt.timedelta(minutes=45)
DEFAULT_BATCH = 100_000
STALE_PATIENCE = 8  # pages in a row without anything new before a walk gives up


def utc_ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def utc_ns(t: dt.datetime) -> int:
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000


def parse_iso(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- what bronze already holds ---------------------------------------------------------------------
class IdRanges:
    """A set of inclusive integer ranges (merged), e.g. the trade ids bronze holds for one symbol."""

    def __init__(self, ranges: list[tuple[int, int]] | None = None) -> None:
        self._r: list[list[int]] = []
        for a, b in sorted(ranges or []):
            self.add(a, b)

    def add(self, first: int, last: int) -> None:
        if last < first:
            first, last = last, first
        out: list[list[int]] = []
        placed = False
        for a, b in self._r:
            if b + 1 < first:
                out.append([a, b])
            elif last + 1 < a:
                if not placed:
                    out.append([first, last])
                    placed = True
                out.append([a, b])
            else:
                first, last = min(a, first), max(b, last)
        if not placed:
            out.append([first, last])
        self._r = sorted(out)

    def _find(self, x: int) -> list[int] | None:
        i = bisect.bisect_right(self._r, [x, float("inf")]) - 1
        if i >= 0 and self._r[i][0] <= x <= self._r[i][1]:
            return self._r[i]
        return None

    def __contains__(self, x: int) -> bool:
        return self._find(x) is not None

    def extend_up(self, x: int) -> int:
        """The first id >= x that is not covered."""
        hit = self._find(x)
        return x if hit is None else hit[1] + 1

    def extend_down(self, x: int) -> int:
        """The first id <= x (going down) that is not covered."""
        hit = self._find(x)
        return x if hit is None else hit[0] - 1

    def ranges(self) -> list[tuple[int, int]]:
        return [(a, b) for a, b in self._r]


# -- steps and the sink ----------------------------------------------------------------------------
@dataclass
class Step:
    """One page's outcome: new rows (bronze dicts with lineage) and the cursor to continue from."""

    rows: list[dict[str, Any]]
    cursor: dict[str, Any]
    last_trade_id: int | None
    progress_s: float | None = None  # seconds of the job's window covered so far
    checkpointable: bool = True  # False while a backward watermark walk has not reached the watermark


class TradeSink:
    """Buffers rows of one (table, symbol), filters what bronze already holds, flushes at a size limit."""

    def __init__(self, writer: BronzeWriter, table: str, symbol: str, id_field: str, batch_size: int,
                 on_flush: Callable[[Step | None, int], None]) -> None:
        self.writer, self.table, self.symbol, self.id_field = writer, table, symbol, id_field
        self.batch_size = max(1, batch_size)
        self.covered = IdRanges(writer.covered_ranges(table, symbol))
        self.on_flush = on_flush
        self._tables: list[pa.Table] = []  # the buffer, one Arrow table per page (far smaller than dicts)
        self._n = 0
        self._ids: set[int] = set()
        self._step: Step | None = None
        self.written = 0
        self.dropped = 0
        self.files = 0

    def add(self, step: Step) -> int:
        """Buffer a step's new rows; returns how many were new. Flushes when the batch is full."""
        rows = []
        for row in step.rows:
            tid = row[self.id_field]
            if tid in self._ids or tid in self.covered:
                self.dropped += 1
                continue
            self._ids.add(tid)
            rows.append(row)
        if rows:
            self._tables.append(BronzeWriter.to_arrow(self.table, rows, source=rows[0]["_source"]))
            self._n += len(rows)
        self._step = step
        if self._n >= self.batch_size:
            self.flush()
        return len(rows)

    def flush(self) -> None:
        """Write the buffer (one file per UTC date), record the new coverage, THEN let the caller checkpoint."""
        n = self._n
        if n:
            files = self.writer.write(self.table, self.symbol, pa.concat_tables(self._tables))
            for f in files:
                self.covered.add(f.first_cursor, f.last_cursor)
            self.files += len(files)
            self.written += n
            self._tables, self._n, self._ids = [], 0, set()
        self.on_flush(self._step, n)

    @property
    def buffered(self) -> int:
        return self._n


# -- jobs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TradeJob:
    venue: str
    symbol: str
    mode: str  # "ingest" | "backfill"
    since: dt.datetime | None = None  # backfill window start (inclusive)
    until: dt.datetime | None = None  # backfill window end (exclusive); None = newest
    after_id: int | None = None  # ingest --after: only ids > after_id (overrides the watermark)
    before_id: int | None = None  # ingest --before: only ids < before_id
    page_size: int = 1000
    batch_size: int = DEFAULT_BATCH
    resume: bool = True  # backfill --resume; ingest always resumes unless skip_checkpoint
    skip_checkpoint: bool = False
    cutoff: dt.timedelta = DEFAULT_CUTOFF
    window_explicit: bool = True  # backfill: were --since/--until given (else adopt a resumed window)

    @property
    def kind(self) -> str:
        return self.mode

    @property
    def saves_checkpoint(self) -> bool:
        if self.mode == "backfill":
            return True
        return not (self.skip_checkpoint or self.after_id is not None or self.before_id is not None)


@dataclass
class JobResult:
    venue: str
    symbol: str
    trades: int = 0
    dropped: int = 0
    files: int = 0
    pages: int = 0
    checkpoint: str | None = None
    note: str = ""
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[int, float], None]  # (new trades, seconds of window newly covered)


class TradeRunner:
    """Runs one TradeJob against the shared client, writer and checkpoint store."""

    def __init__(self, job: TradeJob, client: HttpClient, writer: BronzeWriter, store: CheckpointStore,
                 *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 progress: Progress | None = None) -> None:
        self.job, self.client, self.writer, self.store = job, client, writer, store
        self.conn: Connector = connector(job.venue, client)
        self.now = now
        self.progress = progress or (lambda n, s: None)
        self.result = JobResult(job.venue, job.symbol)
        self._cp: Checkpoint | None = None
        self._done_s = 0.0

    # -- checkpoint handling ---------------------------------------------------------------------
    def load_checkpoint(self) -> Checkpoint | None:
        j = self.job
        if j.mode == "ingest" and j.skip_checkpoint:
            return None
        cp = self.store.load(j.kind, j.venue, DATASET, j.symbol)
        if cp is None or j.mode == "ingest":
            return cp
        if not j.resume:
            return None
        want = {"since": iso(j.since), "until": iso(j.until)}
        if cp.window != want:
            if not j.window_explicit and cp.window and cp.done:
                return None  # the default window moved on since that run finished: a new window starts
            if not j.window_explicit and cp.window:
                # adopt the interrupted run's window (the defaults move with the clock)
                self.job = replace(j, since=parse_iso(cp.window["since"]), until=parse_iso(cp.window["until"]))
                return cp
            raise CheckpointError(
                f"checkpoint {self.store.location(j.kind, j.venue, DATASET, j.symbol)} belongs to window "
                f"{cp.window}, not {want}: run with the same --since/--until, or without --resume",
                venue=j.venue, symbol=j.symbol)
        return cp

    def _new_checkpoint(self) -> Checkpoint:
        j = self.job
        window = {"since": iso(j.since), "until": iso(j.until)} if j.mode == "backfill" else None
        return Checkpoint(j.venue, DATASET, j.symbol, j.kind, window=window)

    def _on_flush(self, step: Step | None, written: int) -> None:
        if step is None or not self.job.saves_checkpoint or not step.checkpointable:
            return
        base = self._cp or self._new_checkpoint()
        self._cp = base.advanced(**_merge(base, step), trades_processed=base.trades_processed + written)
        self.result.checkpoint = self.store.save(self._cp)

    def _finish(self, sink: TradeSink, final: Step | None) -> None:
        sink.flush()
        if final is not None and self.job.saves_checkpoint:
            base = self._cp or self._new_checkpoint()
            self._cp = base.advanced(**_merge(base, final), done=self.job.mode == "backfill")
            self.result.checkpoint = self.store.save(self._cp)

    # -- running -----------------------------------------------------------------------------------
    def run(self) -> JobResult:
        table = self.conn.trades_table
        cp = self.load_checkpoint()
        self._cp = cp
        j = self.job  # may have adopted the checkpoint's window
        if j.mode == "backfill" and cp is not None and cp.done:
            self.result.note = "already complete (checkpoint)"
            self.progress(0, self.window_seconds())
            return self.result
        sink = TradeSink(self.writer, table, j.symbol, self.conn.trade_id_field, j.batch_size, self._on_flush)
        walker = self._walker(cp, sink.covered)
        final: Step | None = None
        try:
            for step in walker:
                self.result.pages += 1
                fresh = sink.add(step)
                final = step
                covered = step.progress_s if step.progress_s is not None else self._done_s
                delta, self._done_s = max(0.0, covered - self._done_s), max(self._done_s, covered)
                self.progress(fresh, delta)
            self._finish(sink, final)
        except IngestError:
            # a failing run writes nothing after its last checkpoint: the buffer is dropped, not half-written
            # (what earlier flushes wrote is complete, checkpointed, and kept)
            self.result.note = f"{sink.buffered} buffered rows dropped"
            raise
        finally:
            self.result.trades, self.result.dropped, self.result.files = sink.written, sink.dropped, sink.files
        return self.result

    def window_seconds(self) -> float:
        j = self.job
        end = j.until or self.now()
        start = j.since or (end - j.cutoff)
        return max(0.0, (end - start).total_seconds())

    def _walker(self, cp: Checkpoint | None, covered: IdRanges) -> Iterator[Step]:
        if isinstance(self.conn, Binance):
            return self._binance(cp, covered)
        if isinstance(self.conn, Coinbase):
            return self._coinbase(cp, covered)
        if isinstance(self.conn, Kraken):
            return self._kraken(cp, covered)
        raise FatalError(f"no trade walker for venue {self.job.venue}", venue=self.job.venue)

    # -- page checks shared by the walkers ------------------------------------------------------------
    def _suspect(self, counter: dict[str, int], why: str, cursor: str) -> bool:
        """Count a page that looks stale (True: ask again). After STALE_PATIENCE the page is believed
        (e.g. a real hole in the venue's ids) and a warning says so."""
        counter["n"] = counter.get("n", 0) + 1
        if counter["n"] <= STALE_PATIENCE:
            return True
        log.warning("%s %s: accepting a page that %s (seen %d times) at %s", self.job.venue, self.job.symbol, why,
                    counter["n"], cursor)
        counter["n"] = 0
        return False

    # -- Binance: forward by trade id ---------------------------------------------------------------
    def _binance_start(self, start_ms: int) -> int | None:
        """First trade id at/after start_ms via aggTrades; asked until two answers agree (a stale or
        overlapping answer cannot pick the start)."""
        conn = self.conn
        assert isinstance(conn, Binance)
        answers: list[int | None] = []
        for _ in range(STALE_PATIENCE):
            first = conn.first_trade_id_at(self.job.symbol, start_ms)
            if first is not None and first[1] < start_ms:
                continue  # an overlapping page: starts before the time asked for
            answer = None if first is None else first[0]
            if answers and answers[-1] == answer:
                return answer
            answers.append(answer)
        raise RetriesExhaustedError(f"binance aggTrades answers for startTime={start_ms} never agreed: {answers}",
                                    venue="binance", symbol=self.job.symbol, cursor=f"startTime={start_ms}")

    def _binance(self, cp: Checkpoint | None, covered: IdRanges) -> Iterator[Step]:
        j, conn = self.job, self.conn
        assert isinstance(conn, Binance)
        start_t = j.since if j.mode == "backfill" else self.now() - j.cutoff
        start_ms = utc_ms(start_t) if start_t is not None else None
        if j.after_id is not None:
            from_id: int | None = j.after_id + 1
        elif cp is not None and cp.cursor.get("from_id") is not None:
            from_id = int(cp.cursor["from_id"])
        else:
            assert start_ms is not None
            from_id = self._binance_start(start_ms)
        if from_id is None:
            self.result.note = "no trades in the window"
            return
        until_ms = utc_ms(j.until) if j.until is not None else None
        # rows older than the start are dropped only when the walk starts from a time (a backfill window, an
        # ingest cold start), never when it resumes from a watermark that may be older than the cutoff
        resumed = j.mode == "ingest" and (j.after_id is not None or cp is not None)
        floor_ms = None if resumed else start_ms
        run_start_ms = utc_ms(self.now())  # ingest stops once it reaches the run's start (a live market never ends)
        stale: dict[str, int] = {}
        empties = 0
        while True:
            from_id = covered.extend_up(from_id)
            if j.before_id is not None and from_id >= j.before_id:
                yield Step([], {"from_id": from_id}, from_id - 1)
                return
            page = conn.historical_trades(j.symbol, from_id, j.page_size)
            if not page.records:
                empties += 1
                if empties >= 2 or j.mode == "ingest":  # an empty page is the end; a backfill confirms it
                    yield Step([], {"from_id": from_id}, from_id - 1)
                    return
                continue
            empties = 0
            recs = [r for r in page.records if r.id >= from_id]
            cur = f"fromId={from_id}"
            if not recs and self._suspect(stale, "holds only older trades", cur):
                continue
            if recs and min(r.id for r in recs) != from_id and \
                    self._suspect(stale, f"starts at {min(r.id for r in recs)}, not at fromId", cur):
                continue  # ids are consecutive per symbol: a page that skips some is stale
            if not recs:
                continue
            stale = {}
            keep = recs if floor_ms is None else [r for r in recs if r.time >= floor_ms]
            stop = False
            if until_ms is not None:
                stop = any(r.time >= until_ms for r in keep)
                keep = [r for r in keep if r.time < until_ms]
            if j.before_id is not None:
                stop = stop or any(r.id >= j.before_id for r in keep)
                keep = [r for r in keep if r.id < j.before_id]
            nxt = max(r.id for r in recs) + 1
            if stop:
                nxt = max([r.id for r in keep], default=from_id - 1) + 1
            rows = [{**r.bronze(), **lin} for r, lin in _with_lineage(page, keep)]
            prog = None
            if start_ms is not None and keep:
                prog = (max(r.time for r in keep) - start_ms) / 1000.0
            yield Step(rows, {"from_id": nxt}, nxt - 1, prog)
            caught_up = j.mode == "ingest" and (len(page.records) < j.page_size or
                                                max(r.time for r in recs) >= run_start_ms)
            if stop or caught_up:
                return  # ingest: a short page means caught up; a backfill confirms the end with empty pages
            from_id = nxt

    # -- Coinbase: backward with `after` ------------------------------------------------------------
    def _coinbase(self, cp: Checkpoint | None, covered: IdRanges) -> Iterator[Step]:
        j, conn = self.job, self.conn
        assert isinstance(conn, Coinbase)
        since = j.since if j.mode == "backfill" else None
        stop_id: int | None = None  # exclusive lower bound (ids <= stop_id are not wanted)
        if j.mode == "ingest":
            if j.after_id is not None:
                stop_id = j.after_id
            elif cp is not None and cp.last_trade_id is not None:
                stop_id = cp.last_trade_id
            else:
                since = self.now() - j.cutoff
        after: int | None = None
        if j.mode == "ingest" and j.before_id is not None:
            after = j.before_id
        if j.mode == "backfill":
            if cp is not None and cp.cursor.get("after") is not None:
                after = int(cp.cursor["after"])
            elif j.until is not None:
                after = conn.first_trade_id_at(j.symbol, j.until)  # None: until is past the newest trade
        top = j.until or self.now()
        newest: int | None = None
        stale: dict[str, int] = {}
        empties = 0
        while True:
            if after is not None:
                after = covered.extend_down(after - 1) + 1
                if stop_id is not None and after <= stop_id + 1:
                    yield Step([], {"after": after, "newest": newest}, newest if j.mode == "ingest" else after)
                    return
            page = conn.trades(j.symbol, after=after, limit=j.page_size)
            if after is None and page.records:
                # the newest page has no cursor to check it against: ask twice and keep the newer answer
                # (a stale or repeated page is older, never newer)
                again = conn.trades(j.symbol, after=None, limit=j.page_size)
                if again.records and max(r.trade_id for r in again.records) > max(r.trade_id for r in page.records):
                    page = again
            if not page.records:
                empties += 1
                if empties >= 2 or j.mode == "ingest":  # the start of history (a backfill confirms it)
                    yield Step([], {"after": after, "newest": newest}, newest if j.mode == "ingest" else after)
                    return
                continue
            empties = 0
            recs = page.records if after is None else [r for r in page.records if r.trade_id < after]
            cur = f"after={after}"
            if not recs and self._suspect(stale, "holds only newer trades", cur):
                continue
            if recs and after is not None and max(r.trade_id for r in recs) != after - 1 and \
                    self._suspect(stale, f"ends at {max(r.trade_id for r in recs)}, not just below after", cur):
                continue  # ids are consecutive per product: a page that skips some is stale
            if not recs:
                continue
            stale = {}
            if newest is None:
                newest = max(r.trade_id for r in recs)
            oldest = min(recs, key=lambda r: r.trade_id)
            oldest_t = parse_time(oldest.time, symbol=j.symbol)
            keep = []
            for r in recs:
                if stop_id is not None and r.trade_id <= stop_id:
                    continue
                t = parse_time(r.time, symbol=j.symbol)
                if (since is not None and t < since) or (j.until is not None and t >= j.until):
                    continue
                keep.append(r)
            done = (stop_id is not None and oldest.trade_id <= stop_id + 1) or \
                   (since is not None and oldest_t < since)
            after = oldest.trade_id
            rows = [{**r.bronze(), **lin} for r, lin in _with_lineage(page, keep)]
            prog = max(0.0, (top - max(oldest_t, since or oldest_t)).total_seconds())
            if j.mode == "ingest":
                # a backward walk leaves a gap below it until it reaches the watermark or the cutoff:
                # only its last step may move the watermark
                yield Step(rows, {"after": after, "newest": newest}, newest, prog, checkpointable=done)
            else:
                yield Step(rows, {"after": after}, after, prog)
            if done:
                return

    # -- Kraken: forward in time with the ns `last` cursor ---------------------------------------
    def _kraken(self, cp: Checkpoint | None, covered: IdRanges) -> Iterator[Step]:
        j, conn = self.job, self.conn
        assert isinstance(conn, Kraken)
        if j.after_id is not None or j.before_id is not None:
            raise FatalError("kraken pages by time (ns `since` cursor): --after/--before trade ids are not "
                             "supported; use `schemahub backfill --since/--until`", venue="kraken",
                             symbol=j.symbol)
        start_t = j.since if j.mode == "backfill" else self.now() - j.cutoff
        max_id: int | None = None
        if cp is not None and cp.cursor.get("since") is not None:
            since = int(cp.cursor["since"])
            max_id = cp.last_trade_id
        else:
            assert start_t is not None
            since = utc_ns(start_t)
        if max_id is not None:  # recover what a crash wrote after the last checkpoint
            upto = covered.extend_up(max_id + 1) - 1
            if upto > max_id:
                t = kraken_trade_time(self.writer, j.symbol, upto)
                if t is not None:  # 1 ms early: the trades re-read there are dropped as already held
                    since, max_id = max(since, int(t * 1_000_000_000) - 1_000_000), upto
        until_ns = utc_ns(j.until) if j.until is not None else None
        start_ns = utc_ns(start_t) if start_t is not None else None
        floor_ns = None if (j.mode == "ingest" and cp is not None) else start_ns  # see _binance
        run_start_ns = utc_ns(self.now())
        stale: dict[str, int] = {}
        first_seen: int | None = None  # without a known last id, the first page must be seen twice alike
        empties = 0
        while True:
            page = conn.trades(j.symbol, since=since, count=j.page_size)
            last = int(page.extra["last"]) if page.extra else since
            cur = f"since={since}"
            if not page.records:
                empties += 1
                if empties >= 2 or j.mode == "ingest":  # an empty page is the end; a backfill confirms it
                    yield Step([], {"since": str(since)}, max_id)
                    return
                continue
            empties = 0
            recs = [r for r in page.records if max_id is None or r.trade_id > max_id]
            if floor_ns is not None:
                recs = [r for r in recs if r.time_ns >= floor_ns]
            if not recs:
                if self._suspect(stale, "holds no new trade", cur):
                    continue
                yield Step([], {"since": str(since)}, max_id)
                return
            lowest = min(r.trade_id for r in recs)
            if max_id is not None and lowest != max_id + 1 and \
                    self._suspect(stale, f"starts at id {lowest}, not {max_id + 1}", cur):
                continue  # ids are consecutive per pair: a page that skips some is stale
            if max_id is None and first_seen != lowest:
                first_seen = lowest  # ask again: two answers that agree pick the first trade
                continue
            stale = {}
            keep, stop = recs, False
            if until_ns is not None:
                keep = [r for r in recs if r.time_ns < until_ns]
                stop = len(keep) < len(recs)
            max_id = max([r.trade_id for r in keep], default=max_id) if stop else max(r.trade_id for r in recs)
            # resume point: inside the page when the window ends there, else Kraken's `last`, never backwards
            nxt = max([r.time_ns for r in keep], default=since) if stop else max(since, last)
            rows = [{**r.bronze(), **lin} for r, lin in _with_lineage(page, keep)]
            prog = None
            if start_ns is not None and keep:
                prog = (max(r.time_ns for r in keep) - start_ns) / 1e9
            yield Step(rows, {"since": str(nxt)}, max_id, prog)
            if stop or (j.mode == "ingest" and max(r.time_ns for r in recs) >= run_start_ns):
                return  # ingest stops once it reaches the run's start (a live market never ends)
            # Kraken ends a page early rather than split trades that share a timestamp: a short page is
            # not the end, only an EMPTY page is
            since = nxt


def _merge(base: Checkpoint, step: Step) -> dict[str, Any]:
    """A step's cursor over the previous checkpoint's (a step that knows nothing new keeps the old values)."""
    cursor = {**base.cursor, **{k: v for k, v in step.cursor.items() if v is not None}}
    last = step.last_trade_id if step.last_trade_id is not None else base.last_trade_id
    return {"cursor": cursor, "last_trade_id": last}


def _with_lineage(page: Any, records: list[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    lin = {"_source": page.source, "_source_uri": page.uri, "_recv_ts": page.recv_ts}
    for r in records:
        yield r, lin


def kraken_trade_time(writer: BronzeWriter, symbol: str, trade_id: int) -> Decimal | None:
    """Time (decimal seconds) of a Kraken trade already in bronze, read from the file whose name covers it."""
    table = "raw_kraken_trades"
    for path in writer.files(table, symbol):
        name = path.rsplit("/", 1)[-1]
        try:
            first, last = (int(x) for x in name.removesuffix(".parquet").split("__")[-2:])
        except ValueError:
            continue
        if first <= trade_id <= last:
            data = pq.read_table(io.BytesIO(writer.lake.read_bytes(path)), columns=["trade_id", "time"])
            hit = data.filter(pc.equal(data.column("trade_id"), trade_id))
            if hit.num_rows:
                return Decimal(hit.column("time")[0].as_py())
    return None
