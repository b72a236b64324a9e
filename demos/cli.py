"""Sub-commands of `schemahub` contributed by the demos package.

    schemahub replay --symbol BTC --at 2024-02-08T15:12:04Z --window 12s   (or --find-spikes)
    schemahub discrepancies [--threshold-bp 5] [--duration 60] [--from-lake]
    schemahub shell-init                                                    (DuckDB init SQL for `make shell`)
    schemahub demo                                                          (`make demo`: the whole pipeline)
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from schemahub.cli import SchemaHubError


def _duration(text: str) -> timedelta:
    from demos.timeutil import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(text: str):
    from demos.timeutil import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's sub-commands to the `schemahub` parser."""
    p = sub.add_parser("replay", help="tick-by-tick cross-venue volatility replay page (or --find-spikes)")
    p.add_argument("--symbol", default="BTC", help="base asset, e.g. BTC (default) or ETH")
    p.add_argument("--at", type=_time, help="centre of the replay, ISO-8601 UTC or epoch seconds")
    p.add_argument("--window", type=_duration, default=timedelta(seconds=12), help="replay length (default 12s)")
    p.add_argument("--find-spikes", action="store_true", help="list the biggest volatility events in gold")
    p.add_argument("--top", type=int, default=10, help="how many spikes to list (default 10)")
    p.add_argument("--replay-top", action="store_true", help="with --find-spikes: also replay the biggest one")
    p.add_argument("--leadlag-window", type=_duration, default=timedelta(minutes=10),
                   help="span of trades around --at used to measure lead-lag (default 10m)")
    p.add_argument("--frame-ms", type=int, default=100, help="animation step in ms (default 100)")
    p.add_argument("--out", help="HTML file to write (default reports/replay/<symbol>_<time>.html)")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("discrepancies", help="live cross-venue quote table; flags and records disagreements")
    p.add_argument("--symbol", default="BTC", help="base asset (default BTC)")
    p.add_argument("--venues", default="binance,coinbase,kraken", help="comma-separated venues")
    p.add_argument("--threshold-bp", type=float, default=5.0, help="flag |deviation from median| above this")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls (live; default 1)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds to run (live; default 60)")
    p.add_argument("--from-lake", action="store_true", help="run over historical silver orderbook_snapshots")
    p.add_argument("--since", type=_time, help="--from-lake: start time (default: first snapshot)")
    p.add_argument("--until", type=_time, help="--from-lake: end time (default: last snapshot)")
    p.add_argument("--step", type=_duration, default=timedelta(seconds=1), help="--from-lake: time step (1s)")
    p.add_argument("--speed", type=float, default=0.0,
                   help="--from-lake: replay at this multiple of real time (default 0: as fast as possible)")
    p.set_defaults(func=cmd_discrepancies)

    p = sub.add_parser("shell-init", help="print the DuckDB init SQL: local extensions, S3 secret, lake views")
    p.add_argument("--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_shell_init)

    p = sub.add_parser("demo", help="the whole pipeline on the sandbox exchange, end to end, with a summary")
    p.add_argument("--hours", type=float, default=5.0,
                   help="hours of simulated market ending now (default 5: enough rows for an honest walk-forward)")
    p.add_argument("--seed", type=int, default=7, help="sandbox seed (default 7)")
    p.add_argument("--symbols", default="BTC,ETH", help="base assets to simulate (default BTC,ETH)")
    p.add_argument("--discrepancy-seconds", type=float, default=10.0,
                   help="seconds of live discrepancy detection against the sandbox (0 to skip)")
    p.add_argument("--skip-publish", action="store_true", help="leave out the Iceberg publish step")
    p.set_defaults(func=cmd_demo)


def cmd_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from demos.replay import find_spikes, replay, spike_center, spike_lines

    if args.find_spikes:
        spikes = find_spikes(args.symbol, args.top)
        print(f"Biggest {args.symbol.upper()} volatility events in gold features_2s:")
        print("\n".join(spike_lines(spikes)))
        if not args.replay_top:
            print(f"replay one: schemahub replay --symbol {args.symbol} --at "
                  f"{spike_center(spikes[0]).isoformat()} --window 12s")
            return 0
        at = spike_center(spikes[0])
    elif args.at is None:
        raise SchemaHubError("replay needs --at <time> (or --find-spikes to list candidates)")
    else:
        at = args.at
    result = replay(args.symbol, at, args.window, leadlag_window=args.leadlag_window, frame_ms=args.frame_ms,
                    out=Path(args.out).resolve() if args.out else None)
    print("\n".join(result.summary))
    print(f"replay page: {result.page}")
    return 0


def cmd_discrepancies(args: argparse.Namespace) -> int:
    from demos.discrepancy_run import run_from_lake, run_live

    base = args.symbol.upper()
    if args.from_lake:
        summary = run_from_lake(base, threshold_bp=args.threshold_bp, step=args.step, since=args.since,
                                until=args.until, speed=args.speed)
    else:
        venues = [v.strip().lower() for v in args.venues.split(",") if v.strip()]
        if args.duration <= 0 or args.interval <= 0:
            raise SchemaHubError("--duration and --interval must be positive")
        summary = run_live(base, threshold_bp=args.threshold_bp, interval=args.interval, duration=args.duration,
                           venues=venues)
    print(f"{summary.steps} snapshots checked, {summary.events} disagreements above {args.threshold_bp:g} bp "
          f"(largest |deviation| {summary.max_abs_deviation_bp:.2f} bp)")
    for venue, n in sorted(summary.errors.items()):
        print(f"  {venue}: no quote in {n} of {summary.steps} polls")
    for path in summary.files:
        print(f"  recorded: {path}")
    return 0


def cmd_shell_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from demos.shell_init import render

    text = render()
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from demos.pipeline import DemoOptions, run_demo

    opts = DemoOptions(hours=args.hours, seed=args.seed,
                       symbols=tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip()),
                       discrepancy_seconds=args.discrepancy_seconds, publish=not args.skip_publish)
    return run_demo(opts)
