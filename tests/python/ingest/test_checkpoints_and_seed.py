"""Checkpoints (local and in the lake, atomic, corruption reported), the id-range set, the seed file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from ingest import seed as seeds
from ingest.bronze.writer import BronzeWriter
from ingest.checkpoints import Checkpoint, CheckpointStore
from ingest.commands.common import parse_when, resolve_targets
from ingest.errors import CheckpointError, SeedError
from ingest.trades import IdRanges, Step, TradeSink
from schemahub.cli import SchemaHubError, main
from schemahub.storage import Lake


def test_checkpoint_roundtrip_local(tmp_path: Path) -> None:
    store = CheckpointStore.local(tmp_path / "state")
    assert store.load("ingest", "binance", "trades", "BTCUSDT") is None
    cp = Checkpoint("binance", "trades", "BTCUSDT", "ingest").advanced(last_trade_id=41, cursor={"from_id": 42},
                                                                         trades_processed=10)
    where = store.save(cp)
    assert where.endswith("state/ingest/binance/trades/BTCUSDT.json")
    assert store.load("ingest", "binance", "trades", "BTCUSDT") == cp
    assert not [p for p in (tmp_path / "state").rglob(".*")]  # no temporary file left behind


def test_checkpoint_in_the_lake(s3_lake: str) -> None:
    store = CheckpointStore.in_lake()
    cp = Checkpoint("kraken", "trades", "XBTUSD", "backfill", window={"since": "a", "until": "b"}).advanced(
        cursor={"since": "1762820035982277754"}, last_trade_id=7)
    assert store.save(cp) == f"{s3_lake}/_state/backfill/kraken/trades/XBTUSD.json"
    assert store.load("backfill", "kraken", "trades", "XBTUSD") == cp


@pytest.mark.parametrize("content,needle", [
    (b"{not json", "not valid JSON"),
    (b"[]", "not a JSON object"),
    (b'{"version": 99}', "unsupported version"),
    (b'{"version": 1, "venue": "binance", "dataset": "trades", "symbol": "ETHUSDT", "kind": "ingest"}',
     "'symbol'"),
    (b'{"version": 1, "venue": "binance", "dataset": "trades", "symbol": "BTCUSDT", "kind": "ingest", '
     b'"last_trade_id": "12"}', "last_trade_id"),
])
def test_corrupted_checkpoint_is_reported_naming_the_file(tmp_path: Path, content: bytes, needle: str) -> None:
    store = CheckpointStore.local(tmp_path)
    path = Path(store.location("ingest", "binance", "trades", "BTCUSDT"))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        store.load("ingest", "binance", "trades", "BTCUSDT")
    assert str(path) in str(err.value) and needle in str(err.value)
    assert path.read_bytes() == content  # never reset


def test_id_ranges() -> None:
    r = IdRanges([(10, 19), (30, 39), (20, 25)])
    assert r.ranges() == [(10, 25), (30, 39)]
    assert 10 in r and 25 in r and 26 not in r and 9 not in r
    assert r.extend_up(12) == 26 and r.extend_up(26) == 26 and r.extend_up(30) == 40
    assert r.extend_down(35) == 29 and r.extend_down(20) == 9 and r.extend_down(5) == 5
    r.add(26, 29)
    assert r.ranges() == [(10, 39)]


def _rows(ids: list[int]) -> list[dict]:
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return [{"id": i, "price": "1.0", "qty": "1", "quoteQty": "1", "time": int(t0.timestamp() * 1000) + i,
             "isBuyerMaker": True, "isBestMatch": True, "_raw_payload": "{}", "_source": "binance.rest.test",
             "_recv_ts": t0, "_source_uri": "http://x"} for i in ids]


def test_sink_writes_each_id_once_and_checkpoints_after_the_flush(tmp_lake: Path) -> None:
    writer = BronzeWriter(Lake.from_env())
    flushed: list[tuple[int | None, int, int]] = []

    def on_flush(step: Step | None, n: int) -> None:  # the files must already exist when this runs
        flushed.append((step.last_trade_id if step else None, n, len(writer.files("raw_binance_trades", "X"))))

    sink = TradeSink(writer, "raw_binance_trades", "X", "id", 5, on_flush)
    sink.add(Step(_rows([1, 2, 3]), {}, 3))
    sink.add(Step(_rows([2, 3, 4, 5, 6]), {}, 6))  # overlapping page
    assert flushed == [(6, 6, 1)]
    sink.add(Step(_rows([5, 6, 7]), {}, 7))  # repeats of what is already in bronze
    sink.flush()
    assert flushed[-1] == (7, 1, 2)
    # a rerun (e.g. after a crash) sees what bronze holds and adds nothing twice
    again = TradeSink(writer, "raw_binance_trades", "X", "id", 100, lambda s, n: None)
    assert again.covered.ranges() == [(1, 7)]
    assert again.add(Step(_rows([6, 7, 8]), {}, 8)) == 1


def test_parse_when() -> None:
    assert parse_when("2025-01-31", "--since") == dt.datetime(2025, 1, 31, tzinfo=dt.UTC)
    assert parse_when("2025-01-31T12:00:00Z", "--since").hour == 12
    with pytest.raises(SchemaHubError, match="--until 'yesterday-ish'"):
        parse_when("yesterday-ish", "--until")


def test_seed_formats_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "seed.yaml"
    p.write_text("product_ids: [BTC-USD, ETH-USD]\nmetadata: {source: coinbase, count: 2}\n")
    assert seeds.load(p).products == {"coinbase": ["BTC-USD", "ETH-USD"]}  # the spec's own format
    p.write_text("venues:\n  binance: {product_ids: [BTCUSDT]}\n  kraken: {product_ids: [XBTUSD]}\n")
    s = seeds.load(p)
    assert s.for_venue("kraken") == ["XBTUSD"] and s.count == 2
    for text, needle in [("venues: [1, 2", "not valid YAML"), ("just text", "should be a mapping"),
                         ("venues: {bitfinex: {product_ids: [X]}}", "unknown venue 'bitfinex'"),
                         ("venues: {binance: {product_ids: BTCUSDT}}", "should be a list"),
                         ("venues: {binance: {product_ids: ['BTC USDT']}}", "not a product id")]:
        p.write_text(text)
        with pytest.raises(SeedError) as err:
            seeds.load(p)
        assert str(p) in str(err.value) and needle in str(err.value)


def test_seed_merge_and_atomic_save(tmp_path: Path) -> None:
    old = seeds.Seed({"coinbase": ["BTC-USD", "OLD-USD"], "kraken": ["XBTUSD"]})
    assert seeds.merged(old, {"coinbase": ["ETH-USD"]}, merge=True).products == {
        "coinbase": ["BTC-USD", "OLD-USD", "ETH-USD"], "kraken": ["XBTUSD"]}
    assert seeds.merged(old, {"coinbase": ["ETH-USD"]}, merge=False).products == {
        "coinbase": ["ETH-USD"], "kraken": ["XBTUSD"]}
    path = seeds.save(seeds.merged(old, {"coinbase": ["ETH-USD"]}, merge=True), tmp_path / "s.yaml")
    assert seeds.load(path).count == 4 and [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def test_resolve_targets(tmp_path: Path) -> None:
    p = tmp_path / "seed.yaml"
    p.write_text("venues:\n  binance: {product_ids: [BTCUSDT]}\n  coinbase: {product_ids: [BTC-USD]}\n"
                 "  kraken: {product_ids: [XBTUSD, ETHUSD]}\n")
    assert resolve_targets([], p) == [("binance", "BTCUSDT"), ("coinbase", "BTC-USD"), ("kraken", "XBTUSD"),
                                      ("kraken", "ETHUSD")]
    assert resolve_targets(["kraken"], p) == [("kraken", "XBTUSD"), ("kraken", "ETHUSD")]
    assert resolve_targets(["binance", "ETHUSDT"], p) == [("binance", "ETHUSDT")]
    assert resolve_targets(["BTC-USD"], p) == [("coinbase", "BTC-USD")]
    assert resolve_targets(["SOL-USD"], p) == [("coinbase", "SOL-USD")]  # the spec's `ingest BTC-USD` form
    with pytest.raises(SeedError, match="unknown venue 'bitfinex'"):
        resolve_targets(["bitfinex"], p)
    with pytest.raises(SeedError, match="unknown product 'SOLUSDT'"):
        resolve_targets(["binance", "kraken", "SOLUSDT"], p)


def test_cli_bad_input_exits_nonzero(tmp_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("venues: {binance: {product_ids: 7}}")
    assert main(["ingest", "--seed-path", str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err
    assert main(["backfill", "binance", "BTCUSDT", "--since", "2025-13-01"]) == 1
    assert "--since '2025-13-01'" in capsys.readouterr().err
    assert main(["backfill", "binance", "BTCUSDT", "--since", "2025-02-01", "--until", "2025-01-01"]) == 1
    assert main(["ingest", "bitfinex"]) == 1
    assert "unknown venue" in capsys.readouterr().err
    assert main(["ingest", "binance", "--limit", "5000"]) == 1
    assert not list(tmp_lake.rglob("*.parquet"))


def test_arrow_import_is_used() -> None:  # keeps the record builder honest about types
    with pytest.raises(Exception, match="bronze schema"):
        BronzeWriter.to_arrow("raw_binance_trades", [{**_rows([1])[0], "id": "not-an-int"}], source="x")
    assert pa.int64() == BronzeWriter.to_arrow("raw_binance_trades", _rows([1]), source="x").schema.field("id").type


def test_backfill_dry_run_prints_the_plan_and_writes_nothing(tmp_lake: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    store = CheckpointStore.local()
    window = {"since": "2025-01-01T00:00:00.000000Z", "until": "2025-01-02T00:00:00.000000Z"}
    store.save(Checkpoint("binance", "trades", "BTCUSDT", "backfill", window=window).advanced(
        cursor={"from_id": 500}, last_trade_id=499, trades_processed=499))
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main(["backfill", "binance", "BTCUSDT", "ETHUSDT", "--since", "2025-01-01", "--until", "2025-01-02",
                 "--resume", "--dry-run", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "BTCUSDT" in out and "ETHUSDT" in out and "499 trades" in out
    assert "from_id" in out and "2 worker(s)" in out
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing fetched, nothing written
