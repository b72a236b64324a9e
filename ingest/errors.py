"""Ingest errors, named by the action they call for (retry or stop), each naming venue, symbol and cursor.

    SchemaHubError
      IngestError               venue / endpoint / symbol / cursor as attributes, all in the message
        RetriableError          may heal by waiting: timeouts, resets, 5xx, HTML or truncated bodies, throttling
          RateLimitedError      429, Binance -1003, Kraken "Too many requests": honour `retry_after` when given
            BannedError         Binance 418: every Binance call halts until the ban ends
        FatalError              cannot heal by retrying: unknown symbol, bad parameters, a record without a field
          ParseError            a response or record that does not have the shape the venue documents
          RetriesExhaustedError a retriable error that kept failing (e.g. an unreachable host)
          CheckpointError       a corrupted or mismatching checkpoint file (never silently reset)
          SeedError             a malformed product seed file
"""

from __future__ import annotations

from typing import Any

from schemahub.cli import SchemaHubError


class IngestError(SchemaHubError):
    """Base of every ingest error; `str()` names venue, endpoint, symbol and cursor when known."""

    def __init__(self, message: str, *, venue: str | None = None, endpoint: str | None = None,
                 symbol: str | None = None, cursor: Any = None, status: int | None = None) -> None:
        self.venue, self.endpoint, self.symbol, self.cursor, self.status = venue, endpoint, symbol, cursor, status
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = [f"venue={self.venue}"] if self.venue else []
        if self.symbol:
            where.append(f"symbol={self.symbol}")
        if self.endpoint:
            where.append(f"endpoint={self.endpoint}")
        if self.cursor is not None:
            where.append(f"cursor={self.cursor}")
        if self.status is not None:
            where.append(f"http={self.status}")
        return f"{self.message} [{' '.join(where)}]" if where else self.message

    def attrs(self) -> dict[str, Any]:
        return {"venue": self.venue, "endpoint": self.endpoint, "symbol": self.symbol, "cursor": self.cursor,
                "status": self.status, "message": self.message}


class RetriableError(IngestError):
    """Transient: the same request may succeed later. `retry_after` (seconds) when the venue said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, **ctx: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **ctx)


class RateLimitedError(RetriableError):
    """The venue throttled us (HTTP 429, Binance -1003, Kraken EGeneral:Too many requests / EAPI:Rate limit)."""


class BannedError(RateLimitedError):
    """Binance HTTP 418: the IP is banned until `retry_after` seconds from now; all Binance calls halt."""


class FatalError(IngestError):
    """Permanent: retrying the same request cannot help (unknown symbol, bad parameters, malformed data)."""


class ParseError(FatalError):
    """A response or record without the shape the venue documents (names the missing or bad field)."""


class RetriesExhaustedError(FatalError):
    """A retriable failure that persisted through every attempt (e.g. an unreachable host)."""


class CheckpointError(FatalError):
    """A checkpoint file that cannot be read or does not match the run (names the file)."""


class SeedError(FatalError):
    """A malformed product seed file or an unknown venue/product (names the file or the product)."""
