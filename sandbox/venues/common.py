"""What every simulated venue shares: the reply type, the request context, and integer parsing helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.formats import dumps

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from sandbox.market import Market

SIM_HEADER = ("X-SchemaHub-Sandbox", "simulated")


@dataclass
class Reply:
    """A finished HTTP answer (status, body bytes, headers)."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
        return cls(status, dumps(obj).encode(), list(headers or []))


@dataclass
class PageInfo:
    """How a trade-page request moves through history, for the `overlap` and `repeat` faults."""

    key: str  # venue + endpoint + symbol: requests that walk the same history
    has_cursor: bool  # the request names a position in history (overlap applies)
    repeatable: bool = False  # a trade-id / ns cursor: "the page before the cursor" exists (repeat applies)


@dataclass
class Ctx:
    """Everything a venue handler needs for one request."""

    market: Market
    args: MultiDict[str, str]
    now_ns: int
    live: bool
    overlap: int = 0  # > 0: the `overlap` fault asks the page to start this many trades before the cursor
    repeat: bool = False  # the `repeat` fault: serve the page that ends just before the cursor (seen already)
    fault_unused: bool = False  # set by a handler that could not apply the requested fault (answered normally)

    def visible(self, tape_len_fn: Callable[[int | None], int]) -> int:
        return tape_len_fn(self.now_ns if self.live else None)

    @property
    def visible_until_ns(self) -> int:
        """Latest event time a client may see."""
        return min(self.now_ns, self.market.end_ns) if self.live else self.market.end_ns


class BadParam(ValueError):
    """A request parameter the venue would reject; the venue turns it into its own error body."""

    def __init__(self, name: str, problem: str, value: str | None = None) -> None:
        super().__init__(f"parameter {name!r} {problem}" + (f" (got {value!r})" if value is not None else ""))
        self.name, self.problem, self.value = name, problem, value


def int_arg(args: MultiDict[str, str], name: str, default: int | None = None, lo: int | None = None,
            hi: int | None = None) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit():
        raise BadParam(name, "is not an integer", raw)
    value = int(raw)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadParam(name, f"is out of range [{lo}, {hi}]", raw)
    return value


def wall_ns() -> int:
    return time.time_ns()


def to_json_text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
