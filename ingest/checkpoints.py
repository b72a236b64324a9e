"""Checkpoints (watermarks) per (venue, dataset, symbol): small versioned JSON, local or in the lake.

Where:
- local (default): `<state_dir>/<kind>/<venue>/<dataset>/<symbol>.json` (`state/` under the project root,
  or SCHEMAHUB_STATE_DIR),
- in the lake (`--checkpoint-s3`, and by default for `ingest` when the lake is on S3):
  `<LAKE_ROOT>/_state/<kind>/<venue>/<dataset>/<symbol>.json`.
`kind` is `ingest` (the watermark `schemahub ingest` resumes from) or `backfill` (a bounded window's progress).

Format (version 1):
    {"version": 1, "venue": "binance", "dataset": "trades", "symbol": "BTCUSDT", "kind": "ingest",
     "last_trade_id": 12345678, "cursor": {"from_id": 12345679}, "trades_processed": 1000000,
     "window": null, "done": false, "last_updated": "2025-12-15T10:30:45.123456Z"}
`last_trade_id`, `trades_processed` and `last_updated` are the spec's fields; `cursor` holds the venue's own
continuation (Binance `from_id`, Coinbase `after`, Kraken `since` = the ns `last`, verbatim).

Rules: a checkpoint is saved only after the bronze data it covers is durably written (the caller's order),
every save is atomic (temporary file + rename locally, a single PUT on S3), and a file that cannot be read
or parsed is reported naming the file: never silently reset.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.errors import CheckpointError
from schemahub import config
from schemahub.storage import Lake

VERSION = 1
KINDS = ("ingest", "backfill")


@dataclass(frozen=True)
class Checkpoint:
    venue: str
    dataset: str
    symbol: str
    kind: str
    last_trade_id: int | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    trades_processed: int = 0
    window: dict[str, str] | None = None  # backfill: {"since": iso, "until": iso}
    done: bool = False
    last_updated: str = ""
    version: int = VERSION

    def advanced(self, **changes: Any) -> Checkpoint:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return replace(self, last_updated=now, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def _safe(symbol: str) -> str:
    if not symbol or "/" in symbol or symbol.startswith("."):
        raise CheckpointError(f"symbol {symbol!r} cannot name a checkpoint file")
    return symbol


class CheckpointStore:
    """Reads and writes checkpoints either under a local folder or under `<lake>/_state`."""

    def __init__(self, *, lake: Lake | None = None, local_dir: Path | None = None) -> None:
        if lake is not None and local_dir is not None:
            raise ValueError("a checkpoint store lives either in the lake or in a local folder")
        self.lake = lake
        self.local_dir = None if lake is not None else (local_dir or config.state_dir())

    @classmethod
    def local(cls, directory: Path | None = None) -> CheckpointStore:
        return cls(local_dir=directory or config.state_dir())

    @classmethod
    def in_lake(cls, lake: Lake | None = None) -> CheckpointStore:
        return cls(lake=lake or Lake.from_env())

    def describe(self) -> str:
        return self.lake.uri("_state") if self.lake is not None else str(self.local_dir)

    def _parts(self, kind: str, venue: str, dataset: str, symbol: str) -> list[str]:
        if kind not in KINDS:
            raise ValueError(f"checkpoint kind {kind!r} not in {KINDS}")
        return [kind, venue, dataset, f"{_safe(symbol)}.json"]

    def location(self, kind: str, venue: str, dataset: str, symbol: str) -> str:
        parts = self._parts(kind, venue, dataset, symbol)
        if self.lake is not None:
            return self.lake.uri("_state", *parts)
        assert self.local_dir is not None
        return str(self.local_dir.joinpath(*parts))

    # -- reading -------------------------------------------------------------------------------
    def load(self, kind: str, venue: str, dataset: str, symbol: str) -> Checkpoint | None:
        """The checkpoint, None when there is none; CheckpointError (naming the file) when it is corrupt."""
        where = self.location(kind, venue, dataset, symbol)
        parts = self._parts(kind, venue, dataset, symbol)
        try:
            if self.lake is not None:
                if not self.lake.exists("_state", *parts):
                    return None
                raw = self.lake.read_bytes("_state", *parts)
            else:
                path = Path(where)
                if not path.exists():
                    return None
                raw = path.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {where}: {exc}", venue=venue, symbol=symbol) from exc
        return parse(raw, where, venue=venue, dataset=dataset, symbol=symbol, kind=kind)

    # -- writing (atomic) ----------------------------------------------------------------------
    def save(self, cp: Checkpoint) -> str:
        data = cp.to_json().encode()
        parts = self._parts(cp.kind, cp.venue, cp.dataset, cp.symbol)
        if self.lake is not None:
            return self.lake.write_bytes(data, "_state", *parts)
        assert self.local_dir is not None
        return Lake(str(self.local_dir)).write_bytes(data, *parts)  # the same atomic temp-then-rename write

    def delete(self, kind: str, venue: str, dataset: str, symbol: str) -> None:
        parts = self._parts(kind, venue, dataset, symbol)
        if self.lake is not None:
            self.lake.delete("_state", *parts)
        else:
            assert self.local_dir is not None
            self.local_dir.joinpath(*parts).unlink(missing_ok=True)


def parse(raw: bytes, where: str, *, venue: str, dataset: str, symbol: str, kind: str) -> Checkpoint:
    """Validate a checkpoint file's bytes; every problem names the file."""
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"corrupted checkpoint {where}: {why} (fix or delete the file; it is never "
                               "reset silently)", venue=venue, symbol=symbol)

    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise bad("not a JSON object")
    if obj.get("version") != VERSION:
        raise bad(f"unsupported version {obj.get('version')!r} (expected {VERSION})")
    for key, want in (("venue", venue), ("dataset", dataset), ("symbol", symbol), ("kind", kind)):
        if obj.get(key) != want:
            raise bad(f"field {key!r} is {obj.get(key)!r}, expected {want!r}")
    lt = obj.get("last_trade_id")
    if lt is not None and (not isinstance(lt, int) or isinstance(lt, bool)):
        raise bad(f"last_trade_id should be an integer, got {lt!r}")
    if not isinstance(obj.get("cursor", {}), dict):
        raise bad("cursor should be an object")
    tp = obj.get("trades_processed", 0)
    if not isinstance(tp, int) or tp < 0:
        raise bad(f"trades_processed should be a non-negative integer, got {tp!r}")
    window = obj.get("window")
    if window is not None and not (isinstance(window, dict) and {"since", "until"} <= set(window)):
        raise bad("window should be {since, until}")
    known = {f for f in Checkpoint.__dataclass_fields__}
    extra = set(obj) - known
    if extra:
        raise bad(f"unknown fields {sorted(extra)}")
    return Checkpoint(**{k: obj[k] for k in obj if k in known})
