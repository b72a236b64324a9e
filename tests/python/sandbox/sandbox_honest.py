"""A tiny honest client for the sandbox tests (deliberately NOT the ingest package): retries every transient
failure, dedupes on the trade id, treats a page without new ids as "retry" and only an EMPTY page as the end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Walk:
    ids: list[int] = field(default_factory=list)  # in the order first seen
    requests: int = 0
    retries: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def note(self, what: str) -> None:
        self.problems[what] = self.problems.get(what, 0) + 1
        self.retries += 1


def get_json(client: httpx.Client, url: str, params: dict[str, Any], walk: Walk,
             ok: Callable[[Any], bool] = lambda body: True, max_attempts: int = 60) -> tuple[Any, httpx.Response]:
    for _ in range(max_attempts):
        walk.requests += 1
        try:
            r = client.get(url, params=params)
        except httpx.TimeoutException:
            walk.note("timeout")
            continue
        if r.status_code >= 500 or r.status_code in (418, 429):
            walk.note(f"http {r.status_code}")
            time.sleep(min(float(r.headers.get("Retry-After", "0")), 0.05))
            continue
        try:
            body = json.loads(r.content)
        except ValueError:
            walk.note("bad json")
            continue
        if not ok(body):
            walk.note("venue error")
            continue
        return body, r
    raise AssertionError(f"gave up on {url} {params} after {max_attempts} attempts: {walk.problems}")


def walk_binance(client: httpx.Client, base: str, symbol: str, first_id: int, limit: int = 1000) -> Walk:
    walk, seen, from_id = Walk(), set(), first_id
    while True:
        page, _ = get_json(client, f"{base}/api/v3/historicalTrades",
                           {"symbol": symbol, "fromId": from_id, "limit": limit}, walk, lambda b: isinstance(b, list))
        if not page:
            return walk
        new = [t["id"] for t in page if t["id"] not in seen]
        if not new:
            walk.note("no progress")
            continue
        walk.ids += new
        seen.update(new)
        from_id = max(t["id"] for t in page) + 1


def walk_binance_agg(client: httpx.Client, base: str, symbol: str, start_ms: int) -> tuple[Walk, list[dict]]:
    walk, seen, rows = Walk(), set(), []
    params: dict[str, Any] = {"symbol": symbol, "startTime": start_ms, "limit": 1000}
    while True:
        page, _ = get_json(client, f"{base}/api/v3/aggTrades", params, walk, lambda b: isinstance(b, list))
        if not page:
            return walk, rows
        new = [a for a in page if a["a"] not in seen]
        if not new:
            walk.note("no progress")
            continue
        rows += new
        seen.update(a["a"] for a in new)
        params = {"symbol": symbol, "fromId": max(a["a"] for a in page) + 1, "limit": 1000}


def walk_coinbase(client: httpx.Client, base: str, product: str, limit: int = 1000) -> Walk:
    walk, seen = Walk(), set()
    params: dict[str, Any] = {"limit": limit}
    while True:
        page, r = get_json(client, f"{base}/products/{product}/trades", params, walk, lambda b: isinstance(b, list))
        if not page:
            return walk
        new = [t["trade_id"] for t in page if t["trade_id"] not in seen]
        if not new:
            walk.note("no progress")
        walk.ids += new
        seen.update(new)
        params = {"limit": limit, "after": r.headers["cb-after"]}


def walk_kraken(client: httpx.Client, base: str, pair: str, since: str = "0") -> Walk:
    walk, seen = Walk(), set()
    while True:
        body, _ = get_json(client, f"{base}/0/public/Trades", {"pair": pair, "since": since}, walk,
                           lambda b: isinstance(b, dict) and not b.get("error"))
        result = body["result"]
        (key,) = [k for k in result if k != "last"]
        rows = result[key]
        if not rows:
            return walk
        new = [r[6] for r in rows if r[6] not in seen]
        if not new:
            walk.note("no progress")
        walk.ids += new
        seen.update(new)
        since = result["last"]
