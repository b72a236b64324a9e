"""Binance bulk dumps (data.binance.vision): download, verify, parse and land spot trades / aggTrades / klines.

Per file (exchange-apis.md §1.6):
1. download the zip and its `.CHECKSUM` (`<sha256>  <zip name>`) through the shared HTTP client; a 404 on the
   zip means "no file for that period";
2. verify the sha256 and REFUSE a mismatch: nothing of that file is written;
3. the zip must hold exactly one CSV; spot CSVs have no header row, but the first line is sniffed anyway
   (a non-numeric first field is a header and is skipped);
4. the whole CSV is parsed and checked once without writing (ids are integers, prices decimal text, booleans
   `True`/`False`, every time value 13 digits (ms, files before 2025-01-01) or 16 digits (µs, from 2025-01-01),
   decided per value), so a bad line anywhere stops the file before anything is written;
5. then written to bronze in bounded batches, native values kept (times stay the int the file holds; the writer
   partitions per value), with `_source_uri` = the dump URL and `_source_checksum` = its sha256. Pass 2 writes
   the tables pass 1 checked when they fit in `KEEP_BYTES` (the usual daily file: converted once), else it
   parses the CSV again.

Parsing is vectorised with pyarrow.csv and pyarrow.compute (streaming, `batch_rows` rows at a time), so memory
stays bounded (by `KEEP_BYTES`, or by one batch) for monthly files of tens of millions of rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from schemahub.cli import SchemaHubError

KLINE_INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo")
DAILY_KLINE_INTERVALS = KLINE_INTERVALS[:13]  # 3d, 1w, 1mo are published monthly only
KINDS = ("trades", "aggTrades", "klines")

# CSV columns per kind (no header row in spot files) -> bronze column (None = not kept as a column; it stays in
# `_raw_payload`) and how the value is checked/converted.
COLUMNS: dict[str, list[tuple[str, str | None, str]]] = {
    "trades": [("trade_id", "id", "int"), ("price", "price", "dec"), ("qty", "qty", "dec"),
               ("quote_qty", "quoteQty", "dec"), ("time", "time", "time"),
               ("is_buyer_maker", "isBuyerMaker", "bool"), ("is_best_match", "isBestMatch", "bool")],
    "aggTrades": [("agg_trade_id", "a", "int"), ("price", "p", "dec"), ("qty", "q", "dec"),
                  ("first_trade_id", "f", "int"), ("last_trade_id", "l", "int"), ("time", "T", "time"),
                  ("is_buyer_maker", "m", "bool"), ("is_best_match", "M", "bool")],
    "klines": [("open_time", "openTime", "time"), ("open", "open", "dec"), ("high", "high", "dec"),
               ("low", "low", "dec"), ("close", "close", "dec"), ("volume", "volume", "dec"),
               ("close_time", "closeTime", "time"), ("quote_volume", "quoteVolume", "dec"),
               ("trade_count", "trades", "int"), ("taker_buy_base_volume", "takerBuyBaseVolume", "dec"),
               ("taker_buy_quote_volume", "takerBuyQuoteVolume", "dec"), ("ignore", None, "any")],
}
TABLES = {"trades": "raw_binance_trades", "aggTrades": "raw_binance_aggtrades", "klines": "raw_binance_klines"}

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_INT = r"^-?\d+$"
_DEC = r"^-?\d+(\.\d+)?$"
_TRUE = pa.array(["True", "true"])
_FALSE = pa.array(["False", "false"])
MS_RANGE = (10**12, 10**13)  # 13-digit epoch ms (2001..2286)
US_RANGE = (10**15, 10**16)  # 16-digit epoch µs


class DumpError(SchemaHubError):
    """A dump that cannot be ingested (names the file and, where it applies, the line and column)."""


class DumpChecksumError(DumpError):
    """The zip's sha256 differs from its .CHECKSUM: refused, nothing written."""


class DumpMissing(DumpError):
    """HTTP 404: no file published for that symbol and period."""


@dataclass(frozen=True)
class DumpFile:
    """One archive of data.binance.vision."""

    symbol: str
    kind: str  # trades | aggTrades | klines
    period: str  # daily | monthly
    date: str  # YYYY-MM-DD (daily) or YYYY-MM (monthly)
    interval: str | None = None  # klines only

    def __post_init__(self) -> None:
        if not _SYMBOL.match(self.symbol):
            raise DumpError(f"bad symbol {self.symbol!r}: Binance spot symbols are upper case, e.g. BTCUSDT")
        if self.kind not in KINDS:
            raise DumpError(f"unknown dump kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.period not in ("daily", "monthly"):
            raise DumpError(f"unknown period {self.period!r}; expected daily or monthly")
        if self.kind == "klines":
            allowed = DAILY_KLINE_INTERVALS if self.period == "daily" else KLINE_INTERVALS
            if self.interval not in allowed:
                raise DumpError(f"klines {self.period} dumps need --interval in {', '.join(allowed)}; "
                                f"got {self.interval!r}")

    @property
    def name(self) -> str:
        middle = self.interval if self.kind == "klines" else self.kind
        return f"{self.symbol}-{middle}-{self.date}.zip"

    @property
    def path(self) -> str:
        sub = f"{self.symbol}/{self.interval}" if self.kind == "klines" else self.symbol
        return f"data/spot/{self.period}/{self.kind}/{sub}/{self.name}"

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.path}"

    @property
    def table(self) -> str:
        return TABLES[self.kind]

    @property
    def source(self) -> str:
        return f"binance.dump.{self.kind}"

    def __str__(self) -> str:
        return self.name


# -- planning ------------------------------------------------------------------------------------
def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DumpError(f"bad date {text!r}: expected YYYY-MM-DD") from None


def _parse_month(text: str) -> tuple[int, int]:
    m = re.match(r"^(\d{4})-(\d{2})$", text)
    if not m or not 1 <= int(m[2]) <= 12:
        raise DumpError(f"bad month {text!r}: expected YYYY-MM")
    return int(m[1]), int(m[2])


def period_range(text: str, period: str) -> list[str]:
    """'2024-12-30..2025-01-02' (or one date) -> every daily date / monthly month in the range, inclusive."""
    first, sep, last = text.partition("..")
    last = last if sep else first
    if period == "daily":
        a, b = _parse_day(first), _parse_day(last)
        if b < a:
            raise DumpError(f"bad date range {text!r}: end before start")
        if (b - a).days > 3660:
            raise DumpError(f"date range {text!r} spans more than 10 years; use --monthly")
        return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]
    (y1, m1), (y2, m2) = _parse_month(first), _parse_month(last)
    if (y2, m2) < (y1, m1):
        raise DumpError(f"bad month range {text!r}: end before start")
    out = []
    y, m = y1, m1
    while (y, m) <= (y2, m2):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# -- checksum ------------------------------------------------------------------------------------
def parse_checksum(text: str, zip_name: str) -> str:
    """`sha256sum` output (`<64 hex>  <name>`) -> the hex digest; the name must be the zip's."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) != 1:
        raise DumpError(f"{zip_name}.CHECKSUM: expected one line '<sha256>  {zip_name}', got {len(lines)} lines")
    m = re.match(r"^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$", lines[0])
    if not m:
        raise DumpError(f"{zip_name}.CHECKSUM: not in sha256sum format: {lines[0][:120]!r}")
    if m[2] != zip_name:
        raise DumpError(f"{zip_name}.CHECKSUM names another file: {m[2]!r}")
    return m[1].lower()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- parsing -------------------------------------------------------------------------------------
def has_header(first_line: str) -> bool:
    """Spot CSVs have no header, futures ones sometimes do: a non-numeric first field means a header."""
    first = first_line.split(",", 1)[0].strip().strip('"')
    return not re.match(r"^-?\d+(\.\d+)?$", first)


def _csv_member(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    members = [i for i in zf.infolist() if not i.is_dir()]
    csvs = [i for i in members if i.filename.lower().endswith(".csv")]
    if len(members) != 1 or len(csvs) != 1:
        raise DumpError(f"{name}: expected exactly one CSV inside, found {[i.filename for i in members]}")
    return csvs[0]


def _first_bad(mask: pa.Array) -> int:
    return int(pc.index(mask, pa.scalar(True)).as_py())


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask).as_py())


# The checks below are exactly the regexes _INT / _DEC, but a whole column that passes is recognised with
# cheaper vectorised kernels (ASCII digits only; at most one inner '.'), and the regex runs only on a column the
# fast test does not clear (negative values, or a bad value, whose first row the regex then locates). RE2's `\d`
# is ASCII [0-9] like `ascii_is_decimal`, so the fast test never accepts what the regex would refuse.
def _int_ok(col: pa.Array) -> pa.Array | None:
    """None when every value matches `_INT`; else the per-row match mask."""
    if _all(pc.ascii_is_decimal(col)):
        return None
    ok = pc.match_substring_regex(col, _INT)
    return None if _all(ok) else ok


def _dec_ok(col: pa.Array) -> pa.Array | None:
    """None when every value matches `_DEC`; else the per-row match mask."""
    digits = pc.ascii_is_decimal(pc.replace_substring(col, ".", "", max_replacements=1))
    if _all(digits) and not pc.any(pc.starts_with(col, ".")).as_py() and not pc.any(pc.ends_with(col, ".")).as_py():
        return None
    ok = pc.match_substring_regex(col, _DEC)
    return None if _all(ok) else ok


def _to_int64(col: pa.Array, name: str, csv_col: str, first_line_no: int) -> pa.Array:
    """Integer text (already checked) -> int64; a value beyond int64 names its line instead of failing the batch."""
    try:
        return pc.cast(col, pa.int64())
    except pa.ArrowInvalid:
        for i, text in enumerate(col.to_pylist()):  # failure path only: find the offending row
            if not -(2**63) <= int(text) < 2**63:
                raise DumpError(f"{name} line {first_line_no + i}: column {csv_col!r} = {text} does not fit a "
                                "64-bit integer") from None
        raise


def _convert(kind: str, batch: pa.RecordBatch, name: str, first_line_no: int) -> dict[str, pa.Array]:
    """String columns of one CSV batch -> bronze-typed arrays; the first bad value raises, naming line and column."""
    out: dict[str, pa.Array] = {}
    for i, (csv_col, bronze_col, how) in enumerate(COLUMNS[kind]):
        col = batch.column(i)
        if col.null_count:
            bad = _first_bad(pc.is_null(col))
            raise DumpError(f"{name} line {first_line_no + bad}: column {csv_col!r} is empty")
        if how in ("int", "time"):
            mask = _int_ok(col)
            if mask is not None:
                bad = _first_bad(pc.invert(mask))
                raise DumpError(f"{name} line {first_line_no + bad}: column {csv_col!r} is not an integer: "
                                f"{col[bad].as_py()!r}")
            arr = _to_int64(col, name, csv_col, first_line_no)
            if how == "time":
                is_ms = pc.and_(pc.greater_equal(arr, MS_RANGE[0]), pc.less(arr, MS_RANGE[1]))
                is_us = pc.and_(pc.greater_equal(arr, US_RANGE[0]), pc.less(arr, US_RANGE[1]))
                ok = pc.or_(is_ms, is_us)
                if not _all(ok):
                    bad = _first_bad(pc.invert(ok))
                    raise DumpError(f"{name} line {first_line_no + bad}: column {csv_col!r} = {arr[bad].as_py()} "
                                    "is neither epoch ms (13 digits) nor epoch µs (16 digits)")
        elif how == "dec":
            mask = _dec_ok(col)
            if mask is not None:
                bad = _first_bad(pc.invert(mask))
                raise DumpError(f"{name} line {first_line_no + bad}: column {csv_col!r} is not a decimal number: "
                                f"{col[bad].as_py()!r}")
            arr = col
        elif how == "bool":
            is_true = pc.is_in(col, value_set=_TRUE)
            ok = pc.or_(is_true, pc.is_in(col, value_set=_FALSE))
            if not _all(ok):
                bad = _first_bad(pc.invert(ok))
                raise DumpError(f"{name} line {first_line_no + bad}: column {csv_col!r} is not True/False: "
                                f"{col[bad].as_py()!r}")
            arr = is_true
        else:
            arr = col
        if bronze_col:
            out[bronze_col] = arr
    return out


@dataclass
class ParsedBatch:
    table: pa.Table  # bronze schema
    first_line: int
    rows: int


def iter_batches(zip_path: str | Path, dump: DumpFile, *, uri: str, checksum: str,
                 batch_rows: int = 500_000, ingest_ts: dt.datetime | None = None) -> Iterator[ParsedBatch]:
    """Stream a verified dump zip as bronze-schema Arrow tables of at most `batch_rows` rows."""
    from ingest.bronze.tables import table as bronze_table

    bt = bronze_table(dump.table)
    now = ingest_ts or dt.datetime.now(dt.UTC)
    names = [c for c, _, _ in COLUMNS[dump.kind]]
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DumpError(f"{dump.name}: corrupt zip ({exc})") from exc
    with zf:
        member = _csv_member(zf, dump.name)
        where = f"{dump.name}/{member.filename}"
        try:
            with zf.open(member) as raw:
                first = raw.readline().decode("utf-8", "replace")
            header = 1 if first and has_header(first) else 0
            with zf.open(member) as raw:
                # block size ~ batch_rows lines of ~60 bytes; batches are re-cut to exactly batch_rows below
                reader = pacsv.open_csv(
                    raw,
                    read_options=pacsv.ReadOptions(column_names=names, skip_rows=header,
                                                   block_size=max(1 << 16, min(batch_rows * 64, 1 << 28))),
                    parse_options=pacsv.ParseOptions(newlines_in_values=False),
                    convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                         strings_can_be_null=False, quoted_strings_can_be_null=False),
                )
                line_no = 1 + header
                for rb in reader:
                    for start in range(0, rb.num_rows, batch_rows):
                        part = rb.slice(start, batch_rows)
                        yield _to_bronze(bt, dump, part, where, line_no, uri, checksum, now)
                        line_no += part.num_rows
        except (pa.ArrowInvalid, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise DumpError(f"{where}: unreadable CSV or corrupt zip member ({exc})") from exc


def _repeat(value: Any, typ: pa.DataType, n: int) -> pa.Array:
    """One value n times, built in C++ (a Python list of n copies cost more than parsing the column)."""
    return pa.repeat(pa.scalar(value, typ), n)


def _to_bronze(bt: Any, dump: DumpFile, part: pa.RecordBatch, where: str, line_no: int, uri: str,
               checksum: str, now: dt.datetime) -> ParsedBatch:
    cols = _convert(dump.kind, part, where, line_no)
    n = part.num_rows
    if dump.kind == "klines":
        cols["interval"] = _repeat(dump.interval, pa.string(), n)
    raw = pc.binary_join_element_wise(*[part.column(i) for i in range(part.num_columns)], ",")
    lineage = {
        "_source": _repeat(dump.source, pa.string(), n),
        "_source_ingest_ts": _repeat(now, pa.timestamp("us", tz="UTC"), n),
        "_recv_ts": pa.nulls(n, pa.timestamp("us", tz="UTC")),
        "_source_uri": _repeat(uri, pa.string(), n),
        "_source_checksum": _repeat(checksum, pa.string(), n),
        "_raw_payload": raw,
    }
    arrays = [cols.get(f.name, lineage.get(f.name)) for f in bt.schema]
    return ParsedBatch(pa.Table.from_arrays(arrays, schema=bt.schema), line_no, n)


# -- one dump, end to end ------------------------------------------------------------------------
@dataclass
class DumpResult:
    dump: DumpFile
    url: str
    status: str  # written | missing
    checksum: str | None = None
    rows: int = 0
    files: list[str] = field(default_factory=list)
    time_units: dict[str, int] = field(default_factory=dict)  # "ms"/"us" -> rows, from the time column


def fetch_verified(client: Any, dump: DumpFile, base_url: str, workdir: Path) -> tuple[Path, str, str]:
    """Download zip + .CHECKSUM into `workdir`, verify; returns (zip path, url, sha256). Raises on mismatch."""
    from ingest.errors import FatalError

    url = dump.url(base_url)
    zip_path, sum_path = workdir / dump.name, workdir / (dump.name + ".CHECKSUM")
    try:
        client.download("binance", url, zip_path, symbol=dump.symbol, cursor=dump.date)
    except FatalError as exc:
        if exc.status == 404:
            raise DumpMissing(f"{dump.name}: no file published at {url} (HTTP 404)") from exc
        raise
    try:
        client.download("binance", url + ".CHECKSUM", sum_path, symbol=dump.symbol, cursor=dump.date)
    except FatalError as exc:
        if exc.status == 404:
            raise DumpError(f"{dump.name}: no .CHECKSUM published at {url}.CHECKSUM; refusing an unverified "
                            "dump") from exc
        raise
    expected = parse_checksum(sum_path.read_text(encoding="utf-8", errors="replace"), dump.name)
    actual = sha256_file(zip_path)
    if actual != expected:
        raise DumpChecksumError(f"{dump.name}: sha256 mismatch (file {actual}, .CHECKSUM {expected}): refused, "
                                f"nothing written [{url}]")
    return zip_path, url, actual


# Pass 1 keeps its checked tables for pass 2 while they take at most this many bytes of Arrow memory (a daily
# BTCUSDT trades dump of a few million rows is a few hundred MB); a bigger file is read and converted again in
# pass 2, so memory stays bounded by one batch for monthly files of tens of millions of rows.
KEEP_BYTES = 512 << 20


@dataclass
class CheckedDump:
    """Pass 1's outcome: every line parsed and checked, nothing written."""

    rows: int
    time_units: dict[str, int]
    ingest_ts: dt.datetime
    batches: list[ParsedBatch] | None  # the checked tables, or None when they did not fit in `keep_bytes`


def check_dump(zip_path: str | Path, dump: DumpFile, *, uri: str, checksum: str, batch_rows: int = 500_000,
               keep_bytes: int = KEEP_BYTES, ingest_ts: dt.datetime | None = None) -> CheckedDump:
    """Pass 1: parse and check every line of a verified dump zip, write nothing. Raises DumpError on a bad line."""
    time_col = {"trades": "time", "aggTrades": "T", "klines": "openTime"}[dump.kind]
    now = ingest_ts or dt.datetime.now(dt.UTC)
    rows, units, kept, size = 0, {"ms": 0, "us": 0}, [], 0
    keep: list[ParsedBatch] | None = kept
    for b in iter_batches(zip_path, dump, uri=uri, checksum=checksum, batch_rows=batch_rows, ingest_ts=now):
        n_ms = pc.sum(pc.less(b.table.column(time_col), MS_RANGE[1])).as_py() or 0
        units["ms"] += n_ms
        units["us"] += b.rows - n_ms
        rows += b.rows
        if keep is not None:
            size += b.table.nbytes
            if size <= keep_bytes:
                keep.append(b)
            else:
                keep = None
                kept.clear()
    return CheckedDump(rows, units, now, keep)


def land_zip(writer: Any, zip_path: str | Path, dump: DumpFile, *, uri: str, checksum: str,
             batch_rows: int = 500_000, keep_bytes: int = KEEP_BYTES, progress: Any = None) -> DumpResult:
    """Check every line of a verified dump zip (pass 1, nothing written), then write it to bronze (pass 2).

    Pass 2 writes pass 1's checked tables when they fit in `keep_bytes`, else reads the zip again."""
    checked = check_dump(zip_path, dump, uri=uri, checksum=checksum, batch_rows=batch_rows, keep_bytes=keep_bytes)
    result = DumpResult(dump, uri, "written", checksum, time_units=checked.time_units)
    batches = checked.batches if checked.batches is not None else iter_batches(
        zip_path, dump, uri=uri, checksum=checksum, batch_rows=batch_rows, ingest_ts=checked.ingest_ts)
    for b in batches:
        written = writer.write(dump.table, dump.symbol, b.table)
        result.rows += b.rows
        result.files += [f.path for f in written]
        if progress is not None:
            progress.update(b.rows)
    if result.rows != checked.rows:  # the zip is ours (verified, in a private temp dir): this would be a bug
        raise DumpError(f"{dump.name}: pass 2 wrote {result.rows} rows but pass 1 checked {checked.rows}")
    return result


def ingest_dump(client: Any, writer: Any, dump: DumpFile, base_url: str, *, batch_rows: int = 500_000,
                progress: Any = None, keep_bytes: int = KEEP_BYTES) -> DumpResult:
    """Download, verify, check every line, then write one dump to bronze. Raises DumpError/DumpMissing."""
    with tempfile.TemporaryDirectory(prefix="schemahub-dump-") as tmp:
        zip_path, url, checksum = fetch_verified(client, dump, base_url, Path(tmp))
        return land_zip(writer, zip_path, dump, uri=url, checksum=checksum, batch_rows=batch_rows,
                        keep_bytes=keep_bytes, progress=progress)


def build_zip(csv_text: str, csv_name: str) -> bytes:
    """A dump-shaped zip (one CSV) in memory: used by tests and the sandbox to serve dumps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(csv_name, csv_text)
    return buf.getvalue()
