"""Line readers for websocket recordings: every supported capture format -> `RawLine` records (pure parsing).

Formats understood (one record per line, decided line by line):
- SchemaHub / sandbox:  `<recv_ns> <raw json>`                    (receive time as integer nanoseconds)
- cryptofeed received:  `<local_ts>: <raw json>`                   (receive time as float epoch seconds)
- cryptofeed http:      `<url> -> <local_ts>: <raw body>`          (a REST response, e.g. a Binance depth snapshot)
- cryptofeed capture format 2 (JSON Lines, usually `.jsonl.zst`): `{"t": "recv"|"http"|..., "ts": <seconds>,
  "url"?, "data": "<raw payload>"}`; `header`, `connect` and `send` records are skipped.
- cryptofeed bookkeeping, skipped: `<url> <-> <ts>` (connect), `<url> <- <ts>: <json>` (sent frame),
  `configuration: {...}` (last line of http captures), blank lines.

Files ending in `.gz` or `.zst` are decompressed on the fly. Anything else is a `RecordingError` naming the file
and line: a recording is never half-read silently.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from schemahub.cli import SchemaHubError


class RecordingError(SchemaHubError):
    """A recording line that cannot be read (names the file and line)."""


@dataclass(frozen=True)
class RawLine:
    """One received payload of a recording."""

    file: str
    line_no: int
    recv_ns: int  # receive time, UTC epoch nanoseconds
    kind: str  # "ws" (a received frame) or "http" (a REST response body)
    url: str | None  # request URL for http lines
    text: str  # the raw payload, untouched

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line_no}"


_NS_LINE = re.compile(r"^(\d{16,20}) (.*)$", re.S)
_TS_LINE = re.compile(r"^(\d{9,11}(?:\.\d+)?): (.*)$", re.S)
_HTTP_LINE = re.compile(r"^(\S+://\S+) -> (\d{9,11}(?:\.\d+)?): (.*)$", re.S)
_CONNECT_LINE = re.compile(r"^\S+://\S+ <-> \d{9,11}(?:\.\d+)?$")
_SENT_LINE = re.compile(r"^\S+://\S+ <- \d{9,11}(?:\.\d+)?: ")


def seconds_to_ns(text: str) -> int:
    """Exact conversion of decimal epoch seconds (as text) to integer nanoseconds."""
    try:
        return int(Decimal(text) * 1_000_000_000)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number of seconds: {text!r}") from exc


def parse_line(text: str, file: str, line_no: int) -> RawLine | None:
    """One line of any supported format -> RawLine, or None for bookkeeping lines. Raises RecordingError."""
    line = text.rstrip("\r\n")
    if not line.strip() or line.startswith("configuration: "):
        return None
    if line.startswith("{"):
        return _parse_format2(line, file, line_no)
    if m := _NS_LINE.match(line):
        return RawLine(file, line_no, int(m[1]), "ws", None, m[2])
    if m := _TS_LINE.match(line):
        return RawLine(file, line_no, seconds_to_ns(m[1]), "ws", None, m[2])
    if m := _HTTP_LINE.match(line):
        return RawLine(file, line_no, seconds_to_ns(m[2]), "http", m[1], m[3])
    if _CONNECT_LINE.match(line) or _SENT_LINE.match(line):
        return None
    snippet = line[:80] + ("..." if len(line) > 80 else "")
    raise RecordingError(
        f"{file}:{line_no}: unrecognised recording line {snippet!r}; expected '<recv_ns> <json>', "
        "'<epoch seconds>: <json>' or '<url> -> <epoch seconds>: <body>'"
    )


def _parse_format2(line: str, file: str, line_no: int) -> RawLine | None:
    try:
        rec = json.loads(line, parse_float=Decimal)
        kind = rec["t"]
        if kind in ("header", "connect", "send"):
            return None
        if kind not in ("recv", "http"):
            raise ValueError(f"unknown record type {kind!r}")
        return RawLine(file, line_no, int(Decimal(rec["ts"]) * 1_000_000_000), "ws" if kind == "recv" else "http",
                       rec.get("url"), str(rec["data"]))
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise RecordingError(f"{file}:{line_no}: malformed capture record ({exc})") from exc


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".zst":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
        return io.TextIOWrapper(raw, encoding="utf-8")
    return open(path, encoding="utf-8")


def read_lines(path: str | Path) -> Iterator[RawLine]:
    """Stream the payload lines of one recording file, in file order."""
    p = Path(path)
    if not p.is_file():
        raise RecordingError(f"{p}: recording file not found")
    try:
        with _open_text(p) as fh:
            for n, text in enumerate(fh, start=1):
                parsed = parse_line(text, str(p), n)
                if parsed is not None:
                    yield parsed
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{p}: not a UTF-8 text recording ({exc})") from exc
