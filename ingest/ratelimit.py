"""Per-venue rate limiting, shared by every connector through the one HTTP client.

Each venue gets one `RateLimiter` (the scope the venue meters: per IP). It combines
- a token bucket for request rate (Coinbase under 10 req/s, Kraken about 1 req/s, Binance raw requests),
- for Binance, a weight budget per minute kept below `weight_fraction` of 6000 and corrected from the
  `X-MBX-USED-WEIGHT-1M` header the venue returns (the server's count is the truth, ours the estimate),
- a halt (`halt(seconds)`): after a Binance 418 ban or a 429 with Retry-After, every call of that venue waits.

The clock and sleep are injectable so tests run instantly. Written here rather than taken from a library
because none we ship combines a token bucket with a server-reported weight counter and a venue-wide halt.
`SCHEMAHUB_RATE_SCALE` (float, default 1) multiplies every rate and budget: tests against a sandbox that
does not enforce limits use it to run fast; never raise it against a real exchange.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class VenueLimits:
    """Declared limits of one venue's public REST API (see docs/exchange-apis.md §0 and §5)."""

    venue: str
    requests_per_second: float
    burst: float
    weight_per_minute: int | None = None  # Binance REQUEST_WEIGHT (6000/min per IP)
    # stay below this share of the weight limit: 95 % leaves 300 weight/min for the odd exchangeInfo or depth call
    # of another job; the server's own count (header) corrects our estimate after every answer
    weight_fraction: float = 0.95
    throttle_backoff_s: float = 0.0  # least wait after a throttle answer without Retry-After (Kraken: seconds)

    @property
    def weight_budget(self) -> int | None:
        return None if self.weight_per_minute is None else int(self.weight_per_minute * self.weight_fraction)


DEFAULT_LIMITS: dict[str, VenueLimits] = {
    # Binance: the weight budget is the real limit; 61000 raw requests / 5 min is far away at 50 req/s.
    "binance": VenueLimits("binance", requests_per_second=50.0, burst=50.0, weight_per_minute=6000),
    # Coinbase Exchange public: 10 req/s per IP, bursts to 15 -> 9.5 req/s sustained, bursts of 5 (a third of the
    # venue's burst: requests that bunch up on the network still land inside its bucket).
    "coinbase": VenueLimits("coinbase", requests_per_second=9.5, burst=5.0),
    # Kraken public: about 1 req/s per IP; a throttle answer blocks for "a few seconds".
    "kraken": VenueLimits("kraken", requests_per_second=1.0, burst=1.0, throttle_backoff_s=5.0),
}


def rate_scale() -> float:
    raw = os.environ.get("SCHEMAHUB_RATE_SCALE", "1")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"SCHEMAHUB_RATE_SCALE must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"SCHEMAHUB_RATE_SCALE must be > 0, got {raw!r}")
    return value


def limits_for(venue: str, scale: float | None = None) -> VenueLimits:
    """The limits of a venue, scaled by `SCHEMAHUB_RATE_SCALE` (or `scale`)."""
    base = DEFAULT_LIMITS.get(venue)
    if base is None:
        raise ValueError(f"no rate limits declared for venue {venue!r}")
    k = rate_scale() if scale is None else scale
    if k == 1:
        return base
    return replace(
        base,
        requests_per_second=base.requests_per_second * k,
        burst=max(1.0, base.burst * k),
        weight_per_minute=None if base.weight_per_minute is None else int(base.weight_per_minute * k),
        throttle_backoff_s=base.throttle_backoff_s / k,
    )


class RateLimiter:
    """Thread-safe limiter of one venue: token bucket + optional weight budget + venue-wide halt."""

    WINDOW_S = 60.0

    def __init__(self, limits: VenueLimits, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens = limits.burst
        self._stamp = clock()
        self._halt_until = 0.0
        self._window_start = clock()
        self._used = 0  # weight used in the current minute window (estimate, corrected by headers)
        self.waited_s = 0.0  # total time callers spent waiting here (for reports and tests)

    # -- state changes from responses ----------------------------------------------------------
    def halt(self, seconds: float) -> None:
        """Block every call of this venue for `seconds` (Binance 418 ban, 429 Retry-After)."""
        with self._lock:
            self._halt_until = max(self._halt_until, self._clock() + max(0.0, seconds))

    def observe_used_weight(self, used: int) -> None:
        """Adopt the server's `X-MBX-USED-WEIGHT-1M`; a drop means the server's minute rolled over."""
        with self._lock:
            if used < self._used:
                self._window_start = self._clock()
            self._used = used

    @property
    def used_weight(self) -> int:
        return self._used

    @property
    def halted_for(self) -> float:
        return max(0.0, self._halt_until - self._clock())

    # -- acquiring -----------------------------------------------------------------------------
    def _wait_needed(self, weight: int, now: float) -> float:
        """Seconds to wait before a request of `weight` may go (0 = may go now). Caller holds the lock."""
        waits = [self._halt_until - now]
        # token bucket refill
        self._tokens = min(self.limits.burst, self._tokens + (now - self._stamp) * self.limits.requests_per_second)
        self._stamp = now
        # (the tolerance: after sleeping exactly the computed wait, float rounding can leave 0.999999...; without
        # it the next wait is so small that `now + wait == now` and a fake clock would spin forever)
        if self._tokens < 1.0 - 1e-9:
            waits.append((1.0 - self._tokens) / self.limits.requests_per_second)
        budget = self.limits.weight_budget
        if budget is not None:
            if now - self._window_start >= self.WINDOW_S:
                self._window_start, self._used = now, 0
            if self._used + weight > budget:
                waits.append(self._window_start + self.WINDOW_S - now)
        return max(waits)

    def acquire(self, weight: int = 1) -> float:
        """Block until a request of `weight` may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(weight, now)
                if wait <= 0:
                    self._tokens -= 1.0
                    if self.limits.weight_budget is not None:
                        self._used += weight
                    self.waited_s += waited
                    return waited
            self._sleep(wait)
            waited += wait
