"""What every connector shares: record dataclasses (one per bronze table), pages, field checks, raw JSON.

A connector module = declared venue facts (class attributes) + PURE `parse_*` functions (no I/O; a real
sample in each docstring) + thin fetch methods that call the shared `HttpClient` and hand the body to a
parser. Records keep the venue's own field names and value forms (the bronze contract in
`ingest/bronze/tables.py`) plus the original record as JSON text (`raw_payload`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from ingest.errors import ParseError
from ingest.http import HttpClient, Reply


def _raw_json_slow(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_raw_json_slow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_raw_json_slow(v) for v in value) + "]"
    return json.dumps(value)


_MARK = "\x00raw-decimal\x00"  # stands in for a Decimal inside json.dumps; its JSON text is _MARK_JSON
_MARK_JSON = json.dumps(_MARK)


_DECIMALS = threading.local()  # the Decimals _mark_decimal met in the current thread's raw_json call


def _mark_decimal(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        _DECIMALS.found.append(str(obj))
        return _MARK
    raise TypeError(type(obj).__name__)


def _encoder(default: Callable[[Any], Any]) -> Callable[[Any, int], Any]:
    """json.dumps(value, separators=(",", ":"), default=default) without its per-call set-up (a new encoder)."""
    enc = json.JSONEncoder(separators=(",", ":"), default=default)
    if json.encoder.c_make_encoder is None:  # pure-Python json: the public path
        return lambda value, _level: (enc.encode(value),)
    # the arguments json.JSONEncoder.iterencode(o, _one_shot=True) passes (CPython's json/encoder.py), without
    # the circular-reference memo (a shared dict would keep stale entries after an error): parsed JSON has no
    # cycles, and a cyclic value ends in RecursionError, which falls back to the recursive renderer
    return json.encoder.c_make_encoder(None, default, json.encoder.encode_basestring_ascii, None, ":", ",",
                                       False, False, True)


_MARKED = _encoder(_mark_decimal)


def raw_json(value: Any) -> str:
    """JSON text of a parsed value, Decimal numbers written verbatim (json.dumps cannot emit a Decimal
    without turning it into a float or a string; the raw payload must keep the venue's digits).

    Compact (no spaces), keys and strings escaped as json.dumps does. One call of a C-level JSON encoder
    (built once) renders the whole value, each Decimal written as a marker string that is then replaced by its
    digits; when the marker count does not match (a string that itself holds the marker) or the value holds
    something else the encoder cannot render, the recursive renderer (one json.dumps per scalar) does the job
    instead. Both give the same text for anything `json.loads` produces (string keys)."""
    if isinstance(value, Decimal):
        return str(value)
    decimals: list[str] = []
    _DECIMALS.found = decimals
    try:
        text = "".join(_MARKED(value, 0))
    except (TypeError, ValueError, RecursionError):
        return _raw_json_slow(value)
    if not decimals:
        return text
    pieces = text.split(_MARK_JSON)
    if len(pieces) != len(decimals) + 1:
        return _raw_json_slow(value)
    out = [pieces[0]]
    for digits, piece in zip(decimals, pieces[1:], strict=True):
        out += (digits, piece)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Record:
    """A bronze row: native fields (venue names) + `raw_payload`. `table` names its bronze table."""

    table: ClassVar[str]
    cursor_field: ClassVar[str]

    def bronze(self) -> dict[str, Any]:
        keys, get = _bronze_layout(type(self))
        return dict(zip(keys, get(self), strict=True))

    @property
    def cursor(self) -> Any:
        return getattr(self, self.cursor_field)


@functools.cache
def _bronze_layout(cls: type[Record]) -> tuple[tuple[str, ...], Callable[[Record], tuple[Any, ...]]]:
    """(bronze keys, a getter of the matching field values) of a record class, worked out once per class."""
    names = tuple(f.name for f in fields(cls))
    keys = tuple("_raw_payload" if n == "raw_payload" else n for n in names)
    getter = operator.attrgetter(*names)
    return keys, (getter if len(names) > 1 else lambda r: (getter(r),))


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Page(Generic[R]):
    """Records parsed from one response, with where and when they were received."""

    records: list[R]
    source: str  # _source, e.g. "binance.rest.historicalTrades"
    uri: str  # _source_uri: the request URL
    recv_ts: dt.datetime  # _recv_ts
    headers: Mapping[str, str] | None = None
    extra: Mapping[str, Any] | None = None  # venue cursors found beside the records (Kraken `last`, CB-AFTER)

    def bronze_rows(self) -> list[dict[str, Any]]:
        """Rows for `BronzeWriter.to_arrow`, each carrying its own lineage (pages of one batch may differ)."""
        lineage = {"_source": self.source, "_source_uri": self.uri, "_recv_ts": self.recv_ts}
        rows = [r.bronze() for r in self.records]
        for row in rows:
            row.update(lineage)
        return rows


@dataclass(frozen=True)
class Product:
    """One tradable market as the venue lists it (for the seed file)."""

    venue: str
    symbol: str  # the venue's own symbol as bronze uses it (BTCUSDT, BTC-USD, XBTUSD)
    base: str
    quote: str
    status: str
    active: bool


# -- field checks (used by every parser) -----------------------------------------------------------
class Fields:
    """Typed access to one record that names venue, symbol and field when something is missing or wrong."""

    def __init__(self, venue: str, symbol: str | None, what: str, obj: Any) -> None:
        self.venue, self.symbol, self.what, self.obj = venue, symbol, what, obj

    def fail(self, msg: str) -> ParseError:
        return ParseError(f"{self.venue} {self.what}: {msg}: {raw_json(self.obj)[:200]}", venue=self.venue,
                          symbol=self.symbol)

    def _get(self, key: str | int) -> Any:
        try:
            value = self.obj[key]
        except (KeyError, IndexError, TypeError):
            raise self.fail(f"missing field {key!r}") from None
        if value is None:
            raise self.fail(f"field {key!r} is null")
        return value

    def int(self, key: str | int) -> int:
        value = self._get(key)
        if isinstance(value, bool):
            raise self.fail(f"field {key!r} should be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        raise self.fail(f"field {key!r} should be an integer, got {value!r}")

    def text(self, key: str | int) -> str:
        """A decimal string exactly as sent (numbers sent as JSON numbers are written back verbatim)."""
        value = self._get(key)
        if isinstance(value, str):
            if not value:
                raise self.fail(f"field {key!r} is empty")
            return value
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(value)
        raise self.fail(f"field {key!r} should be a decimal string, got {value!r}")

    def str(self, key: str | int, allowed: Sequence[str] | None = None, *, empty_ok: bool = False) -> str:
        value = self._get(key)
        if not isinstance(value, str) or (not value and not empty_ok):
            raise self.fail(f"field {key!r} should be a non-empty string, got {value!r}")
        if allowed is not None and value not in allowed:
            raise self.fail(f"field {key!r} should be one of {list(allowed)}, got {value!r}")
        return value

    def bool(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self.fail(f"field {key!r} should be true/false, got {value!r}")
        return value

    def float(self, key: str | int) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise self.fail(f"field {key!r} should be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise self.fail(f"field {key!r} should be a number, got {value!r}") from None

    def levels(self, key: str) -> list[list[str]]:
        rows = self._get(key)
        if not isinstance(rows, list):
            raise self.fail(f"field {key!r} should be a list of levels")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) < 2:
                raise self.fail(f"level {i} of {key!r} should be [price, qty, ...], got {row!r}")
            out.append([str(v) if not isinstance(v, str) else v for v in row])
        return out


def expect_list(venue: str, symbol: str | None, what: str, data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise ParseError(f"{venue} {what}: expected a JSON array, got {raw_json(data)[:200]}", venue=venue,
                         symbol=symbol)
    return data


def expect_dict(venue: str, symbol: str | None, what: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ParseError(f"{venue} {what}: expected a JSON object, got {raw_json(data)[:200]}", venue=venue,
                         symbol=symbol)
    return data


class Connector:
    """Venue facts as class attributes; subclasses add parsers (module functions) and fetch methods."""

    name: ClassVar[str]
    trades_table: ClassVar[str]
    depth_table: ClassVar[str]
    klines_table: ClassVar[str]
    trade_id_field: ClassVar[str]
    default_symbols: ClassVar[tuple[str, ...]]
    max_page: ClassVar[int] = 1000

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, symbol: str | None = None,
            cursor: Any = None, weight: int = 1) -> Reply:
        return self.client.get(self.name, path, params, symbol=symbol, cursor=cursor, weight=weight)

    def source(self, endpoint: str) -> str:
        return f"{self.name}.rest.{endpoint}"
