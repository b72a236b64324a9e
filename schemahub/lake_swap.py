"""Reader-safe replacement of a lake table's files, for the dbt materializations (macros/materializations/).

A full rebuild used to let DuckDB's `COPY ... (overwrite true)` empty the table folder first and write the new
partitions after: meanwhile a reader bound to `<table>/*/*.parquet` (the DuckDB shell, the replay) saw no file
at all, or failed on a half-written one. Here the new files are complete before any old one goes away:

- local disk: the materialization COPYs the result into a staging folder BESIDE the table folder
  (`<parent>/.<table>.staging`, outside the readers' glob), then `swap_local` moves every new file over its
  live counterpart with `os.replace` (atomic on one file system: a reader opens the old file or the new one,
  never a missing or partial one), and only then deletes live files the new build did not produce (dates
  that vanished, stray siblings). A reader may see some partitions already new and others still old during
  the swap (milliseconds: renames only), but never a gap.
- S3 (no rename): the materialization COPYs straight onto the live keys with the same names (`data_0`): one
  PUT, or a completed multipart upload, replaces an object atomically, so each rebuilt partition goes from
  old to new with no gap. `prune` then deletes the live objects outside the partitions the build wrote. The alternative,
  new names first and old objects deleted after, would let a reader count every row twice in between
  (silently wrong sums); a stale partition for a date that vanished is the lesser, rarer evil, and it lasts
  only until the prune.

dbt reaches this through the DuckDB scalar functions `schemahub_lake_swap(staging, location, prune)` and
`schemahub_lake_prune(location, keep_partitions, prune)` that the dbt-duckdb plugin `Plugin` below registers
(profiles.yml `plugins:`). Jinja cannot touch files and DuckDB SQL cannot rename or delete them: a Python UDF
on the dbt connection is the one place where both the SQL result and the file system are at hand.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class SwapPlan:
    """What a swap does, as paths relative to the table folder: moves (staged -> live), then deletes."""

    moves: tuple[str, ...]
    deletes: tuple[str, ...]


def plan_swap(staged: list[str], live: list[str], prune: bool) -> SwapPlan:
    """Every staged file moves to the same relative path; with `prune`, live files not staged are deleted after."""
    staged_set = set(staged)
    deletes = tuple(sorted(p for p in live if p not in staged_set)) if prune else ()
    return SwapPlan(moves=tuple(sorted(staged)), deletes=deletes)


def _relative_files(folder: str) -> list[str]:
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(folder):
        out.extend(os.path.relpath(os.path.join(dirpath, f), folder) for f in files)
    return out


def _remove_empty_dirs(folder: str) -> None:
    for dirpath, _dirs, _files in os.walk(folder, topdown=False):  # children before their parent
        if dirpath != folder and not os.listdir(dirpath):
            os.rmdir(dirpath)


def swap_local(staging: str, location: str, prune: bool) -> SwapPlan:
    """Move the files of `staging` into `location` (same relative paths, atomic per file), then delete the
    live files the staging did not hold when `prune`, then remove `staging`. A missing staging folder means
    an empty result: nothing moves, and with `prune` every live file goes (what a full build of no rows means)."""
    if os.path.abspath(staging) == os.path.abspath(location):
        raise ValueError(f"lake swap: staging folder {staging} is the table folder itself")
    staged = _relative_files(staging) if os.path.isdir(staging) else []
    live = _relative_files(location) if os.path.isdir(location) else []
    plan = plan_swap(staged, live, prune)
    for rel in plan.moves:
        target = os.path.join(location, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(staging, rel), target)
    for rel in plan.deletes:
        os.unlink(os.path.join(location, rel))
    if os.path.isdir(location):
        _remove_empty_dirs(location)
    shutil.rmtree(staging, ignore_errors=True)
    parent = os.path.dirname(os.path.abspath(staging))  # gold stages one version below `.<table>.staging`
    if os.path.basename(parent).endswith(".staging") and os.path.isdir(parent) and not os.listdir(parent):
        os.rmdir(parent)
    return plan


def prune_s3(location: str, keep_partitions: list[str]) -> SwapPlan:
    """Delete every object under `location` (s3://bucket/prefix) outside the partition folders the build just
    wrote (`keep_partitions`: `col=value[/col=value...]`, relative to `location`), and those folders' markers.
    Inside a kept partition nothing is deleted: the build's PUT just replaced its `data_0` object."""
    from schemahub.storage import Lake

    lake = Lake(location.rstrip("/"))
    keep = {k.strip("/") for k in keep_partitions}
    live = lake.list_files()
    plan = SwapPlan(moves=(), deletes=tuple(sorted(p for p in live if os.path.dirname(p) not in keep)))
    for rel in plan.deletes:
        lake.delete(rel)
    for folder in sorted({os.path.dirname(p) for p in plan.deletes} - {""}, key=len, reverse=True):
        if lake.exists(folder) and not lake.list_files(folder):  # the emptied folder's marker object, if any
            lake.fs.delete_dir(lake.fs_path(folder))
    return plan


def _summary(plan: SwapPlan) -> str:
    return f"{len(plan.moves)} file(s) in place, {len(plan.deletes)} stale file(s) deleted"


def lake_swap_udf(staging: str, location: str, prune: bool) -> str:
    if "://" in location:
        raise ValueError(f"schemahub_lake_swap: {location} is not a local folder (object stores use schemahub_lake_prune)")
    return _summary(swap_local(staging, location, bool(prune)))


def lake_prune_udf(location: str, keep_partitions: list[str], prune: bool) -> str:
    if not prune:
        return _summary(SwapPlan(moves=(), deletes=()))
    if "://" not in location:
        raise ValueError(f"schemahub_lake_prune: {location} is a local folder (local disk uses schemahub_lake_swap)")
    return _summary(prune_s3(location, list(keep_partitions or [])))


def register(conn: object) -> None:
    """Register the two functions on a DuckDB connection (idempotent per connection)."""
    conn.create_function("schemahub_lake_swap", lake_swap_udf, ["VARCHAR", "VARCHAR", "BOOLEAN"], "VARCHAR",  # type: ignore[attr-defined]
                         side_effects=True)
    conn.create_function("schemahub_lake_prune", lake_prune_udf, ["VARCHAR", "VARCHAR[]", "BOOLEAN"], "VARCHAR",  # type: ignore[attr-defined]
                         side_effects=True)


try:  # the dbt-duckdb plugin; importing this module outside dbt must not need dbt
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - dbt-duckdb is a pinned dependency
    BasePlugin = object  # type: ignore[assignment,misc]


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin (profiles.yml `plugins: [{module: schemahub.lake_swap}]`): adds the swap functions to
    every dbt connection."""

    def configure_connection(self, conn: object) -> None:
        register(conn)
