"""Sub-commands of `schemahub` contributed by the sandbox package: `schemahub sandbox`.

    schemahub sandbox --port 8765 --seed 7 --hours 3            # serve 3 h of SIMULATED history ending now
    schemahub sandbox --live --hours 1                          # ... and keep revealing new trades in real time
    schemahub sandbox --fault-rate 0.1 --fault-kinds 5xx,repeat # inject faults
    schemahub sandbox --record recordings/ --hours 0.25         # write websocket recordings and exit
    schemahub sandbox --bronze --hours 1                        # write the market straight into bronze and exit
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys

BANNER_RULE = "=" * 78


def _utc(text: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r} (e.g. 2026-01-02T03:00:00Z)") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's sub-commands to the `schemahub` parser."""
    p = sub.add_parser("sandbox", help="run the sandbox exchange (SIMULATED Binance/Coinbase/Kraken on 127.0.0.1)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port; default 8765)")
    p.add_argument("--seed", type=int, default=7, help="market seed (same seed + window = same bytes)")
    p.add_argument("--start", type=_utc, help="window start (UTC ISO-8601); default: --hours before --end")
    p.add_argument("--end", type=_utc, help="window end (UTC ISO-8601); default: now")
    p.add_argument("--hours", type=float, default=3.0, help="window length when --start is not given (default 3)")
    p.add_argument("--live", action="store_true",
                   help="reveal only trades with event time <= wall-clock now; the market runs --live-hours ahead")
    p.add_argument("--live-hours", type=float, default=6.0, help="with --live: how far past now the market runs")
    p.add_argument("--symbols", default="BTC,ETH", help="assets to simulate (default BTC,ETH)")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability that a request gets a fault")
    p.add_argument("--fault-seed", type=int, default=1)
    p.add_argument("--fault-kinds", default="5xx,html,stall,truncated,repeat,overlap",
                   help="comma list among 5xx,html,stall,truncated,repeat,overlap")
    p.add_argument("--stall-seconds", type=float, default=12.0, help="how long a `stall` fault sleeps")
    p.add_argument("--no-limits", action="store_true", help="do not enforce the venues' rate limits")
    p.add_argument("--limit-scale", type=float, default=1.0, help="multiply every rate-limit allowance")
    p.add_argument("--record", metavar="DIR",
                   help="write venue-native websocket recordings of the window into DIR and exit")
    p.add_argument("--gap-rate", type=float, default=0.0, help="with --record: drop this share of book messages")
    p.add_argument("--bronze", action="store_true", help="write the window straight into bronze (LAKE_ROOT) and exit")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):  # -> SandboxConfig (import kept inside: heavy)
    from sandbox.faults import FAULT_KINDS
    from sandbox.server import SandboxConfig
    from sandbox.specs import ASSETS
    from schemahub.cli import SchemaHubError

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip())
    bad = [s for s in symbols if s not in ASSETS]
    if bad or not symbols:
        raise SchemaHubError(f"sandbox: unknown asset(s) {bad or args.symbols!r}; known: {', '.join(ASSETS)}")
    kinds = tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in FAULT_KINDS]
    if bad:
        raise SchemaHubError(f"sandbox: unknown fault kind(s) {bad}; known: {', '.join(FAULT_KINDS)}")
    if not 0.0 <= args.fault_rate <= 1.0:
        raise SchemaHubError(f"sandbox: --fault-rate must be within [0, 1], got {args.fault_rate}")
    if args.live:
        start = args.start or now - dt.timedelta(hours=args.hours)
        end = args.end or now + dt.timedelta(hours=args.live_hours)
    else:
        end = args.end or now
        start = args.start or end - dt.timedelta(hours=args.hours)
    if end <= start:
        raise SchemaHubError(f"sandbox: empty window {start.isoformat()} .. {end.isoformat()}")
    return SandboxConfig(seed=args.seed, start=start, end=end, symbols=symbols, fault_rate=args.fault_rate,
                         fault_seed=args.fault_seed, fault_kinds=kinds, stall_seconds=args.stall_seconds,
                         enforce_limits=not args.no_limits, limit_scale=args.limit_scale, live=args.live)


def banner(lines: list[str]) -> str:
    head = [BANNER_RULE, " SchemaHub SANDBOX EXCHANGE  --  SIMULATED DATA, NOT A REAL MARKET", BANNER_RULE]
    return "\n".join([*head, *(" " + x for x in lines), BANNER_RULE])


def run(args: argparse.Namespace) -> int:
    from schemahub.cli import SchemaHubError

    cfg = build_config(args)
    window = f"seed {cfg.seed}, window {cfg.start:%Y-%m-%d %H:%M:%S} .. {cfg.end:%Y-%m-%d %H:%M:%S} UTC, " \
             f"assets {','.join(cfg.symbols)}"
    if args.record:
        from sandbox.market import Market
        from sandbox.recordings import write_recordings

        print(banner([window, f"writing websocket recordings to {args.record}"]), file=sys.stderr)
        files = write_recordings(Market(cfg.seed, cfg.start, cfg.end, cfg.symbols), args.record,
                                 gap_rate=args.gap_rate, gap_seed=cfg.fault_seed, progress=True)
        for f in files:
            print(f)
        return 0
    if args.bronze:
        from sandbox.bronze import write_bronze
        from sandbox.market import Market

        print(banner([window, "writing SIMULATED records straight into bronze"]), file=sys.stderr)
        written = write_bronze(Market(cfg.seed, cfg.start, cfg.end, cfg.symbols), progress=True)
        print(f"{len(written)} bronze file(s) written")
        return 0

    from sandbox.server import SandboxServer

    try:
        server = SandboxServer(cfg, port=args.port)
    except OSError as exc:
        raise SchemaHubError(f"sandbox: cannot listen on 127.0.0.1:{args.port}: {exc}") from exc
    url = server.url
    lines = [
        window,
        f"live: {'yes (trades appear as wall-clock time passes)' if cfg.live else 'no (whole window visible)'}",
        f"rate limits: {'enforced x' + str(cfg.limit_scale) if cfg.enforce_limits else 'off'}; "
        f"faults: rate {cfg.fault_rate} kinds {','.join(cfg.fault_kinds)} seed {cfg.fault_seed}",
        f"Binance   {url}/binance/api/v3/historicalTrades?symbol=BTCUSDT&limit=1000",
        f"Coinbase  {url}/coinbase/products/BTC-USD/trades",
        f"Kraken    {url}/kraken/0/public/Trades?pair=XBTUSD&since=0",
        f"use it:   export SCHEMAHUB_EXCHANGE=sandbox SCHEMAHUB_SANDBOX_URL={url}",
        "Ctrl-C to stop.",
    ]
    print(banner(lines), file=sys.stderr, flush=True)

    def _stop(signum: int, frame: object) -> None:  # SIGTERM (e.g. from `make demo`) stops like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("sandbox stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0
