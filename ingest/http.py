"""The one HTTP client every connector uses: httpx + per-venue rate limits + retries with full jitter.

`HttpClient.get(venue, path, params, symbol=..., cursor=..., weight=...)` sends an idempotent GET to the
venue's base URL (`schemahub.config.venue_base_url`, so the sandbox is one setting away) and returns a
`Reply` with the JSON body parsed with `parse_float=Decimal` (Kraken times keep every digit), the receive
time and the headers. `classify()` is the one place that decides retry versus stop:

- transport errors, timeouts, 5xx, HTML / non-JSON / truncated bodies        -> RetriableError
- 429 (and Binance -1003)                                                    -> RateLimitedError (Retry-After)
- Binance 418                                                                -> BannedError, halts all Binance calls
- Kraken `error[]` inside HTTP 200: Too many requests / Rate limit exceeded  -> RateLimitedError (backs off)
  EService:Unavailable|Busy, EGeneral:Internal error                         -> RetriableError
  EQuery:*, EGeneral:Invalid arguments, anything else                        -> FatalError
- other 4xx (Binance -1121/-1100, Coinbase 400/404, 451, 403)                -> FatalError, at once

Retries use tenacity: bounded attempts, full-jitter exponential backoff (`uniform(0, min(cap, base*2^n))`)
unless the venue said how long to wait (Retry-After), in which case exactly that. When attempts run out the
last error becomes `RetriesExhaustedError` (fatal), naming venue, endpoint, symbol and cursor.

Settings (environment, all optional): SCHEMAHUB_HTTP_TIMEOUT (s, default 10), SCHEMAHUB_HTTP_ATTEMPTS
(default 6), SCHEMAHUB_HTTP_BACKOFF_BASE (s, default 0.5), SCHEMAHUB_HTTP_BACKOFF_CAP (s, default 30).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import tenacity

from ingest.errors import (
    BannedError,
    FatalError,
    IngestError,
    RateLimitedError,
    RetriableError,
    RetriesExhaustedError,
)
from ingest.ratelimit import RateLimiter, VenueLimits, limits_for
from schemahub import config

log = logging.getLogger(__name__)

USER_AGENT = "schemahub/0.1 (local-first market-data lakehouse; public market data only)"

KRAKEN_THROTTLE = ("EGeneral:Too many requests", "EAPI:Rate limit exceeded", "EGeneral:Temporary lockout")
KRAKEN_TRANSIENT = ("EService:Unavailable", "EService:Busy", "EGeneral:Internal error")
BINANCE_RETRY_CODES = {-1003: "TOO_MANY_REQUESTS", -1008: "SERVER_BUSY", -1001: "DISCONNECTED",
                       -1007: "TIMEOUT"}


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Reply:
    """One successful response: parsed JSON (floats as Decimal), headers, URL and receive time (UTC)."""

    venue: str
    url: str
    status: int
    headers: httpx.Headers
    data: Any
    recv_ts: dt.datetime
    attempts: int = 1


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:  # HTTP-date form
            when = email_date(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def email_date(raw: str) -> dt.datetime:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(raw)


def _snippet(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."


def decode_json(text: str) -> Any:
    """JSON with decimal floats (Kraken's float-second times keep every digit)."""
    return json.loads(text, parse_float=Decimal)


def classify(venue: str, resp: httpx.Response, ctx: Mapping[str, Any]) -> Any:
    """Decide what a response means: return the parsed body, or raise Retriable/RateLimited/Banned/Fatal."""
    status = resp.status_code
    text = resp.text
    ra = _retry_after(resp)
    body: Any = None
    try:
        body = decode_json(text) if text.strip() else None
        parsed = True
    except ValueError:
        parsed = False
    kw = {**ctx, "status": status}
    if venue == "binance" and status == 418:
        raise BannedError(f"binance IP ban (418); halting every binance call: {_snippet(text)}",
                          retry_after=ra if ra is not None else 120.0, **kw)
    if status == 429:
        raise RateLimitedError(f"{venue} throttled the request (429): {_snippet(text)}", retry_after=ra, **kw)
    if status >= 500 or status == 408:
        raise RetriableError(f"{venue} server error {status}: {_snippet(text)}", retry_after=ra, **kw)
    if status >= 400:
        if venue == "binance" and isinstance(body, dict) and body.get("code") in BINANCE_RETRY_CODES:
            cls = RateLimitedError if body["code"] == -1003 else RetriableError
            raise cls(f"binance {BINANCE_RETRY_CODES[body['code']]} ({body['code']}): {body.get('msg')}",
                      retry_after=ra, **kw)
        if venue == "binance" and isinstance(body, dict) and "code" in body:
            raise FatalError(f"binance rejected the request: code {body['code']} {body.get('msg')!r}", **kw)
        if venue == "coinbase" and isinstance(body, dict) and "message" in body:
            raise FatalError(f"coinbase rejected the request: {body['message']!r}", **kw)
        raise FatalError(f"{venue} rejected the request with HTTP {status}: {_snippet(text)}", **kw)
    if not parsed:
        kind = "an HTML page" if text.lstrip()[:1] == "<" else "a non-JSON or truncated body"
        raise RetriableError(f"{venue} answered {kind}: {_snippet(text)}", **kw)
    if body is None:
        raise RetriableError(f"{venue} answered an empty body", **kw)
    if venue == "kraken":
        if not isinstance(body, dict) or "error" not in body:
            raise RetriableError(f"kraken answered without the error/result envelope: {_snippet(text)}", **kw)
        errors = [e for e in body.get("error") or [] if isinstance(e, str) and e.startswith("E")]
        if errors:
            joined = ", ".join(errors)
            if any(e.startswith(KRAKEN_THROTTLE) for e in errors):
                raise RateLimitedError(f"kraken throttled the request: {joined}", retry_after=ra, **kw)
            if any(e.startswith(KRAKEN_TRANSIENT) for e in errors):
                raise RetriableError(f"kraken service error: {joined}", retry_after=ra, **kw)
            raise FatalError(f"kraken rejected the request: {joined}", **kw)
        if "result" not in body:
            raise RetriableError(f"kraken answered without a result: {_snippet(text)}", **kw)
    return body


class _Wait(tenacity.wait.wait_base):
    """Retry-After when the venue gave one, else full jitter: uniform(0, min(cap, base * 2^(attempt-1)))."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetriableError) and exc.retry_after is not None:
            return float(exc.retry_after)
        n = retry_state.attempt_number
        ceiling = min(self.client.backoff_cap, self.client.backoff_base * 2 ** (n - 1))
        wait = self.client.rng.uniform(0, ceiling)
        if isinstance(exc, RateLimitedError):
            wait = max(wait, self.client.limits(exc.venue or "").throttle_backoff_s)
        return wait


class HttpClient:
    """Shared by all connectors (thread-safe). Use as a context manager or call `close()`."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None,
                 base_urls: Mapping[str, str] | None = None, timeout: float | None = None,
                 max_attempts: int | None = None, backoff_base: float | None = None,
                 backoff_cap: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 limits: Mapping[str, VenueLimits] | None = None, rng: random.Random | None = None,
                 user_agent: str = USER_AGENT) -> None:
        self.timeout = timeout if timeout is not None else _env_float("SCHEMAHUB_HTTP_TIMEOUT", 10.0)
        self.max_attempts = int(max_attempts if max_attempts is not None
                                else _env_float("SCHEMAHUB_HTTP_ATTEMPTS", 6))
        self.backoff_base = backoff_base if backoff_base is not None else _env_float(
            "SCHEMAHUB_HTTP_BACKOFF_BASE", 0.5)
        self.backoff_cap = backoff_cap if backoff_cap is not None else _env_float("SCHEMAHUB_HTTP_BACKOFF_CAP", 30.0)
        # a venue asking us to wait longer than this (a Binance ban escalates to days) stops the run instead
        self.max_wait = _env_float("SCHEMAHUB_HTTP_MAX_WAIT", 900.0)
        self.sleep, self.clock, self.wall_clock = sleep, clock, wall_clock
        self.rng = rng or random.Random()
        self._base_urls = dict(base_urls or {})
        self._limits = dict(limits or {})
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()
        self.stats = ClientStats()
        self._http = httpx.Client(transport=transport, timeout=self.timeout, follow_redirects=True,
                                  headers={"User-Agent": user_agent, "Accept": "application/json"})

    # -- plumbing ------------------------------------------------------------------------------
    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def base_url(self, venue: str) -> str:
        return self._base_urls.get(venue) or config.venue_base_url(venue)

    def limits(self, venue: str) -> VenueLimits:
        if venue not in self._limits:
            self._limits[venue] = limits_for(venue)
        return self._limits[venue]

    def limiter(self, venue: str) -> RateLimiter:
        with self._lock:
            if venue not in self._limiters:
                self._limiters[venue] = RateLimiter(self.limits(venue), clock=self.clock, sleep=self.sleep)
            return self._limiters[venue]

    # -- the one request path ------------------------------------------------------------------
    def _once(self, venue: str, url: str, params: Mapping[str, Any] | None, weight: int,
              ctx: dict[str, Any]) -> tuple[httpx.Response, Any, dt.datetime]:
        limiter = self.limiter(venue)
        if limiter.halted_for > self.max_wait:
            raise FatalError(f"{venue} calls are halted for {limiter.halted_for:.0f}s more (a ban or Retry-After "
                             f"longer than SCHEMAHUB_HTTP_MAX_WAIT={self.max_wait:.0f}s); run again later", **ctx)
        limiter.acquire(weight)
        with self._lock:
            self.stats.requests += 1
        try:
            resp = self._http.get(url, params=params)
            recv = self.wall_clock()
        except httpx.TimeoutException as exc:
            raise RetriableError(f"{venue} request timed out after {self.timeout}s: {type(exc).__name__}",
                                 **ctx) from exc
        except httpx.TransportError as exc:
            raise RetriableError(f"{venue} connection failed: {type(exc).__name__}: {exc}", **ctx) from exc
        with self._lock:
            self.stats.by_status[resp.status_code] = self.stats.by_status.get(resp.status_code, 0) + 1
        used = resp.headers.get("X-MBX-USED-WEIGHT-1M") if venue == "binance" else None
        if used is not None and used.strip().isdigit():
            limiter.observe_used_weight(int(used))
        try:
            body = classify(venue, resp, ctx)
        except RateLimitedError as exc:
            # Binance: a ban or a Retry-After applies to the whole IP, so every thread of this venue waits.
            if venue == "binance" and exc.retry_after is not None:
                limiter.halt(exc.retry_after)
            raise
        return resp, body, recv

    def get(self, venue: str, path: str, params: Mapping[str, Any] | None = None, *, symbol: str | None = None,
            cursor: Any = None, weight: int = 1) -> Reply:
        """GET `path` of `venue` with retries; returns the parsed reply or raises a FatalError."""
        url = self.base_url(venue) + path
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        ctx: dict[str, Any] = {"venue": venue, "endpoint": path, "symbol": symbol, "cursor": cursor}
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.max_attempts)),
            wait=_Wait(self),
            retry=tenacity.retry_if_exception(self._worth_waiting),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    resp, body, recv = self._once(venue, url, clean, weight, ctx)
                    n = attempt.retry_state.attempt_number
                    return Reply(venue, str(resp.url), resp.status_code, resp.headers, body, recv, n)
        except RetriableError as exc:
            if not self._worth_waiting(exc):
                raise RetriesExhaustedError(f"not waiting {exc.retry_after:.0f}s (> SCHEMAHUB_HTTP_MAX_WAIT="
                                            f"{self.max_wait:.0f}s): {exc.message}; run again later",
                                            venue=venue, endpoint=path, symbol=symbol, cursor=cursor,
                                            status=exc.status) from exc
            raise RetriesExhaustedError(f"gave up after {self.max_attempts} attempts: {exc.message}",
                                        venue=venue, endpoint=path, symbol=symbol, cursor=cursor,
                                        status=exc.status) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _worth_waiting(self, exc: BaseException) -> bool:
        if not isinstance(exc, RetriableError):
            return False
        return exc.retry_after is None or exc.retry_after <= self.max_wait

    def download(self, venue: str, url: str, dest: str | os.PathLike[str], *, symbol: str | None = None,
                 cursor: Any = None, weight: int = 1, chunk_size: int = 1 << 20) -> Reply:
        """GET a binary body (a Binance dump zip, its .CHECKSUM) into `dest`, streamed in chunks, with the
        same limiter, retries and error classification as `get` (a 404 is a FatalError with status 404).
        Each attempt rewrites `dest` from the start. `url` is absolute; `data` of the reply is the byte count."""
        ctx: dict[str, Any] = {"venue": venue, "endpoint": url, "symbol": symbol, "cursor": cursor}

        def once() -> Reply:
            self.limiter(venue).acquire(weight)
            with self._lock:
                self.stats.requests += 1
            try:
                with self._http.stream("GET", url, headers={"Accept": "*/*"}) as resp:
                    with self._lock:
                        self.stats.by_status[resp.status_code] = self.stats.by_status.get(resp.status_code, 0) + 1
                    if resp.status_code >= 300:
                        resp.read()
                        classify(venue, resp, ctx)  # raises for every error status
                    size = 0
                    with open(dest, "wb") as fh:
                        for chunk in resp.iter_bytes(chunk_size):
                            fh.write(chunk)
                            size += len(chunk)
                    expected = resp.headers.get("Content-Length")
                    if expected and expected.isdigit() and int(expected) != size:
                        raise RetriableError(f"{venue} download truncated: {size} of {expected} bytes", **ctx)
                    return Reply(venue, str(resp.url), resp.status_code, resp.headers, size, self.wall_clock())
            except httpx.TimeoutException as exc:
                raise RetriableError(f"{venue} download timed out after {self.timeout}s", **ctx) from exc
            except httpx.TransportError as exc:
                raise RetriableError(f"{venue} download failed: {type(exc).__name__}: {exc}", **ctx) from exc

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.max_attempts)), wait=_Wait(self),
            retry=tenacity.retry_if_exception(self._worth_waiting), sleep=self.sleep,
            before_sleep=self._log_retry, reraise=True)
        try:
            return retrying(once)
        except RetriableError as exc:
            raise RetriesExhaustedError(f"gave up after {self.max_attempts} attempts: {exc.message}",
                                        venue=venue, endpoint=url, symbol=symbol, cursor=cursor,
                                        status=exc.status) from exc

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        with self._lock:
            self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("retry %d in %.2fs: %s", state.attempt_number, wait, exc)


def is_retriable(exc: BaseException) -> bool:
    return isinstance(exc, RetriableError)


__all__ = ["USER_AGENT", "HttpClient", "IngestError", "Reply", "classify", "decode_json", "is_retriable"]

# httpx logs every request at INFO; our own retry warnings say what matters.
logging.getLogger("httpx").setLevel(logging.WARNING)
