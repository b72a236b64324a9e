"""Each venue's public rate limits, as the sandbox enforces them (thread-safe, injectable clock).

- Binance: request WEIGHT per fixed window (default 6000 per 60 s, like the real per-minute counter reported in
  `X-MBX-USED-WEIGHT-1M`). Going over => 429 `{"code":-1003,...}` with `Retry-After` = seconds to the window's
  end. Requests that keep coming during that back-off (more than `grace` of them) => 418 IP ban with
  `Retry-After` = ban seconds; every request during the ban gets 418 with the remaining seconds.
- Coinbase: token bucket, 10 requests/s with bursts to 15 => 429 `{"message": "Public rate limit exceeded"}`.
- Kraken: token bucket ~1 request/s with a small burst, per IP and additionally per pair for Trades/OHLC;
  refusals consume tokens too (keep calling => stay blocked longer) => HTTP 200
  `{"error":["EGeneral:Too many requests"]}`.
`scale` multiplies every allowance (use e.g. 100 in fast tests); window and ban lengths are separate settings.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BinanceVerdict:
    status: int  # 200 = go ahead, 429 or 418
    used: int
    retry_after: int = 0
    banned_until_ms: int = 0


class BinanceWeights:
    def __init__(self, limit: int = 6000, window_s: float = 60.0, ban_s: float = 120.0, grace: int = 5,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window_s, self.ban_s, self.grace = limit, window_s, ban_s, grace
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._used = 0
        self._backoff_until = 0.0
        self._ignored = 0
        self._banned_until = 0.0

    def used(self) -> int:
        with self._lock:
            self._roll(self.clock())
            return self._used

    def _roll(self, now: float) -> None:
        w = int(now // self.window_s)
        if w != self._window:
            self._window, self._used = w, 0

    def admit(self, weight: int) -> BinanceVerdict:
        with self._lock:
            now = self.clock()
            self._roll(now)
            if now < self._banned_until:
                return BinanceVerdict(418, self._used, math.ceil(self._banned_until - now),
                                      int(self._banned_until * 1000))
            self._used += weight
            if now < self._backoff_until:
                self._ignored += 1
                if self._ignored > self.grace:
                    self._banned_until = now + self.ban_s
                    return BinanceVerdict(418, self._used, math.ceil(self.ban_s), int(self._banned_until * 1000))
                return BinanceVerdict(429, self._used, max(1, math.ceil(self._backoff_until - now)))
            if self._used > self.limit:
                self._backoff_until = (self._window + 1) * self.window_s
                self._ignored = 0
                return BinanceVerdict(429, self._used, max(1, math.ceil(self._backoff_until - now)))
            return BinanceVerdict(200, self._used)


class TokenBucket:
    """Lazy-fill token bucket. `take()` is False when empty; with `debit_refusals` a refused call still costs a
    token (down to -burst), so hammering keeps the caller blocked longer."""

    def __init__(self, rate: float, burst: float, debit_refusals: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.debit_refusals, self.clock = rate, burst, debit_refusals, clock
        self._tokens = burst
        self._t = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._t) * self.rate)
            self._t = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            if self.debit_refusals:
                self._tokens = max(-self.burst, self._tokens - 1)
            return False
