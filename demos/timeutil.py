"""Parsing of the times and durations users type (`--at 2024-02-08T15:12:04Z`, `--window 12s`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """`12s`, `500ms`, `2m`, `1h` or plain seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: expected a number with ms, s, m or h (e.g. 12s)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"bad duration {text!r}: must be positive")
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    """An ISO-8601 time (UTC unless it names a zone) or epoch seconds / milliseconds."""
    value = str(text).strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", value):
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad time {text!r}: expected ISO-8601 like 2024-02-08T15:12:04Z or epoch seconds") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_ns(ts: datetime) -> int:
    return round(ts.timestamp() * 1e6) * 1000


def iso_ms(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
