"""The sandbox exchange HTTP server: a werkzeug WSGI app on 127.0.0.1 serving SIMULATED data in the REST dialects
of Binance (/binance/api/v3/...), Coinbase Exchange (/coinbase/products/...) and Kraken (/kraken/0/public/...),
plus the Binance dump site (/binance-data/data/spot/..., see sandbox/venues/binance_dumps.py).

    from sandbox.server import SandboxConfig, SandboxServer
    with SandboxServer(SandboxConfig(seed=7, start=..., end=...), port=0) as sb:
        sb.base_url("binance")                 # http://127.0.0.1:PORT/binance
        sb.market.trades("binance", "BTCUSDT") # ground truth

Per request: the venue's rate limit is checked first (when `enforce_limits`), then a fault may be drawn (see
sandbox/faults.py), then the venue answers. Every response carries `X-SchemaHub-Sandbox: simulated`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.faults import FAULT_KINDS, FaultPlan
from sandbox.limits import BinanceWeights, TokenBucket
from sandbox.market import Market
from sandbox.specs import ASSETS
from sandbox.venues.binance import WEIGHT_LIMIT, Binance
from sandbox.venues.binance import error_reply as binance_error
from sandbox.venues.binance_dumps import BinanceDumps
from sandbox.venues.coinbase import Coinbase
from sandbox.venues.common import SIM_HEADER, Ctx, Reply
from sandbox.venues.kraken import Kraken

log = logging.getLogger(__name__)

CONTENT_TYPES = {"binance": "application/json;charset=UTF-8", "coinbase": "application/json; charset=utf-8",
                 "kraken": "application/json; charset=utf-8"}
CLOUDFLARE_520 = """<!DOCTYPE html>
<html lang="en-US"><head><title>{host} | 520: Web server is returning an unknown error</title></head>
<body><div id="cf-wrapper"><h1>Web server is returning an unknown error</h1><span>Error code 520</span>
<p>Visit cloudflare.com for more information.</p><p>SchemaHub sandbox: SIMULATED fault.</p>
<span>Cloudflare Ray ID: {ray}</span></div></body></html>
"""
GATEWAY_HTML = "<html><head><title>{code} {text}</title></head><body><center><h1>{code} {text}</h1></center>" \
               "<hr><center>nginx</center></body></html>\n"


@dataclass(frozen=True)
class SandboxConfig:
    """What the sandbox simulates and how strict it is. `start`/`end` default to the `hours` before now."""

    seed: int = 7
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    hours: float = 3.0
    symbols: tuple[str, ...] = ASSETS  # assets: BTC, ETH
    fault_rate: float = 0.0
    fault_seed: int = 1
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    stall_seconds: float = 12.0
    overlap_trades: int = 5
    enforce_limits: bool = True
    limit_scale: float = 1.0  # multiplies every rate-limit allowance
    binance_window_s: float = 60.0  # the "1M" weight window
    binance_ban_s: float = 120.0
    live: bool = False

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        end = self.end or dt.datetime.now(dt.UTC).replace(microsecond=0)
        start = self.start or end - dt.timedelta(hours=self.hours)
        return start, end


@dataclass
class FaultEvent:
    n: int
    venue: str
    path: str
    kind: str


@dataclass
class _Forced:
    kind: str
    venue: str | None
    count: int


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no per-request lines on stderr
        pass


@dataclass
class SandboxApp:
    """The WSGI application (usable without a socket through werkzeug's test Client)."""

    config: SandboxConfig
    market: Market = field(init=False)

    def __post_init__(self) -> None:
        start, end = self.config.window()
        self.market = Market(self.config.seed, start, end, tuple(self.config.symbols))
        self.venues = {"binance": Binance(), "coinbase": Coinbase(), "kraken": Kraken(), "binance-data": BinanceDumps()}
        self.faults = FaultPlan(self.config.fault_rate, self.config.fault_seed, tuple(self.config.fault_kinds))
        scale = self.config.limit_scale
        self.binance_weights = BinanceWeights(round(WEIGHT_LIMIT * scale), self.config.binance_window_s,
                                              self.config.binance_ban_s)
        self.coinbase_bucket = TokenBucket(10.0 * scale, 15.0 * scale)
        self.kraken_bucket = TokenBucket(1.0 * scale, 3.0 * scale, debit_refusals=True)
        self.kraken_pair_buckets: dict[str, TokenBucket] = {}
        self.fault_log: list[FaultEvent] = []
        self._forced: list[_Forced] = []
        self._n = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ controls
    def inject(self, kind: str, venue: str | None = None, count: int = 1) -> None:
        """Force the next `count` applicable requests (of `venue`, or any) to fail with `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._forced.append(_Forced(kind, venue, count))

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            reply, venue = self.dispatch(request)
        except Exception as exc:  # a sandbox bug must show up as a clear 500, not a dropped connection
            log.exception("sandbox: internal error on %s", request.full_path)
            reply, venue = Reply.json({"message": f"SchemaHub sandbox internal error on {request.path}: "
                                                  f"{type(exc).__name__}: {exc}"}, 500), ""
        resp = Response(reply.body, status=reply.status,
                        content_type=reply.content_type if reply.content_type != "application/json"
                        else CONTENT_TYPES.get(venue, "application/json"))
        for k, v in [*reply.headers, SIM_HEADER]:
            resp.headers[k] = v
        return resp(environ, start_response)

    def dispatch(self, request: Request) -> tuple[Reply, str]:
        parts = request.path.split("/", 2)
        venue = parts[1] if len(parts) > 1 else ""
        sub = "/" + (parts[2] if len(parts) > 2 else "")
        if venue not in self.venues:
            return Reply.json({"message": f"SchemaHub sandbox: unknown venue prefix {venue!r}; use /binance, "
                                          "/coinbase, /kraken or /binance-data"}, 404), venue
        handler = self.venues[venue]
        args = request.args
        with self._lock:
            self._n += 1
            n = self._n
        extra_headers: list[tuple[str, str]] = []
        if self.config.enforce_limits:
            throttled = self._throttle(venue, sub, args, extra_headers)
            if throttled is not None:
                return throttled, venue
        elif venue == "binance":
            extra_headers.append(("X-MBX-USED-WEIGHT-1M", "0"))
        page = handler.page_info(sub, args)
        applicable = {"5xx", "html", "stall", "truncated"}
        if page is not None:
            if page.has_cursor:
                applicable.add("overlap")
            if page.repeatable:
                applicable.add("repeat")
        kind = self._forced_kind(venue, applicable) or self.faults.draw(n, applicable)
        if kind in ("5xx", "html"):
            self._log_fault(n, venue, sub, kind)
            return self._error_fault(kind, venue, n, request.host, extra_headers), venue
        ctx = Ctx(self.market, args, time.time_ns(), self.config.live,
                  overlap=self.config.overlap_trades if kind == "overlap" else 0, repeat=kind == "repeat")
        reply = handler.handle(sub, ctx)
        reply.headers.extend(extra_headers)
        if ctx.fault_unused:
            kind = None  # the handler could not apply it (e.g. nothing before the cursor): a normal answer
        if kind:
            self._log_fault(n, venue, sub, kind)
        if kind == "stall":
            time.sleep(self.config.stall_seconds)
        if kind == "truncated":
            cut = max(1, len(reply.body) // 2) if len(reply.body) > 1 else 0
            reply = replace(reply, body=reply.body[:cut])
        return reply, venue

    def _log_fault(self, n: int, venue: str, sub: str, kind: str) -> None:
        with self._lock:
            self.fault_log.append(FaultEvent(n, venue, sub, kind))
        log.info("sandbox fault #%d %s %s: %s", n, venue, sub, kind)

    def _forced_kind(self, venue: str, applicable: set[str]) -> str | None:
        with self._lock:
            for f in self._forced:
                if f.count > 0 and (f.venue in (None, venue)) and f.kind in applicable:
                    f.count -= 1
                    kind = f.kind
                    self._forced = [x for x in self._forced if x.count > 0]
                    return kind
        return None

    def _throttle(self, venue: str, sub: str, args: Any, headers: list[tuple[str, str]]) -> Reply | None:
        if venue == "binance-data":  # the dump site is a CDN: no request limits
            return None
        if venue == "binance":
            verdict = self.binance_weights.admit(self.venues["binance"].weight(sub, args))
            headers.append(("X-MBX-USED-WEIGHT-1M", str(verdict.used)))
            if verdict.status == 429:
                return binance_error(-1003, f"Too much request weight used; current limit is "
                                            f"{self.binance_weights.limit} request weight per 1 MINUTE. Please use "
                                            "WebSocket Streams for live updates to avoid polling the API.", 429,
                                     [*headers, ("Retry-After", str(verdict.retry_after))])
            if verdict.status == 418:
                return binance_error(-1003, f"Way too much request weight used; IP banned until "
                                            f"{verdict.banned_until_ms}. Please use WebSocket Streams for live "
                                            "updates to avoid bans.", 418,
                                     [*headers, ("Retry-After", str(verdict.retry_after))])
            return None
        if venue == "coinbase":
            if not self.coinbase_bucket.take():
                return Reply.json({"message": "Public rate limit exceeded"}, 429)
            return None
        kraken: Kraken = self.venues["kraken"]  # type: ignore[assignment]
        ok = self.kraken_bucket.take()
        pair = kraken.pair_key(sub, args)
        if ok and pair is not None:
            with self._lock:
                bucket = self.kraken_pair_buckets.setdefault(
                    pair, TokenBucket(1.0 * self.config.limit_scale, 2.0 * self.config.limit_scale, True))
            ok = bucket.take()
        if not ok:
            return Reply.json({"error": ["EGeneral:Too many requests"]})
        return None

    def _error_fault(self, kind: str, venue: str, n: int, host: str, headers: list[tuple[str, str]]) -> Reply:
        if kind == "html":
            body = CLOUDFLARE_520.format(host=host, ray=f"{n:016x}-SIM")
            return Reply(520, body.encode(), list(headers), "text/html; charset=UTF-8")
        status = self.faults.status_5xx(n)
        text = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}[status]
        if venue == "binance" and status == 503:
            return Reply.json({"code": -1008, "msg": "Server is currently overloaded with other requests. Please "
                                                     "try again in a few minutes."}, 503, headers)
        if venue == "coinbase" and status == 503:
            return Reply.json({"message": "Service Unavailable"}, 503, headers)
        if venue == "kraken" and status == 503:
            return Reply.json({"error": ["EService:Unavailable"]}, 200 if self.faults.coin(n) else 503, headers)
        return Reply(status, GATEWAY_HTML.format(code=status, text=text).encode(), list(headers),
                     "text/html; charset=UTF-8")


class SandboxServer:
    """Runs a SandboxApp on 127.0.0.1 in a background thread (threaded: stalls don't block other clients)."""

    def __init__(self, config: SandboxConfig | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the sandbox only listens on 127.0.0.1, not {host!r}")
        self.config = config or SandboxConfig()
        self.app = SandboxApp(self.config)
        self._server = make_server("127.0.0.1", port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def market(self) -> Market:
        return self.app.market

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, venue: str) -> str:
        if venue not in self.app.venues:
            raise ValueError(f"unknown venue {venue!r}; known: {', '.join(self.app.venues)}")
        return f"{self.url}/{venue}"

    def inject(self, kind: str, venue: str | None = None, count: int = 1) -> None:
        self.app.inject(kind, venue, count)

    @property
    def fault_log(self) -> list[FaultEvent]:
        return self.app.fault_log

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=f"sandbox:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
