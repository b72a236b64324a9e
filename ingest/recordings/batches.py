"""Bounded batches of bronze rows per (table, symbol, source), written through the bronze writer.

File names come from a file's first/last cursor, so two batches that hold only one and the same cursor value
(depth snapshots of a book that did not change between polls) would get the same name and the second would
replace the first. Unless a flush is final, the rows sharing the batch's last cursor value stay pending and open
the next batch, so consecutive files of one key never share a name. Trade rows are written per run of touching
ids (see `_id_runs`). Used by `import-recording` and `books`.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any

from ingest.bronze.tables import table as bronze_table

ID_RANGE_DATASETS = {"trades", "aggtrades"}


def _id_runs(records: list[dict[str, Any]], cursor: str) -> list[list[dict[str, Any]]]:
    """Split trade rows into runs of touching ids. A trade file's name [first, last] is read as "every id in
    between is in bronze" (`BronzeWriter.covered_ranges`, trusted by a resumed backfill), so a websocket
    recording that missed trades must not produce a file whose name spans the hole."""
    ordered = sorted(records, key=lambda r: r[cursor])
    runs: list[list[dict[str, Any]]] = []
    for r in ordered:
        if runs and r[cursor] <= runs[-1][-1][cursor] + 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


class PendingRows:
    def __init__(self, writer: Any, batch_rows: int = 50_000) -> None:
        if batch_rows <= 0:
            raise ValueError("batch_rows must be positive")
        self.writer = writer
        self.batch_rows = batch_rows
        self.pending: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self.count = 0
        self.rows_written: Counter[str] = Counter()
        self.files_written = 0
        self._lock = threading.Lock()

    def add(self, table: str, symbol: str, record: dict[str, Any]) -> None:
        """Queue one record (native fields + lineage keys incl. `_source`); flushes when the batch is full."""
        with self._lock:
            self.pending[(table, symbol, record["_source"])].append(record)
            self.count += 1
            if self.count >= self.batch_rows:
                self._flush(final=False)

    def flush(self, *, final: bool = True) -> None:
        with self._lock:
            self._flush(final=final)

    def _flush(self, *, final: bool) -> None:
        kept = 0
        for key in sorted(self.pending):
            tname, symbol, source = key
            records = self.pending[key]
            cur = bronze_table(tname).cursor_column
            cut = len(records)
            if not final:
                while cut > 0 and records[cut - 1].get(cur) == records[-1].get(cur):
                    cut -= 1
                if cut == 0 and len(records) < 10 * self.batch_rows:
                    kept += len(records)
                    continue
                cut = cut or len(records)
            for run in _id_runs(records[:cut], cur) if bronze_table(tname).dataset in ID_RANGE_DATASETS \
                    else [records[:cut]]:
                arrow = self.writer.to_arrow(tname, run, source=source)
                self.files_written += len(self.writer.write(tname, symbol, arrow))
            self.rows_written[tname] += cut
            self.pending[key] = records[cut:]
            kept += len(records) - cut
        for key in [k for k, v in self.pending.items() if not v]:
            del self.pending[key]
        self.count = kept
