"""Write the simulated market straight into bronze (no HTTP) through `ingest.bronze.BronzeWriter`.

SIMULATED DATA, for the dbt tests and the benchmarks. Records have the same venue-native shapes as the sandbox's
REST responses (they are built by the same venue code): trades of every venue, klines / candles / OHLC, and
depth snapshots every `depth_every_s` seconds. Lineage: `_source` = `<venue>.sandbox.<dataset>` (e.g.
`binance.sandbox.trades`), `_raw_payload` = the record as the venue would send it (JSON text), `_recv_ts` = event
time + a fixed 50 ms (trades) or the snapshot time (books), `_source_uri` = `sandbox://seed=<seed>/<venue>/<endpoint>?...`.
Trades are written in hourly batches (one file per batch and UTC date, named by the first and last trade id).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
from werkzeug.datastructures import MultiDict

from sandbox import formats
from sandbox.market import STEP_NS, Market
from sandbox.recordings import kraken_checksum
from sandbox.specs import VENUES, market_for
from sandbox.venues.binance import Binance
from sandbox.venues.coinbase import Coinbase
from sandbox.venues.common import Ctx
from sandbox.venues.kraken import Kraken

RECV_LAG_NS = 50_000_000
BATCH_NS = 3600 * 10**9


def _ts(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns // 1000 / 1e6, dt.UTC)


def _ctx(market: Market, **args: Any) -> Ctx:
    return Ctx(market, MultiDict({k: str(v) for k, v in args.items()}), market.end_ns, live=False)


def trade_records(market: Market, venue: str, asset: str, lo: int, hi: int) -> list[dict[str, Any]]:
    """Bronze records (native fields + `_raw_payload`, `_recv_ts`) of trades [lo, hi) of one venue and asset."""
    spec = market_for(venue, asset)
    t = market.tape(venue, asset)
    sl = slice(lo, hi)
    recv = [_ts(v + RECV_LAG_NS) for v in t.t_ns[sl].tolist()]
    if venue == "binance":
        recs = formats.binance_trades(spec, t.trade_id[sl], t.price[sl], t.qty[sl], t.t_ns[sl], t.buy[sl])
        return [{**r, "_raw_payload": formats.dumps(r), "_recv_ts": rv} for r, rv in zip(recs, recv, strict=True)]
    if venue == "coinbase":
        recs = formats.coinbase_trades(spec, t.trade_id[sl], t.price[sl], t.qty[sl], t.t_ns[sl], t.buy[sl])
        return [{**r, "_raw_payload": formats.dumps(r), "_recv_ts": rv} for r, rv in zip(recs, recv, strict=True)]
    market_orders = (t.order_id[sl] * 2654435761 % 10) < 4
    rows = formats.kraken_trade_rows(spec, t.trade_id[sl], t.price[sl], t.qty[sl], t.t_ns[sl], t.buy[sl],
                                     market_orders)
    names = ("price", "volume", "time", "side", "ordertype", "misc", "trade_id")
    out = []
    for row, rv in zip(rows, recv, strict=True):
        rec = dict(zip(names, row, strict=True))
        rec["time"] = row[2].text  # the exact decimal-seconds text
        out.append({**rec, "_raw_payload": formats.dumps(row), "_recv_ts": rv})
    return out


def kline_records(market: Market, venue: str, asset: str) -> list[dict[str, Any]]:
    """1-minute bars of the whole window in each venue's REST shape (Binance klines, Coinbase candles, Kraken
    OHLC), computed by the same code that serves them."""
    spec = market_for(venue, asset)
    out: list[dict[str, Any]] = []
    if venue == "binance":
        v = Binance()
        start_ms = market.start_ns // 10**6
        while True:
            rows = v.klines(_ctx(market, symbol=spec.symbol, interval="1m", startTime=start_ms, limit=1000), spec,
                            market.tape(venue, asset))
            names = ("openTime", "open", "high", "low", "close", "volume", "closeTime", "quoteVolume", "trades",
                     "takerBuyBaseVolume", "takerBuyQuoteVolume")
            out += [{"interval": "1m", **dict(zip(names, r[:11], strict=True)), "_raw_payload": formats.dumps(r)}
                    for r in rows]
            if len(rows) < 1000:
                return out
            start_ms = rows[-1][0] + 60_000
    if venue == "coinbase":
        v = Coinbase()
        t0 = market.start_ns // (60 * 10**9) * 60
        minutes = int((market.end_ns - market.start_ns) // (60 * 10**9)) + 2
        for chunk in range(0, minutes, 300):
            start = t0 + chunk * 60
            end = min(start + 299 * 60, market.end_ns // 10**9)
            if end < start:
                break
            rows = v.candles(_ctx(market, granularity=60, start=start, end=end), spec, market.tape(venue, asset))
            out += [{"granularity": 60, **dict(zip(("time", "low", "high", "open", "close", "volume"), r, strict=True)),
                     "_raw_payload": json.dumps(r, separators=(",", ":"))} for r in reversed(rows)]
        return out
    v = Kraken()
    # Kraken serves at most the 720 most recent rows (12 h of minutes), and so does this.
    rows, _ = v.ohlc(_ctx(market, interval=1), spec, market.tape(venue, asset))
    names = ("time", "open", "high", "low", "close", "vwap", "volume", "count")
    return [{"interval": 1, **dict(zip(names, r, strict=True)), "_raw_payload": formats.dumps(r)} for r in rows]


def depth_steps(market: Market, every_s: float = 1.0) -> np.ndarray:
    """Grid steps of the book snapshots taken every `every_s` seconds (each at the end of its step)."""
    stride = max(1, round(every_s * 1e9 / STEP_NS))
    return np.arange(stride - 1, market.n_steps, stride, dtype=np.int64)


def depth_records(market: Market, venue: str, asset: str, every_s: float = 1.0, depth: int = 20,
                  steps: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Book snapshots every `every_s` seconds in the venue's REST depth shape (Binance /depth, Coinbase
    /book?level=2, Kraken /Depth plus the WS checksum of its top 10). `steps`: only these snapshot steps (a
    slice of `depth_steps`), so a long window can be built in bounded memory."""
    spec = market_for(venue, asset)
    tape = market.tape(venue, asset)
    steps = depth_steps(market, every_s) if steps is None else steps
    bp, bq, ap, aq = market.book_levels(venue, spec.symbol, steps, depth)
    out = []
    for j, s in enumerate(steps.tolist()):
        at = market.start_ns + (s + 1) * STEP_NS
        if venue == "kraken":
            pad = spec.price_decimals
            bpx = formats.fixed_texts(bp[j], pad, pad)
            apx = formats.fixed_texts(ap[j], pad, pad)
            bqs = formats.fixed_texts(bq[j], spec.lot_decimals, spec.lot_decimals)
            aqs = formats.fixed_texts(aq[j], spec.lot_decimals, spec.lot_decimals)
            checksum = kraken_checksum(list(zip(apx, aqs, strict=True)), list(zip(bpx, bqs, strict=True)))
            sec = str(at // 10**9)
            bids = [[p, q, sec] for p, q in zip(formats.price_texts(spec, bp[j]), bqs, strict=True)]
            asks = [[p, q, sec] for p, q in zip(formats.price_texts(spec, ap[j]), aqs, strict=True)]
            raw = {"asks": [[p, q, int(t)] for p, q, t in asks], "bids": [[p, q, int(t)] for p, q, t in bids]}
            out.append({"bids": bids, "asks": asks, "checksum": checksum, "_raw_payload": formats.dumps(raw),
                        "_recv_ts": _ts(at)})
            continue
        pad = 8 if venue == "binance" else spec.price_decimals
        bids = [list(x) for x in zip(formats.fixed_texts(bp[j], spec.price_decimals, pad),
                                     formats.qty_texts(spec, bq[j]), strict=True)]
        asks = [list(x) for x in zip(formats.fixed_texts(ap[j], spec.price_decimals, pad),
                                     formats.qty_texts(spec, aq[j]), strict=True)]
        if venue == "binance":
            raw = {"lastUpdateId": int(tape.update_id[s]), "bids": bids, "asks": asks}
            out.append({**raw, "_raw_payload": formats.dumps(raw), "_recv_ts": _ts(at)})
        else:
            bids = [[p, q, "1"] for p, q in bids]
            asks = [[p, q, "1"] for p, q in asks]
            raw = {"bids": [[p, q, 1] for p, q, _ in bids], "asks": [[p, q, 1] for p, q, _ in asks],
                   "sequence": int(tape.sequence[s]), "auction_mode": False, "auction": None,
                   "time": formats.iso_us([at])[0]}
            out.append({"sequence": raw["sequence"], "time": raw["time"], "bids": bids, "asks": asks,
                        "_raw_payload": formats.dumps(raw), "_recv_ts": _ts(at)})
    return out


def write_bronze(market: Market, lake: Any = None, venues: Iterable[str] = VENUES,
                 assets: Iterable[str] | None = None, datasets: Iterable[str] = ("trades", "klines", "depth"),
                 depth_every_s: float = 1.0, progress: bool = False) -> list[Any]:
    """Write the market into bronze; returns the BronzeFile list. `lake` defaults to LAKE_ROOT."""
    from tqdm import tqdm

    from ingest.bronze.writer import BronzeWriter

    writer = BronzeWriter(lake)
    ingest_ts = dt.datetime.now(dt.UTC)
    jobs = [(v, a, d) for v in venues for a in (assets or market.assets) for d in datasets]
    written: list[Any] = []
    for venue, asset, dataset in tqdm(jobs, desc="bronze (SIMULATED)", disable=not progress, unit="table"):
        spec = market_for(venue, asset)
        table = f"raw_{venue}_{dataset}"
        uri = f"sandbox://seed={market.seed}/{venue}/{spec.symbol}/{dataset}"
        source = f"{venue}.sandbox.{dataset}"
        if dataset == "trades":
            tape = market.tape(venue, asset)
            bounds = np.searchsorted(tape.t_ns, np.arange(market.start_ns, market.end_ns + BATCH_NS, BATCH_NS))
            for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                if hi > lo:
                    recs = trade_records(market, venue, asset, lo, hi)
                    arrow = writer.to_arrow(table, recs, source=source, ingest_ts=ingest_ts, source_uri=uri)
                    written += writer.write(table, spec.symbol, arrow)
            continue
        if dataset == "klines":
            chunks = [kline_records(market, venue, asset)]
        else:  # built an hour at a time: Arrow holds the records far more compactly than Python dicts
            steps = depth_steps(market, depth_every_s)
            per = max(1, round(3600 / depth_every_s))
            chunks = (depth_records(market, venue, asset, depth_every_s, steps=steps[i:i + per])
                      for i in range(0, len(steps), per))
        arrows = [writer.to_arrow(table, recs, source=source, ingest_ts=ingest_ts, source_uri=uri, recv_ts=None)
                  for recs in chunks if recs]
        if arrows:
            written += writer.write(table, spec.symbol, pa.concat_tables(arrows))
    return written
