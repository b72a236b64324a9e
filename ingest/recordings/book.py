"""An L2 order book keyed by exact decimal price, keeping each level's price and size text as the venue sent it.

Prices are ordered as `Decimal` (never float); a sorted key list (bisect) gives the top N levels without sorting
the whole side on every read, which matters for Kraken where a checksum is computed after every message.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation


class BookError(ValueError):
    """A level that is not a valid price/size pair."""


def to_decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as exc:
        raise BookError(f"{what} {text!r} is not a decimal number") from exc
    if not value.is_finite() or value < 0:
        raise BookError(f"{what} {text!r} is not a finite non-negative number")
    return value


@dataclass
class BookSide:
    """One side: price -> (price text, size text); `descending` for bids."""

    descending: bool
    levels: dict[Decimal, tuple[str, str]] = field(default_factory=dict)
    _keys: list[Decimal] = field(default_factory=list)  # ascending by sort key (-price for bids)

    def _sort_key(self, price: Decimal) -> Decimal:
        return -price if self.descending else price

    def set(self, price_text: str, size_text: str) -> None:
        """Absolute size at a price; size 0 removes the level (a delete of an absent level is a no-op)."""
        price = to_decimal(price_text, "price")
        size = to_decimal(size_text, "size")
        key = self._sort_key(price)
        if size == 0:
            if self.levels.pop(price, None) is not None:
                del self._keys[bisect.bisect_left(self._keys, key)]
            return
        if price not in self.levels:
            bisect.insort(self._keys, key)
        self.levels[price] = (price_text, size_text)

    def top(self, n: int) -> list[tuple[str, str]]:
        """Best n levels as (price text, size text), best first."""
        return [self.levels[-k if self.descending else k] for k in self._keys[:n]]

    def truncate(self, depth: int) -> None:
        """Keep only the best `depth` levels (Kraken sends no deletes for levels that fall out of the depth)."""
        if len(self._keys) > depth:
            for k in self._keys[depth:]:
                del self.levels[-k if self.descending else k]
            del self._keys[depth:]

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class L2Book:
    bids: BookSide = field(default_factory=lambda: BookSide(descending=True))
    asks: BookSide = field(default_factory=lambda: BookSide(descending=False))

    def side(self, name: str) -> BookSide:
        """'bid'/'buy'/'b'/'bids' or 'ask'/'sell'/'a'/'asks'."""
        if name in ("bid", "bids", "buy", "b"):
            return self.bids
        if name in ("ask", "asks", "sell", "a"):
            return self.asks
        raise BookError(f"unknown book side {name!r}")

    def load(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.bids, self.asks = BookSide(descending=True), BookSide(descending=False)
        for p, q in bids:
            self.bids.set(p, q)
        for p, q in asks:
            self.asks.set(p, q)

    def top(self, n: int) -> tuple[list[list[str]], list[list[str]]]:
        """(bids, asks) of the best n levels each as [[price, size], ...] text lists (the bronze LEVELS form)."""
        return [list(lv) for lv in self.bids.top(n)], [list(lv) for lv in self.asks.top(n)]

    def crossed(self) -> bool:
        if not self.bids or not self.asks:
            return False
        return self.bids._keys[0] * -1 >= self.asks._keys[0]
