"""Caches of derived values bounded in bytes, not entries: what every per-row cache of the project is built on.

A DOJ file repeats a few thousand dates, code sections and offense texts millions of times, so the per-row paths
remember what they derived from each text. The worker runs for months on whatever the courts send, though, and a
cache bounded by its number of entries is unbounded in bytes when the texts are long (a 50 KB OFFENSE_DESCR is valid
input): 300 MB of distinct long values once raised a worker's RSS by 691 MB. So a :class:`Memo`

* only remembers short texts (``max_chars``): the texts that repeat are short; a long one is derived again when it
  comes back, which costs less than keeping it;
* charges every entry what it keeps alive (``sys.getsizeof`` of its texts, plus a fixed size for the dict slot and
  the value) against a byte budget, and starts over (empties itself) when the next entry would not fit. Emptying
  rather than evicting one by one keeps the hot path a bare ``dict.get`` (no bookkeeping per hit); the texts that
  repeat are back after a few rows.

``memo.get`` is the dict's own bound ``get`` (a C call, no Python frame), so the hot paths read ``memo.get(text)``
directly and call :meth:`Memo.put` only on a miss.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DICT_SLOT_BYTES = 64
"""Upper bound of what one entry costs a dict itself (its entry and index over a table that CPython keeps between a
third and two thirds full: 44 bytes at worst, measured), plus the allocator's rounding of the entry's objects."""

MAX_CHARS = 256
"""Longest text a cache remembers by default: a code section, an offense description or a comment of a real file
is far shorter (the longest in the 1,000,000-row benchmark file is 49 characters)."""


class Memo(Generic[K, V]):
    """A dict of derived values that never holds more than ``budget`` bytes (by :meth:`put`'s accounting)."""

    __slots__ = ("budget", "clears", "data", "entry_bytes", "get", "max_chars", "used")

    def __init__(self, budget: int, entry_bytes: int, max_chars: int = MAX_CHARS) -> None:
        """``entry_bytes``: what one entry keeps alive besides the texts passed to :meth:`put` (the value object,
        a key tuple); the dict slot is added here."""
        self.budget = budget
        self.entry_bytes = entry_bytes + DICT_SLOT_BYTES
        self.max_chars = max_chars
        self.data: dict[K, V] = {}
        self.get: Callable[[K], V | None] = self.data.get
        self.used = 0  # bytes charged since the last start-over
        self.clears = 0  # how many times the budget was reached (tests and benchmarks read it)

    def put(self, key: K, value: V, *texts: str) -> V:
        """Remember ``key → value`` unless ``texts`` (the strings the entry keeps alive: its key text, a derived
        string) are longer than ``max_chars`` together; return ``value``."""
        if sum(map(len, texts)) > self.max_chars:
            return value
        size = self.entry_bytes + sum(map(sys.getsizeof, texts))
        if self.used + size > self.budget:
            self.data.clear()  # a dict's clear() frees its table too
            self.used = 0
            self.clears += 1
        self.data[key] = value
        self.used += size
        return value

    def clear(self) -> None:
        self.data.clear()
        self.used = 0


MEMOS: list[Memo[Any, Any]] = []
"""Every module-level memo, registered by :func:`memo`: their budgets add up to what all the project's caches may
hold together (:func:`budgets_total`)."""


def memo(budget: int, entry_bytes: int, max_chars: int = MAX_CHARS) -> Memo[Any, Any]:
    """A module-level :class:`Memo`, registered in :data:`MEMOS`."""
    made: Memo[Any, Any] = Memo(budget, entry_bytes, max_chars)
    MEMOS.append(made)
    return made


def budgets_total() -> int:
    """Bytes all registered memos may hold together (the modules that define them must have been imported)."""
    return sum(m.budget for m in MEMOS)
