"""Pure Arrow conversions from lake files to the rows of a published Iceberg table (no I/O here).

Raw tables keep every bronze column exactly as the venue sent it (decimal strings stay strings) and gain two
columns: `symbol` (the venue's symbol, which bronze keeps only in its hive path) and the event time as a real
timestamp (`trade_ts` for trades, `event_ts` otherwise) that the table is partitioned by, day(trade_ts).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from schemahub.cli import SchemaHubError

UTC_US = pa.timestamp("us", tz="UTC")
_US_THRESHOLD = 10**14  # Binance epochs: ms below, µs from (2025-01-01 dumps switched to µs)
_SECONDS_TEXT = r"^(?P<s>-?\d+)(?:\.(?P<f>\d*))?$"


class ConvertError(SchemaHubError, ValueError):
    """A lake file's rows cannot become rows of the Iceberg table (message names the file and column)."""


def event_times(col: pa.ChunkedArray | pa.Array, unit: str, *, what: str) -> pa.ChunkedArray:
    """A bronze time column in its native form -> timestamp[us, UTC], exactly (no float rounding).

    `unit` is the bronze contract's time unit: ms | ms_or_us | epoch_s | seconds_text | iso8601 | recv.
    `what` names the file and column in errors.
    """
    col = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    if pa.types.is_timestamp(col.type):
        out = pc.cast(col, UTC_US) if col.type.tz else pc.assume_timezone(pc.cast(col, pa.timestamp("us")), "UTC")
    elif unit in ("ms", "ms_or_us"):
        ints = pc.cast(col, pa.int64())
        out = pc.cast(pc.if_else(pc.less(ints, _US_THRESHOLD), pc.multiply(ints, 1000), ints), UTC_US)
    elif unit == "epoch_s":
        out = pc.cast(pc.multiply(pc.cast(col, pa.int64()), 1_000_000), UTC_US)
    elif unit == "seconds_text":
        out = _seconds_text(col, what)
    elif unit == "iso8601":
        try:
            out = pc.cast(col, UTC_US)
        except pa.ArrowInvalid as exc:
            raise ConvertError(f"{what}: not ISO-8601 timestamps: {exc}") from exc
    else:
        raise ConvertError(f"{what}: unknown time unit {unit!r}")
    missing = out.null_count
    if missing:
        raise ConvertError(f"{what}: {missing} row(s) without a time")
    return out


def _seconds_text(col: pa.ChunkedArray, what: str) -> pa.ChunkedArray:
    """Decimal-second text such as "1704067200.123456" -> µs timestamps, parsed as text (digits beyond µs cut)."""
    parts = pc.extract_regex(pc.cast(col, pa.string()), _SECONDS_TEXT)
    if parts.null_count != col.null_count:
        bad = pc.filter(col, pc.and_(pc.is_null(parts), pc.is_valid(col)))[0]
        raise ConvertError(f"{what}: {bad.as_py()!r} is not decimal seconds")
    whole = pc.cast(pc.struct_field(parts, "s"), pa.int64())
    frac_text = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.struct_field(parts, "f"), 0, 6), 6, "0")
    frac = pc.cast(frac_text, pa.int64())
    sign = pc.if_else(pc.starts_with(pc.struct_field(parts, "s"), "-"), -1, 1)
    return pc.cast(pc.add(pc.multiply(whole, 1_000_000), pc.multiply(frac, sign)), UTC_US)


def nullable(schema: pa.Schema) -> pa.Schema:
    """Every field optional: Iceberg tables created from it can take files that lack a column."""
    return pa.schema([f.with_nullable(True) for f in schema], metadata=None)


def with_column(tbl: pa.Table, name: str, value: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Add or replace a column (appended at the end when new)."""
    if name in tbl.column_names:
        return tbl.set_column(tbl.column_names.index(name), name, value)
    return tbl.append_column(name, value)


def constant(value: object, type_: pa.DataType, n: int) -> pa.Array:
    return pa.array([value] * n, type=type_) if n else pa.array([], type=type_)


def hive_date(text: str, *, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConvertError(f"{what}: partition value {text!r} is not a YYYY-MM-DD date") from exc


def check_one_day(ts: pa.ChunkedArray, day: dt.date, *, what: str) -> None:
    """Every timestamp lies on `day` (UTC): a row on another day would land in another Iceberg partition."""
    if len(ts) == 0:
        return
    days = pc.cast(pc.cast(ts, pa.timestamp("us")), pa.date32())
    wrong = pc.not_equal(days, pa.scalar(day, pa.date32()))
    n = pc.sum(pc.cast(wrong, pa.int64())).as_py() or 0
    if n:
        first = pc.filter(ts, wrong)[0].as_py()
        raise ConvertError(f"{what}: {n} row(s) are not on {day} (first: {first}); the file is in the wrong date folder")


def unify(schemas: list[tuple[str, pa.Schema]]) -> pa.Schema:
    """One schema from several files' schemas (new columns added); a type clash names both files."""
    out: dict[str, tuple[pa.Field, str]] = {}
    for origin, schema in schemas:
        for f in schema:
            seen = out.get(f.name)
            if seen is None:
                out[f.name] = (f.with_nullable(True), origin)
            elif seen[0].type != f.type:
                raise ConvertError(
                    f"column {f.name!r} is {f.type} in {origin} but {seen[0].type} in {seen[1]}; "
                    "a column may be added but not change its type"
                )
    return pa.schema([f for f, _ in out.values()])
