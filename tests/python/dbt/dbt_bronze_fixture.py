"""A small, deterministic bronze lake for the dbt tests: venue-native records written through BronzeWriter.

Three venues x two symbols, trades across a UTC midnight (Binance switches from ms to µs epochs at
2025-01-01 like its bulk dumps), a quiet stretch without trades, book snapshots every 10 s and the venues'
own 1-minute klines computed from the same trades (the way the venues build them).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from decimal import Decimal

from ingest.bronze.writer import BronzeWriter

START = dt.datetime(2024, 12, 31, 23, 52, tzinfo=dt.UTC)
END = dt.datetime(2025, 1, 1, 0, 8, tzinfo=dt.UTC)
QUIET = (dt.datetime(2025, 1, 1, 0, 2, 10, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, 0, 4, 30, tzinfo=dt.UTC))
INGEST_TS = dt.datetime(2025, 1, 1, 1, 0, tzinfo=dt.UTC)
SYMBOLS = {"binance": ("BTCUSDT", "ETHUSDT"), "coinbase": ("BTC-USD", "ETH-USD"), "kraken": ("XBTUSD", "ETHUSD")}
BASE_PRICE = {"BTC": 93000.0, "ETH": 3300.0}


@dataclass(frozen=True)
class Trade:
    trade_id: int
    ts: dt.datetime
    price: Decimal
    qty: Decimal
    taker_buys: bool


def _base(symbol: str) -> str:
    return "ETH" if symbol.startswith("ETH") else "BTC"


def make_trades(venue: str, symbol: str, seed: int) -> list[Trade]:
    rng = random.Random(f"{venue}-{symbol}-{seed}")
    price = BASE_PRICE[_base(symbol)]
    ts, out, tid = START, [], 1000
    while True:
        ts += dt.timedelta(microseconds=rng.randint(200_000, 6_000_000))
        if ts >= END:
            return out
        if QUIET[0] <= ts < QUIET[1]:
            continue
        price *= 1 + rng.gauss(0, 0.0002)
        qty = Decimal(str(round(rng.uniform(0.001, 0.8 if _base(symbol) == "BTC" else 12), 5)))
        tid += 1
        out.append(Trade(tid, ts, Decimal(f"{price:.2f}"), qty, rng.random() < 0.5))


def epoch_us(ts: dt.datetime) -> int:
    return (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _epoch_ms(ts: dt.datetime) -> int:
    return epoch_us(ts) // 1000


def binance_time_us(ts: dt.datetime) -> int:
    """What Binance keeps of a trade time: ms before 2025-01-01 (µs digits lost), µs from then on."""
    return _epoch_ms(ts) * 1000 if ts < dt.datetime(2025, 1, 1, tzinfo=dt.UTC) else epoch_us(ts)


def binance_trade(t: Trade) -> dict:
    # Bulk dumps: ms before 2025-01-01, µs from 2025-01-01 (the real switch).
    time = _epoch_ms(t.ts) if t.ts < dt.datetime(2025, 1, 1, tzinfo=dt.UTC) else epoch_us(t.ts)
    rec = {"id": t.trade_id, "price": f"{t.price:.8f}", "qty": f"{t.qty:.8f}", "quoteQty": f"{t.price * t.qty:.8f}",
           "time": time, "isBuyerMaker": not t.taker_buys, "isBestMatch": True}
    return {**rec, "_raw_payload": json.dumps(rec)}


def coinbase_trade(t: Trade) -> dict:
    rec = {"trade_id": t.trade_id, "price": f"{t.price:.2f}", "size": f"{t.qty:.8f}",
           "time": t.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "side": "sell" if t.taker_buys else "buy"}
    return {**rec, "_raw_payload": json.dumps(rec)}


def kraken_trade(t: Trade) -> dict:
    secs = Decimal(epoch_us(t.ts)) / Decimal(1_000_000)
    rec = {"price": f"{t.price:.5f}", "volume": f"{t.qty:.8f}", "time": f"{secs:.6f}", "side": "b" if t.taker_buys else "s",
           "ordertype": "l", "misc": "", "trade_id": t.trade_id}
    return {**rec, "_raw_payload": json.dumps(rec)}


def minute_bars(trades: list[Trade]) -> list[dict]:
    """The venue's own 1-minute bars: every minute from the first to the last trade; a minute without trades
    repeats the previous close with zero volume (Kraken's and Binance's behaviour)."""
    by_min: dict[dt.datetime, list[Trade]] = {}
    for t in trades:
        by_min.setdefault(t.ts.replace(second=0, microsecond=0), []).append(t)
    minute, last, bars, prev_close = min(by_min), max(by_min), [], None
    while minute <= last:
        ts = by_min.get(minute, [])
        if ts:
            vol = sum(t.qty for t in ts)
            quote = sum(t.qty * t.price for t in ts)
            bars.append({"open_time": minute, "open": ts[0].price, "high": max(t.price for t in ts),
                         "low": min(t.price for t in ts), "close": ts[-1].price, "volume": vol, "quote": quote,
                         "count": len(ts), "buy_volume": sum(t.qty for t in ts if t.taker_buys),
                         "buy_quote": sum(t.qty * t.price for t in ts if t.taker_buys), "vwap": quote / vol})
            prev_close = ts[-1].price
        else:
            bars.append({"open_time": minute, "open": prev_close, "high": prev_close, "low": prev_close,
                         "close": prev_close, "volume": Decimal(0), "quote": Decimal(0), "count": 0,
                         "buy_volume": Decimal(0), "buy_quote": Decimal(0), "vwap": Decimal(0)})
        minute += dt.timedelta(minutes=1)
    return bars


def book(mid: float, step: float, n: int = 15) -> tuple[list[list[str]], list[list[str]]]:
    bids = [[f"{mid - step * (i + 0.5):.2f}", f"{0.1 * (i + 1):.4f}"] for i in range(n)]
    asks = [[f"{mid + step * (i + 0.5):.2f}", f"{0.12 * (i + 1):.4f}"] for i in range(n)]
    return bids, asks


def write_fixture_lake(writer: BronzeWriter, seed: int = 7) -> dict[tuple[str, str], list[Trade]]:
    """Write every dataset the silver models read; returns the ground-truth trades per (venue, symbol)."""
    truth = {}
    for venue, symbols in SYMBOLS.items():
        for symbol in symbols:
            trades = make_trades(venue, symbol, seed)
            truth[(venue, symbol)] = trades
            to_rec = {"binance": binance_trade, "coinbase": coinbase_trade, "kraken": kraken_trade}[venue]
            source = {"binance": "binance.dump.trades", "coinbase": "coinbase.rest.trades",
                      "kraken": "kraken.rest.Trades"}[venue]
            recv = None if venue == "binance" else INGEST_TS
            arrow = writer.to_arrow(f"raw_{venue}_trades", [to_rec(t) for t in trades], source=source,
                                    ingest_ts=INGEST_TS, recv_ts=recv, source_uri=f"fixture://{venue}/{symbol}")
            writer.write(f"raw_{venue}_trades", symbol, arrow)
            _write_books(writer, venue, symbol, trades)
            _write_klines(writer, venue, symbol, trades)
    return truth


def _write_books(writer: BronzeWriter, venue: str, symbol: str, trades: list[Trade]) -> None:
    recs, i, seq = [], 0, 5000
    ts = START
    while ts < END:
        while i + 1 < len(trades) and trades[i + 1].ts <= ts:
            i += 1
        mid = float(trades[i].price)
        bids, asks = book(mid, 0.5 if _base(symbol) == "BTC" else 0.05)
        seq += 7
        if venue == "binance":
            rec = {"lastUpdateId": seq, "bids": bids, "asks": asks}
        elif venue == "coinbase":
            rec = {"sequence": seq, "time": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                   "bids": [[p, q, "1"] for p, q in bids], "asks": [[p, q, "2"] for p, q in asks]}
        else:
            stamp = f"{ts.timestamp():.6f}"
            rec = {"bids": [[p, q, stamp] for p, q in bids], "asks": [[p, q, stamp] for p, q in asks], "checksum": 1}
        recs.append({**rec, "_recv_ts": ts + dt.timedelta(milliseconds=40), "_raw_payload": json.dumps(rec)})
        ts += dt.timedelta(seconds=10)
    source = f"{venue}.recording.book"
    writer.write(f"raw_{venue}_depth", symbol,
                 writer.to_arrow(f"raw_{venue}_depth", recs, source=source, ingest_ts=INGEST_TS))


def _write_klines(writer: BronzeWriter, venue: str, symbol: str, trades: list[Trade]) -> None:
    bars = minute_bars(trades)
    if venue == "binance":
        recs = [{"interval": "1m", "openTime": _epoch_ms(b["open_time"]), "open": f"{b['open']:.8f}",
                 "high": f"{b['high']:.8f}", "low": f"{b['low']:.8f}", "close": f"{b['close']:.8f}",
                 "volume": f"{b['volume']:.8f}", "closeTime": _epoch_ms(b["open_time"]) + 59_999,
                 "quoteVolume": f"{b['quote']:.8f}", "trades": b["count"],
                 "takerBuyBaseVolume": f"{b['buy_volume']:.8f}", "takerBuyQuoteVolume": f"{b['buy_quote']:.8f}"}
                for b in bars]
        source = "binance.rest.klines"
    elif venue == "kraken":
        recs = [{"interval": 1, "time": int(b["open_time"].timestamp()), "open": f"{b['open']:.5f}",
                 "high": f"{b['high']:.5f}", "low": f"{b['low']:.5f}", "close": f"{b['close']:.5f}",
                 "vwap": f"{b['vwap']:.5f}", "volume": f"{b['volume']:.8f}", "count": b["count"]} for b in bars]
        source = "kraken.rest.OHLC"
    else:
        recs = [{"granularity": 60, "time": int(b["open_time"].timestamp()), "low": float(b["low"]),
                 "high": float(b["high"]), "open": float(b["open"]), "close": float(b["close"]),
                 "volume": float(b["volume"])} for b in bars]
        source = "coinbase.rest.candles"
    recs = [{**r, "_raw_payload": json.dumps(r)} for r in recs]
    writer.write(f"raw_{venue}_klines", symbol,
                 writer.to_arrow(f"raw_{venue}_klines", recs, source=source, ingest_ts=INGEST_TS,
                                 recv_ts=INGEST_TS))
