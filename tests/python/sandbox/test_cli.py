"""`schemahub sandbox`: the SIMULATED banner, serving until SIGTERM, --record and --bronze, clear errors."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from schemahub.cli import main


def test_serves_with_a_simulated_banner_until_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "schemahub.cli", "sandbox", "--port", "0", "--hours", "0.1",
                             "--end", "2026-01-01T00:00:00Z", "--no-limits"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        banner = []
        for line in proc.stderr:
            banner.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(banner)
        assert "SIMULATED DATA" in text
        url = re.search(r"SCHEMAHUB_SANDBOX_URL=(http://127\.0\.0\.1:\d+)", text)[1]
        r = httpx.get(url + "/binance/api/v3/ping", timeout=10)
        assert r.status_code == 200 and r.headers["X-SchemaHub-Sandbox"] == "simulated"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_record_writes_files_and_exits(tmp_path: Path, capsys) -> None:
    assert main(["sandbox", "--record", str(tmp_path), "--end", "2026-01-01T00:00:00Z", "--hours", "0.003",
                 "--symbols", "BTC"]) == 0
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.rec")}
    assert {"binance/BTCUSDT/2025-12-31.rec", "coinbase/BTC-USD/2025-12-31.rec", "kraken/XBTUSD/2025-12-31.rec"} <= files
    assert {f.split("/")[1] for f in files} == {"BTCUSDT", "BTC-USD", "XBTUSD"}  # (receive times may cross midnight)
    assert "SIMULATED" in capsys.readouterr().err


def test_bronze_writes_into_the_lake(tmp_lake: Path) -> None:
    assert main(["sandbox", "--bronze", "--end", "2026-01-01T00:00:00Z", "--hours", "0.01", "--symbols", "ETH"]) == 0
    assert list((tmp_lake / "bronze" / "raw_kraken_trades" / "symbol=ETHUSD").rglob("*.parquet"))


@pytest.mark.parametrize(("argv", "message"), [
    (["--symbols", "DOGE"], "unknown asset"),
    (["--fault-kinds", "boom"], "unknown fault kind"),
    (["--fault-rate", "2"], "--fault-rate"),
    (["--start", "2026-01-01T00:00:00Z", "--end", "2025-12-31T00:00:00Z"], "empty window"),
])
def test_bad_arguments_are_clear_errors(argv: list[str], message: str, capsys) -> None:
    assert main(["sandbox", "--record", "unused", *argv]) == 1
    assert message in capsys.readouterr().err
