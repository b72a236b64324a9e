"""Ingest and backfill end to end against the sandbox exchange (all venues, faults on), exactly once by
(venue, symbol, trade id): with faults, after SIGKILLs and --resume, and on S3 (moto) as on local disk."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from ingest_core_support import SYMBOLS, FakeTime, bronze_ids, sandbox_env, truth_ids

from ingest.bronze.writer import BronzeWriter
from ingest.checkpoints import CheckpointStore
from ingest.errors import FatalError
from ingest.http import HttpClient
from ingest.trades import TradeJob, TradeRunner
from sandbox.server import SandboxConfig, SandboxServer
from schemahub import config
from schemahub.cli import main
from schemahub.storage import Lake

END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _sandbox(**kw: object) -> SandboxServer:
    base: dict[str, object] = {"seed": 7, "start": END - dt.timedelta(hours=3), "end": END, "stall_seconds": 1.5,
                               "enforce_limits": False}
    return SandboxServer(SandboxConfig(**{**base, **kw}), port=0)  # type: ignore[arg-type]


def _point_at(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch, rate_scale: str = "50") -> None:
    for k, v in sandbox_env(sb).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SCHEMAHUB_RATE_SCALE", rate_scale)


def _assert_exactly_once(sb: SandboxServer, lake: Lake, since: dt.datetime, until: dt.datetime) -> int:
    total = 0
    for venue, symbols in SYMBOLS.items():
        for symbol in symbols:
            got = bronze_ids(lake, venue, symbol)
            want = truth_ids(sb, venue, symbol, since, until)
            assert want, f"the sandbox simulated no {venue} {symbol} trades"
            dup = [i for i, n in Counter(got).items() if n > 1]
            assert not dup, f"{venue} {symbol}: {len(dup)} trade ids twice in bronze, e.g. {dup[:5]}"
            assert set(got) == set(want), (f"{venue} {symbol}: missing {len(set(want) - set(got))}, "
                                           f"extra {len(set(got) - set(want))}")
            total += len(got)
    return total


def test_backfill_every_venue_with_faults_lands_each_trade_once(tmp_lake: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # until < the sandbox's end: Coinbase must find where to start walking back by binary search over ids
    since, until = END - dt.timedelta(hours=2, minutes=30), END - dt.timedelta(minutes=10)
    with _sandbox(fault_rate=0.08, fault_seed=3) as sb:
        _point_at(sb, monkeypatch)
        args = ["backfill", "--since", since.isoformat(), "--until", until.isoformat(), "--workers", "3",
                "--chunk-size", "400", "--batch-size", "20000", "--no-progress"]
        assert main(args) == 0
        kinds = Counter(f.kind for f in sb.fault_log)
        lake = Lake.from_env()
        n = _assert_exactly_once(sb, lake, since, until)
        assert n > 50_000
        # every fault kind was met and healed (stalls time out at 1 s, then retry)
        assert set(kinds) == {"5xx", "html", "stall", "truncated", "repeat", "overlap"}, kinds
        # checkpoints say done; a second run (no --resume) re-reads little and writes nothing twice
        store = CheckpointStore.local()
        cp = store.load("backfill", "kraken", "trades", "XBTUSD")
        assert cp is not None and cp.done and cp.window == {"since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                                            "until": until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        assert main(args) == 0
        assert _assert_exactly_once(sb, lake, since, until) == n


def test_rate_limits_are_respected(tmp_lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a sandbox that enforces the venues' limits (both sides scaled x20 for speed): no 429/418/Kraken
    throttle answers at all, because the client paces itself."""
    since, until = END - dt.timedelta(minutes=25), END
    with _sandbox(enforce_limits=True, limit_scale=20.0) as sb:
        _point_at(sb, monkeypatch, rate_scale="20")
        lake = Lake.from_env()
        writer, store = BronzeWriter(lake), CheckpointStore.local()
        with HttpClient() as client:
            for venue, symbols in SYMBOLS.items():
                for symbol in symbols:
                    job = TradeJob(venue, symbol, "backfill", since=since, until=until, page_size=100)
                    TradeRunner(job, client, writer, store).run()
            assert client.stats.retries == 0, client.stats
            assert 429 not in client.stats.by_status and 418 not in client.stats.by_status
            assert client.stats.requests > 100
        _assert_exactly_once(sb, lake, since, until)


def test_ingest_cold_start_cutoff_then_watermark(tmp_lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC)
    with _sandbox(start=now - dt.timedelta(hours=2), end=now + dt.timedelta(hours=1), live=True,
                  fault_rate=0.05, fault_seed=5) as sb:
        _point_at(sb, monkeypatch)
        t_run = dt.datetime.now(dt.UTC)
        assert main(["ingest", "binance", "coinbase", "kraken"]) == 0
        lake = Lake.from_env()
        store = CheckpointStore.local()
        first: dict[tuple[str, str], set[int]] = {}
        for venue, symbols in SYMBOLS.items():
            for symbol in symbols:
                got = bronze_ids(lake, venue, symbol)
                assert len(got) == len(set(got)) > 0
                # cold start: only back to the cutoff (45 min), never the 2 h before it
                old = set(truth_ids(sb, venue, symbol, now - dt.timedelta(hours=3), t_run - dt.timedelta(minutes=46)))
                recent = set(truth_ids(sb, venue, symbol, t_run - dt.timedelta(minutes=44), t_run))
                assert not (set(got) & old) and recent <= set(got)
                cp = store.load("ingest", venue, "trades", symbol)
                assert cp is not None and cp.last_trade_id == max(got)
                first[(venue, symbol)] = set(got)
        time.sleep(1.5)  # the live sandbox reveals new trades
        assert main(["ingest", "binance", "coinbase", "kraken"]) == 0
        grew = 0
        for (venue, symbol), before in first.items():
            got = bronze_ids(lake, venue, symbol)
            assert len(got) == len(set(got)) and before <= set(got)
            # no gap: every simulated trade between the first and the last id ingested is there
            lo, hi = min(got), max(got)
            truth = [i for i in truth_ids(sb, venue, symbol, now - dt.timedelta(hours=3), now + dt.timedelta(hours=1))
                     if lo <= i <= hi]
            assert sorted(got) == truth
            grew += len(got) - len(before)
        assert grew > 0


def test_ingest_errors_are_clear_and_write_nothing(tmp_lake: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with _sandbox() as sb:
        _point_at(sb, monkeypatch)
        assert main(["ingest", "binance", "NOPEUSDT"]) == 1
        err = capsys.readouterr().err
        assert "NOPEUSDT" in err and "binance" in err and "-1121" in err
        assert main(["ingest", "kraken", "NOPEUSD"]) == 1
        assert "EQuery" in capsys.readouterr().err
        assert main(["ingest", "coinbase", "NOPE-USD"]) == 1
        assert "NOPE-USD" in capsys.readouterr().err
        # a corrupted watermark is reported with its file name, never reset
        state = config.state_dir() / "ingest" / "binance" / "trades" / "BTCUSDT.json"
        state.parent.mkdir(parents=True)
        state.write_text('{"version": 1, "venue": "binance"')
        assert main(["ingest", "binance", "BTCUSDT"]) == 1
        assert str(state) in capsys.readouterr().err and state.read_text() == '{"version": 1, "venue": "binance"'
    monkeypatch.setenv("SCHEMAHUB_HTTP_ATTEMPTS", "2")
    monkeypatch.setenv("SCHEMAHUB_KRAKEN_URL", "http://127.0.0.1:9/kraken")  # nothing listens on port 9
    assert main(["ingest", "kraken", "XBTUSD"]) == 1
    assert "connection failed" in capsys.readouterr().err
    assert not list(tmp_lake.rglob("*.parquet"))


def test_update_seed_from_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "seed.yaml"
    with _sandbox() as sb:
        _point_at(sb, monkeypatch)
        assert main(["update-seed", "--fetch", "--dry-run", "--path", str(target)]) == 0
        assert not target.exists()
        assert main(["update-seed", "--fetch", "--write", "--path", str(target), "--filter-regex",
                     "(BTC|XBT).*"]) == 0
    from ingest import seed as seeds

    s = seeds.load(target)
    assert "BTCUSDT" in s.for_venue("binance") and "ETHUSDT" not in s.for_venue("binance")
    assert s.for_venue("coinbase") == ["BTC-USD"] and "XBTUSD" in s.for_venue("kraken")


def _run_backfill_proc(sb: SandboxServer, lake: Path, state: Path, since: dt.datetime, until: dt.datetime,
                       extra: list[str], progress: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, **sandbox_env(sb), "SCHEMAHUB_RATE_SCALE": "50", "LAKE_ROOT": str(lake),
           "SCHEMAHUB_STATE_DIR": str(state)}
    cmd = [sys.executable, "-m", "schemahub.cli", "backfill", "--since", since.isoformat(), "--until",
           until.isoformat(), "--chunk-size", "250", "--batch-size", "1500", "--workers", "3",
           *([] if progress else ["--no-progress"]), *extra]
    return subprocess.Popen(cmd, env=env, cwd=config.PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_sigkill_at_several_points_then_resume_gives_the_same_set(tmp_path: Path) -> None:
    lake, state = tmp_path / "lake", tmp_path / "state"
    since, until = END - dt.timedelta(hours=1, minutes=5), END - dt.timedelta(minutes=5)
    with _sandbox(fault_rate=0.05, fault_seed=11) as sb:
        kills = 0
        for files_before_kill in (1, 6, 14, 24):
            proc = _run_backfill_proc(sb, lake, state, since, until, ["--resume"])
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if len(list(lake.rglob("*.parquet"))) >= files_before_kill:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                    break
                time.sleep(0.02)
            proc.wait(timeout=30)
        assert kills >= 3, "the backfill finished before it could be killed several times"
        proc = _run_backfill_proc(sb, lake, state, since, until, ["--resume"], progress=True)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "trades_per_s=" in err.decode() and "backfill (market time)" in err.decode()  # the tqdm bar
        _assert_exactly_once(sb, Lake(str(lake)), since, until)
        done = [json.loads(p.read_text())["done"] for p in state.rglob("*.json")]
        assert len(done) == 6 and all(done)


def _bronze_content(lake: Lake) -> dict[tuple[str, str], list[tuple]]:
    out: dict[tuple[str, str], list[tuple]] = {}
    for venue, symbols in SYMBOLS.items():
        table = f"raw_{venue}_trades"
        for symbol in symbols:
            rows = []
            for path in lake.list_files("bronze", table, f"symbol={symbol}", suffix=".parquet"):
                t = pq.read_table(io.BytesIO(lake.read_bytes(path)))
                keep = [c for c in t.column_names if c not in ("_source_ingest_ts", "_recv_ts", "_source_uri")]
                rows += [tuple(r.values()) for r in t.select(keep).to_pylist()]
            out[(venue, symbol)] = sorted(rows)
    return out


def test_backfill_on_s3_equals_local(tmp_path: Path, s3_lake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    since, until = END - dt.timedelta(minutes=40), END
    with _sandbox(fault_rate=0.05, fault_seed=2) as sb:
        _point_at(sb, monkeypatch)
        monkeypatch.setenv("SCHEMAHUB_STATE_DIR", str(tmp_path / "state"))
        base = ["backfill", "--since", since.isoformat(), "--until", until.isoformat(), "--workers", "3",
                "--chunk-size", "500", "--batch-size", "4000", "--no-progress"]
        bucket, prefix = s3_lake[len("s3://"):].split("/", 1)
        assert main([*base, "--s3-bucket", bucket, "--s3-prefix", prefix, "--checkpoint-s3", "--resume"]) == 0
        s3 = Lake(s3_lake)
        assert s3.list_files("_state", suffix=".json"), "checkpoints are in the lake with --checkpoint-s3"
        monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "local-lake"))
        assert main(base) == 0
        local = Lake.from_env()
        _assert_exactly_once(sb, s3, since, until)
        # the same rows, values and raw payloads (file boundaries may differ: faults shift page boundaries)
        assert _bronze_content(s3) == _bronze_content(local)


def test_binance_429_retry_after_is_obeyed_without_a_ban(tmp_lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client configured far above the venue's weight limit still never gets banned: the sandbox's 429s
    carry Retry-After, the client halts every Binance call that long, and no trade is lost."""
    since, until = END - dt.timedelta(minutes=30), END
    with _sandbox(enforce_limits=True, limit_scale=0.05, binance_window_s=1.0, binance_ban_s=30.0) as sb:
        _point_at(sb, monkeypatch, rate_scale="1000")  # our own pacing effectively off
        lake = Lake.from_env()
        writer, store = BronzeWriter(lake), CheckpointStore.local()
        with HttpClient() as client:
            for symbol in SYMBOLS["binance"]:
                job = TradeJob("binance", symbol, "backfill", since=since, until=until, page_size=400)
                TradeRunner(job, client, writer, store).run()
            assert client.stats.by_status.get(429, 0) > 0, client.stats
            assert 418 not in client.stats.by_status
        for symbol in SYMBOLS["binance"]:
            got = bronze_ids(lake, "binance", symbol)
            assert sorted(got) == sorted(truth_ids(sb, "binance", symbol, since, until))


@pytest.mark.parametrize("venue", ["binance", "coinbase", "kraken"])
def test_resume_recovers_what_was_written_after_the_last_checkpoint(venue: str, tmp_lake: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between a bronze flush and its checkpoint: the resumed run finds the newer files through
    `covered_ranges` and neither fetches them again at length nor writes them twice."""
    since, until = END - dt.timedelta(hours=1), END - dt.timedelta(minutes=5)
    symbol = SYMBOLS[venue][0]
    with _sandbox() as sb:
        _point_at(sb, monkeypatch)
        lake = Lake.from_env()
        writer, store = BronzeWriter(lake), CheckpointStore.local()
        saved = []
        real_save = store.save
        monkeypatch.setattr(store, "save", lambda cp: (saved.append(cp), real_save(cp))[1])
        job = TradeJob(venue, symbol, "backfill", since=since, until=until, page_size=500, batch_size=1000)
        with HttpClient() as client:
            first = TradeRunner(job, client, writer, store).run()
            full_requests = client.stats.requests
        assert first.files >= 2 and saved[-1].done
        real_save(saved[0])  # the state of a run killed right after its later flushes, before their checkpoints
        with HttpClient() as client:
            TradeRunner(job, client, writer, store).run()
            assert client.stats.requests <= 4 < full_requests
        got = bronze_ids(lake, venue, symbol)
        assert sorted(got) == sorted(truth_ids(sb, venue, symbol, since, until))
        assert store.load("backfill", venue, "trades", symbol).done


@pytest.mark.parametrize("venue", ["binance", "coinbase"])
def test_ingest_after_before_bounds_leave_the_watermark_alone(venue: str, tmp_lake: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    symbol = SYMBOLS[venue][0]
    with _sandbox(fault_rate=0.05, fault_seed=9) as sb:
        _point_at(sb, monkeypatch)
        ids = truth_ids(sb, venue, symbol, END - dt.timedelta(hours=2), END - dt.timedelta(hours=1))
        lo, hi = ids[100], ids[2600]
        assert main(["ingest", venue, symbol, "--after", str(lo), "--before", str(hi), "--limit", "300"]) == 0
        assert sorted(bronze_ids(Lake.from_env(), venue, symbol)) == list(range(lo + 1, hi))
        assert CheckpointStore.local().load("ingest", venue, "trades", symbol) is None
        assert main(["ingest", "kraken", "XBTUSD", "--after", "5"]) == 1
        assert "not supported" in capsys.readouterr().err


def test_a_record_without_a_field_fails_the_run_and_writes_nothing(tmp_lake: Path, fake_time: FakeTime) -> None:
    """A Binance page whose third trade lacks `qty`: a clear error naming venue, symbol and field, and no file."""

    def trade(i: int) -> dict:
        return {"id": i, "price": "1.0", "qty": "2.0", "quoteQty": "2.0", "time": 1767225000000 + i,
                "isBuyerMaker": True, "isBestMatch": True}

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.endswith("/aggTrades"):
            return httpx.Response(200, json=[{"a": 1, "p": "1.0", "q": "2.0", "f": 100, "l": 100,
                                              "T": 1767225000100, "m": True, "M": True}])
        start = int(req.url.params["fromId"])
        rows = [trade(i) for i in range(start, start + 10)]
        if start >= 110:
            del rows[2]["qty"]
        return httpx.Response(200, json=rows)

    client = HttpClient(transport=httpx.MockTransport(handler), base_urls={"binance": "http://bn.test"},
                        sleep=fake_time.sleep, clock=fake_time.clock)
    job = TradeJob("binance", "BTCUSDT", "backfill", since=END - dt.timedelta(hours=1), until=END, page_size=10)
    with client, pytest.raises(FatalError) as err:
        TradeRunner(job, client, BronzeWriter(Lake.from_env()), CheckpointStore.local()).run()
    assert "missing field 'qty'" in str(err.value) and "binance" in str(err.value) and "BTCUSDT" in str(err.value)
    assert not list(tmp_lake.rglob("*.parquet"))
    assert CheckpointStore.local().load("backfill", "binance", "trades", "BTCUSDT") is None
