"""Fixtures of the demos tests: headless Chromium (Debian's `chromium`, installed here when missing and we are
root, as in CI) and a small synthetic lake in the silver/gold layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lakegen import make_lake

from schemahub.storage import Lake

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--disable-default-apps", "--mute-audio",
]


def _find_or_install_chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False, capture_output=True,
                   timeout=900)
    return shutil.which("chromium")


@dataclass
class Chromium:
    exe: str
    workdir: Path

    def _run(self, url: str, *extra: str, budget_ms: int = 8000) -> subprocess.CompletedProcess[str]:
        profile = self.workdir / f"profile-{len(list(self.workdir.glob('profile-*')))}"
        cmd = [self.exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
               *extra, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)

    def dump_dom(self, url: str) -> str:
        proc = self._run(url, "--dump-dom")
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    def screenshot(self, url: str, out: Path, size: tuple[int, int] = (1400, 1200)) -> Path:
        proc = self._run(url, f"--screenshot={out}", f"--window-size={size[0]},{size[1]}")
        assert proc.returncode == 0 and out.exists(), proc.stderr[-2000:]
        return out


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    exe = _find_or_install_chromium()
    if not exe:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root and apt-get)")
    return Chromium(exe, tmp_path_factory.mktemp("chromium"))


@pytest.fixture
def demo_lake(tmp_lake: Path) -> Lake:
    """tmp_lake filled with a synthetic 3-minute, 3-venue BTC market (lakegen.py)."""
    lake = Lake(str(tmp_lake))
    make_lake(lake)
    return lake
