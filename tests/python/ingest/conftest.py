"""Fixtures of the ingest tests (helpers live in ingest_core_support.py)."""

from __future__ import annotations

import pytest
from ingest_core_support import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    """Injectable clock + sleep: sleeping advances the clock instantly and is recorded."""
    return FakeTime()
