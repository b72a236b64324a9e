"""A rebuild of a lake table never leaves a reader with an empty partition or a half-written file.

The kernel's own record of what happened to the table's folders (inotify, in order, lossless) is replayed:
after every file event each partition that exists before and after the rebuild must still hold a complete
Parquet file and no partially written one. The old materialization (COPY ... OVERWRITE: empty the folder, then
write) fails this at its first event (the delete); the staged swap (macros/lake_files.sql,
schemahub/lake_swap.py) only ever renames complete files over their predecessors.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dbt_bronze_fixture import write_fixture_lake

from ingest.bronze.writer import BronzeWriter
from schemahub.lake_swap import plan_swap, prune_s3, swap_local

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x8, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_NONBLOCK = os.O_NONBLOCK
WATCHED = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF


class Inotify:
    """The few inotify calls this test needs, through libc (no inotify package is pinned in the project)."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.dirs: dict[int, str] = {}

    def watch(self, folder: Path, name: str) -> None:
        wd = self.libc.inotify_add_watch(self.fd, str(folder).encode(), WATCHED)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder} failed")
        self.dirs[wd] = name

    def events(self) -> list[tuple[str, int, str]]:
        """Every queued event as (watched folder name, mask, file name), in the kernel's order."""
        data = b""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        out, pos = [], 0
        while pos < len(data):
            wd, mask, _cookie, length = struct.unpack_from("iIII", data, pos)
            name = data[pos + 16: pos + 16 + length].rstrip(b"\0").decode()
            out.append((self.dirs.get(wd, "?"), mask, name))
            pos += 16 + length
        return out

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class PartitionState:
    complete: set[str] = field(default_factory=set)
    partial: set[str] = field(default_factory=set)


def reader_violations(before: dict[str, set[str]], events: list[tuple[str, int, str]],
                      kept: set[str] | None = None) -> list[str]:
    """Replay the events; list every moment a partition had no complete Parquet file or a partial one.
    `kept`: the partitions the rebuild must keep (default: all of `before`); the others may go, once."""
    kept = set(before) if kept is None else kept
    state = {p: PartitionState(complete=set(files)) for p, files in before.items() if p in kept}
    bad: list[str] = []
    for folder, mask, name in events:
        if folder == "<table>":
            if mask & (IN_DELETE_SELF | IN_MOVE_SELF) or (mask & (IN_DELETE | IN_MOVED_FROM) and name in state):
                # the table folder itself, or a partition that must stay, was removed
                bad.append(f"table folder: {name or 'itself'} removed (mask {mask:#x})")
            continue
        if folder not in state:
            continue
        st = state[folder]
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            bad.append(f"{folder}: partition folder removed")
            st.complete.clear()
            continue
        if not name.endswith(".parquet"):
            continue
        if mask & (IN_DELETE | IN_MOVED_FROM):
            st.complete.discard(name)
            st.partial.discard(name)
        if mask & (IN_CREATE | IN_MODIFY):
            st.complete.discard(name)
            st.partial.add(name)
        if mask & (IN_CLOSE_WRITE | IN_MOVED_TO):
            st.partial.discard(name)
            st.complete.add(name)
        if not st.complete or st.partial:
            bad.append(f"{folder}: complete={sorted(st.complete)} partial={sorted(st.partial)} after {name} {mask:#x}")
    return bad


def watch_table(table: Path) -> tuple[Inotify, dict[str, set[str]]]:
    ino = Inotify()
    ino.watch(table, "<table>")
    before = {}
    for part in sorted(p for p in table.iterdir() if p.is_dir()):
        ino.watch(part, part.name)
        before[part.name] = {f.name for f in part.glob("*.parquet")}
    return ino, before


def test_rebuilds_never_empty_a_partition(tmp_lake: Path, dbt_local) -> None:
    write_fixture_lake(BronzeWriter())
    dbt_local("seed")
    dbt_local("run", "-s", "+trades_unified")
    table = tmp_lake / "silver" / "trades_unified"
    dates = sorted(p.name for p in table.iterdir())
    assert dates == ["trade_date=2024-12-31", "trade_date=2025-01-01"]
    # a date bronze no longer holds: a full build must delete it, a window build must leave it
    stray = table / "trade_date=2020-01-01"
    stray.mkdir()
    shutil.copy(table / dates[0] / "data_0.parquet", stray / "data_0.parquet")

    for label, args in (("window", ("--vars", "{start_date: '2025-01-01', end_date: '2025-01-01'}")), ("full", ())):
        ino, before = watch_table(table)
        try:
            dbt_local("run", "-s", "trades_unified", *args)
            events = ino.events()
        finally:
            ino.close()
        assert reader_violations(before, events, kept=set(dates)) == [], label
        moved_in = {folder for folder, mask, name in events if mask & IN_MOVED_TO and name == "data_0.parquet"}
        rebuilt = {dates[1]} if label == "window" else set(dates)
        assert moved_in == rebuilt, f"{label}: the rebuilt partitions are {rebuilt}, files moved into {moved_in}"
        assert stray.exists() == (label == "window"), label
    assert sorted(p.name for p in table.iterdir()) == dates
    assert not (tmp_lake / "silver" / ".trades_unified.staging").exists()


def test_overwrite_rebuild_is_caught() -> None:
    """The replay flags the old order of operations (delete, then write), so the test above can fail."""
    before = {"d=1": {"data_0.parquet"}}
    old_way = [("d=1", IN_DELETE, "data_0.parquet"), ("d=1", IN_CREATE, "data_0.parquet"),
               ("d=1", IN_CLOSE_WRITE, "data_0.parquet")]
    in_place = [("d=1", IN_MODIFY, "data_0.parquet"), ("d=1", IN_CLOSE_WRITE, "data_0.parquet")]
    swap = [("d=1", IN_MOVED_TO, "data_0.parquet")]
    assert len(reader_violations(before, old_way)) == 2
    assert len(reader_violations(before, in_place)) == 1
    assert reader_violations(before, swap) == []


def test_swap_local_moves_then_prunes(tmp_path: Path) -> None:
    live, staging = tmp_path / "t", tmp_path / ".t.staging"
    for folder, parts in ((live, ("d=1", "d=2")), (staging, ("d=2", "d=3"))):
        for p in parts:
            (folder / p).mkdir(parents=True)
            (folder / p / "data_0.parquet").write_text(f"{folder.name}/{p}")
    assert plan_swap(["d=2/data_0.parquet"], ["d=1/data_0.parquet"], prune=False).deletes == ()

    plan = swap_local(str(staging), str(live), prune=False)
    assert plan.moves == ("d=2/data_0.parquet", "d=3/data_0.parquet") and plan.deletes == ()
    assert {p.parent.name: p.read_text() for p in live.rglob("*.parquet")} == {
        "d=1": "t/d=1", "d=2": ".t.staging/d=2", "d=3": ".t.staging/d=3"}
    assert not staging.exists()

    (staging / "d=3").mkdir(parents=True)
    (staging / "d=3" / "data_0.parquet").write_text("new")
    plan = swap_local(str(staging), str(live), prune=True)
    assert plan.deletes == ("d=1/data_0.parquet", "d=2/data_0.parquet")
    assert sorted(p.name for p in live.iterdir()) == ["d=3"]
    # an empty result of a full build (DuckDB wrote no file): every live file goes
    swap_local(str(staging), str(live), prune=True)
    assert list(live.iterdir()) == []
    with pytest.raises(ValueError, match="is the table folder itself"):
        swap_local(str(live), str(live), prune=True)


def test_prune_s3_deletes_only_partitions_the_build_did_not_write(s3_lake: str) -> None:
    from schemahub.storage import Lake

    lake = Lake(s3_lake)
    for part in ("d=1", "d=2", "d=3"):
        lake.write_bytes(b"x", "silver", "t", part, "data_0.parquet")
    lake.write_bytes(b"x", "silver", "t2", "d=1", "data_0.parquet")  # a neighbour table sharing the prefix start
    plan = prune_s3(lake.uri("silver", "t"), ["d=2", "d=3/"])
    assert plan.deletes == ("d=1/data_0.parquet",)
    assert lake.list_files("silver") == ["silver/t/d=2/data_0.parquet", "silver/t/d=3/data_0.parquet",
                                         "silver/t2/d=1/data_0.parquet"]
    prune_s3(lake.uri("silver", "t"), [])  # an empty full build
    assert lake.list_files("silver") == ["silver/t2/d=1/data_0.parquet"]
