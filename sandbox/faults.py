"""Faults on demand, deterministic given the fault seed and the order of requests.

Request number n (counted over all venues, from 1) gets a fault when `u(seed, n) < rate`; its kind is drawn
(again from the seed and n) among the configured kinds that APPLY to that request. An honest client never loses a
trade to any of them:

- `5xx`: HTTP 502, 503 or 504. Binance 503 carries `{"code":-1008,...}`; 502/504 a short text/html gateway page;
  Coinbase `{"message": ...}`; Kraken either HTTP 503 or HTTP 200 with `{"error":["EService:Unavailable"]}`
  (as Kraken does). Retry the same request.
- `html`: HTTP 520 with a Cloudflare-like text/html page (not JSON). Retry.
- `stall`: the server sleeps `stall_seconds` (default 12, past a 10 s client timeout) and then answers normally.
  Time out and retry.
- `truncated`: HTTP 200 whose JSON body is cut short (Content-Length matches the cut body). Parse error => retry.
- `repeat` (trade pages with a trade-id / ns cursor: Binance historicalTrades/aggTrades `fromId`, Coinbase
  `after`/`before`, Kraken `since`): instead of the page after the cursor, the page just BEFORE it is served again
  (for Binance the `limit` trades ending at fromId-1; for Coinbase `after=X` the `limit` trades from X upwards, with
  cb-after = X; for Kraken the `count` trades up to `since`, with `last` = `since`): the page an honest walker
  received last. Detectable: a non-empty page with no new trade id. Continuing from the page's own cursor repeats
  the current request, so nothing is skipped; never treat it as the end (only an EMPTY page is the end). It is
  stateless (computed from the request alone), so parallel clients cannot receive each other's pages.
- `overlap` (trade pages with a cursor: Binance fromId/startTime, Coinbase after/before, Kraken since): the page
  starts `overlap_trades` trades before the cursor (older for Binance/Kraken, newer for Coinbase `after`). Dedupe on
  the trade id; the cursor still advances, nothing is skipped.
`SandboxServer.inject(kind, venue=None, count=1)` forces the next matching requests to fail that way (tests).
"""

from __future__ import annotations

FAULT_KINDS = ("5xx", "html", "stall", "truncated", "repeat", "overlap")
PAGE_ONLY = ("repeat", "overlap")


def _mix(*parts: int) -> int:
    """splitmix64 over integers: a small deterministic hash (no numpy needed per request)."""
    h = 0
    for p in parts:
        z = (h ^ (p & 0xFFFFFFFFFFFFFFFF)) + 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        h = z ^ (z >> 31)
    return h


def unit(*parts: int) -> float:
    return (_mix(*parts) >> 11) / float(1 << 53)


class FaultPlan:
    def __init__(self, rate: float, seed: int, kinds: tuple[str, ...] = FAULT_KINDS) -> None:
        bad = [k for k in kinds if k not in FAULT_KINDS]
        if bad:
            raise ValueError(f"unknown fault kind(s) {bad}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        self.rate, self.seed, self.kinds = rate, seed, tuple(kinds)

    def draw(self, n: int, applicable: set[str]) -> str | None:
        if self.rate <= 0 or unit(self.seed, n, 1) >= self.rate:
            return None
        options = [k for k in self.kinds if k in applicable]
        if not options:
            return None
        return options[int(unit(self.seed, n, 2) * len(options))]

    def status_5xx(self, n: int) -> int:
        return (502, 503, 504)[int(unit(self.seed, n, 3) * 3)]

    def coin(self, n: int) -> bool:
        return unit(self.seed, n, 4) < 0.5
