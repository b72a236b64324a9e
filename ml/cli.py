"""Sub-commands of `schemahub` contributed by the ml package: `train` and `predict`."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's sub-commands to the `schemahub` parser."""
    t = sub.add_parser(
        "train", help="walk-forward LightGBM + baselines on gold; registers the model and writes a report",
        description="Train and evaluate the short-horizon predictor on gold features_2s/labels_10s. "
                    "Walk-forward over time blocks with a purge gap, baselines on the same rows, report beside "
                    "the model under <LAKE_ROOT>/models/<base>_predictor/<version>/.")
    t.add_argument("--base", default="BTC", help="base asset to model (default BTC)")
    t.add_argument("--symbol", help="only this symbol (canonical BTC-USD or the venue's own, e.g. BTCUSDT)")
    t.add_argument("--exchange", action="append", default=[], help="only this venue (repeatable)")
    t.add_argument("--horizon", type=int, choices=(5, 10, 15, 30), default=10, help="label horizon in s")
    t.add_argument("--target", choices=("direction", "3class", "return"), default="direction",
                   help="direction: up vs down on non-flat rows; 3class: down/flat/up; return: vol-scaled return")
    t.add_argument("--block", default="auto",
                   help="walk-forward block: auto (largest of day..20min giving >= 4 test blocks), day, hour, <N>min/h")
    t.add_argument("--gap", type=int, default=300, help="purge gap in seconds at every boundary (>= horizon)")
    t.add_argument("--min-train-blocks", type=int, default=2)
    t.add_argument("--train-blocks", type=int, default=0, help="rolling training window in blocks (0 = expanding)")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=7)
    t.add_argument("--exclude", action="append", default=[], help="feature column to leave out (repeatable)")
    t.add_argument("--flat-bp", type=float, help="flat band in bp (default: the band gold used for direction)")
    t.add_argument("--start", help="first feature time to use (UTC, e.g. 2026-03-01)")
    t.add_argument("--end", help="end of the feature times to use (UTC, exclusive)")
    t.add_argument("--model-name", help="registry name (default <base>_predictor)")
    t.add_argument("--canaries", type=int, default=0, metavar="N",
                   help="also run the shuffled-label leak canary with N seeds and record it in the report")
    t.set_defaults(func=_train)

    p = sub.add_parser("predict", help="score gold features with a registered model version")
    p.add_argument("--version", default="latest", help="registry version or 'latest' (default)")
    p.add_argument("--model-name", default="btc_predictor")
    p.add_argument("--exchange", action="append", default=[], help="only this venue (repeatable)")
    p.add_argument("--start", help="first feature time (UTC)")
    p.add_argument("--end", help="end feature time (UTC, exclusive)")
    p.add_argument("--show", type=int, default=10, help="print the last N predictions (default 10)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write predictions to the lake")
    p.set_defaults(func=_predict)


def _quiet_openmp() -> None:
    """Idle OpenMP threads sleep instead of spinning (must be set before LightGBM loads libgomp).

    On a shared box a spinning worker waits for a descheduled sibling: measured here, 2-thread training took
    68 s wall with the default policy and 20 s with PASSIVE, same model. The user's own setting wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _train(args: argparse.Namespace) -> int:
    _quiet_openmp()
    from rich.console import Console
    from rich.table import Table

    from ml.train import TrainRequest, train
    from ml.walkforward import WalkForwardConfig

    if args.gap < args.horizon:
        from ml.errors import MLError

        raise MLError(f"--gap {args.gap}s must be at least the {args.horizon}s label horizon")
    wf = WalkForwardConfig(target=args.target, block=args.block, gap_s=args.gap,
                           min_train_blocks=args.min_train_blocks, train_blocks=args.train_blocks,
                           threads=args.threads, seed=args.seed)
    req = TrainRequest(base=args.base, symbol=args.symbol, exchanges=tuple(args.exchange), horizon_s=args.horizon,
                       start=args.start, end=args.end, exclude=tuple(args.exclude), flat_bp=args.flat_bp,
                       model_name=args.model_name, canary_seeds=tuple(range(1, args.canaries + 1)), wf=wf)
    out = train(req)
    console = Console()
    table = Table(title=f"{out.name} {out.version}: {args.target} at {args.horizon}s, out-of-sample")
    for col in ("model", "IC mean", "rank IC", "acc non-flat", "AUC", "gross bp/trade"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for m, x in out.result.metrics.items():
        s, o = x["summary"], x["overall"]
        gb = o["gross_bp_per_trade"]
        table.add_row(m, f"{s['ic_mean']:.4f}", f"{s['rank_ic_mean']:.4f}", f"{o['accuracy']:.2%}",
                      f"{o['auc']:.3f}", "n/a" if gb is None else f"{gb:.3f}")
    console.print(table)
    v = out.metadata["verdict"]
    console.print(f"LightGBM beats every baseline on IC: {'yes' if v['beats_every_baseline_on_ic'] else 'NO'}")
    for flag in v.get("red_flags", []):
        console.print(f"[red]RED FLAG: {flag}[/red]")
    if out.metadata.get("canaries"):
        c = out.metadata["canaries"]
        console.print(f"shuffled-label canary: mean IC {c['mean_ic']:+.4f} -> {'pass' if c['pass'] else 'FAIL'}")
    # plain print: paths must not be wrapped by the terminal renderer
    print(f"model sha256 {out.model_sha256}")
    print(f"model:  {out.uri}/model.txt")
    print(f"report: {out.uri}/report.md")
    return 0


def _predict(args: argparse.Namespace) -> int:
    _quiet_openmp()
    from rich.console import Console
    from rich.table import Table

    from ml.predict import score
    from schemahub.storage import Lake

    out = score(Lake.from_env(), args.model_name, args.version, start=args.start, end=args.end,
                exchanges=tuple(args.exchange), write=not args.no_write)
    t = out.table
    console = Console()
    tail = t.slice(max(0, t.num_rows - args.show))
    table = Table(title=f"{out.name} {out.version}: last {tail.num_rows} of {t.num_rows} predictions")
    for col in ("feature_ts", "exchange", "symbol", "score", "p_up", "signal"):
        table.add_column(col)
    for r in tail.to_pylist():
        table.add_row(str(r["feature_ts"]), r["exchange"], r["symbol"], f"{r['score']:+.5f}",
                      "n/a" if r["p_up"] is None else f"{r['p_up']:.4f}", str(r["signal"]))
    console.print(table)
    if out.uri:
        print(f"predictions: {out.uri}")
    return 0
