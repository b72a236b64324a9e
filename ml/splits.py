"""Walk-forward folds over time blocks with a purge gap at every boundary. Pure functions, no I/O.

Fold k tests block b_k, early-stops on the block just before it (b_{k-1}) and trains on the blocks before
that. Purging (by label end = feature time + horizon + gold's label lag):
    train rows:  label_end <  start(b_{k-1}) - gap
    valid rows:  label_end <  start(b_k) - gap
so the last training label ends before the first test feature minus the gap, and no preprocessing or
stopping decision ever sees a label that overlaps the test block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ml.errors import TooFewRowsError

MS = {"min": 60_000, "h": 3_600_000, "d": 86_400_000}
# Candidate block sizes for `--block auto`, largest first: days on real data, hours (or less) on short data.
AUTO_BLOCKS_MS = (86_400_000, 43_200_000, 21_600_000, 14_400_000, 10_800_000, 7_200_000, 3_600_000,
                  1_800_000, 1_200_000, 900_000, 600_000)
MIN_BLOCK_GAPS = 2  # a block is at least two purge gaps long, so the early-stopping block keeps half its rows
MIN_TEST_BLOCKS = 4


@dataclass(frozen=True)
class Fold:
    index: int
    test_block: int  # block number (start = block * block_ms)
    train_idx: np.ndarray
    valid_idx: np.ndarray
    test_idx: np.ndarray
    train_start_ms: int
    valid_start_ms: int
    test_start_ms: int
    test_end_ms: int


def parse_block(text: str) -> int | None:
    """'auto' -> None; 'day'/'hour' or '<N>min|h|d' -> milliseconds."""
    t = text.strip().lower()
    if t == "auto":
        return None
    if t == "day":
        return MS["d"]
    if t == "hour":
        return MS["h"]
    m = re.fullmatch(r"(\d+)\s*(min|h|d)", t)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"block size {text!r}: use auto, day, hour or <N>min/<N>h/<N>d")
    return int(m.group(1)) * MS[m.group(2)]


def block_ids(ts_ms: np.ndarray, block_ms: int) -> np.ndarray:
    """UTC-aligned block number of each row (days start at 00:00 UTC, hours on the hour)."""
    return ts_ms // block_ms


def usable_test_blocks(ts_ms: np.ndarray, block_ms: int, min_train_blocks: int, min_rows_per_block: int) -> int:
    blocks, counts = np.unique(block_ids(ts_ms, block_ms), return_counts=True)
    full = blocks[counts >= min_rows_per_block]
    return max(0, len(full) - min_train_blocks - 1)


def choose_block_ms(ts_ms: np.ndarray, gap_ms: int, min_train_blocks: int, min_rows_per_block: int) -> int:
    """Largest candidate block (day ... 10 min, at least 2 gaps long) giving >= 4 usable test blocks."""
    for block_ms in AUTO_BLOCKS_MS:
        if block_ms < MIN_BLOCK_GAPS * gap_ms:
            break
        if usable_test_blocks(ts_ms, block_ms, min_train_blocks, min_rows_per_block) >= MIN_TEST_BLOCKS:
            return block_ms
    span_min = (int(ts_ms.max()) - int(ts_ms.min())) / 60_000 if len(ts_ms) else 0.0
    raise TooFewRowsError(
        f"gold spans {span_min:.0f} min; walk-forward needs {min_train_blocks} training + 1 early-stopping + "
        f"{MIN_TEST_BLOCKS} test blocks of at least {MIN_BLOCK_GAPS * gap_ms / 60_000:.0f} min "
        f"({MIN_BLOCK_GAPS}x the {gap_ms / 1000:.0f} s "
        f"purge gap) with >= {min_rows_per_block} rows each; load more data or pass a smaller --gap/--block")


def walk_forward(ts_ms: np.ndarray, label_end_ms: np.ndarray, *, block_ms: int, gap_ms: int,
                 min_train_blocks: int = 2, train_blocks: int = 0, min_rows_per_block: int = 50) -> list[Fold]:
    """Folds over time blocks. `train_blocks` > 0 rolls the training window; 0 expands it."""
    bid = block_ids(ts_ms, block_ms)
    blocks, counts = np.unique(bid, return_counts=True)
    blocks = blocks[counts >= min_rows_per_block]  # stray rows at the edges do not make a block
    folds: list[Fold] = []
    for k in range(min_train_blocks + 1, len(blocks)):
        test_b, valid_b = int(blocks[k]), int(blocks[k - 1])
        first_train = 0 if train_blocks <= 0 else max(0, k - 1 - train_blocks)
        train_bs = blocks[first_train : k - 1]
        test_start, valid_start = test_b * block_ms, valid_b * block_ms
        train_mask = np.isin(bid, train_bs) & (label_end_ms < valid_start - gap_ms)
        valid_mask = (bid == valid_b) & (label_end_ms < test_start - gap_ms)
        test_mask = bid == test_b
        folds.append(Fold(
            index=len(folds), test_block=test_b,
            train_idx=np.flatnonzero(train_mask), valid_idx=np.flatnonzero(valid_mask),
            test_idx=np.flatnonzero(test_mask),
            train_start_ms=int(train_bs[0]) * block_ms, valid_start_ms=valid_start, test_start_ms=test_start,
            test_end_ms=test_start + block_ms,
        ))
    return folds


def purge_report(fold: Fold, ts_ms: np.ndarray, label_end_ms: np.ndarray, gap_ms: int) -> dict[str, object]:
    """The boundary facts of one fold, as stored in metadata and checked by the leak canary."""
    first_test = int(ts_ms[fold.test_idx].min())
    first_valid = int(ts_ms[fold.valid_idx].min()) if len(fold.valid_idx) else None
    last_train_label = int(label_end_ms[fold.train_idx].max()) if len(fold.train_idx) else None
    last_valid_label = int(label_end_ms[fold.valid_idx].max()) if len(fold.valid_idx) else None
    ok = (last_train_label is not None and last_train_label < first_test - gap_ms
          and (first_valid is None or last_train_label < first_valid - gap_ms)
          and (last_valid_label is None or last_valid_label < first_test - gap_ms))
    return {"first_test_feature_ms": first_test, "first_valid_feature_ms": first_valid,
            "last_train_label_end_ms": last_train_label, "last_valid_label_end_ms": last_valid_label,
            "gap_ms": gap_ms, "ok": bool(ok)}
