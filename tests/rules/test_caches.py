"""Every per-row cache of the rules (and of the Go dates and DOJ fields they read) is bounded in bytes (issue #10, 5).

Through each cache's public function, measured with tracemalloc: distinct long values (valid input: a 20 KB
OFFENSE_DESCR) leave nothing behind, and distinct short values fill the cache only up to its byte budget, after
which it starts over. Before, the caches were bounded by entry count only (200,000 code texts, 1,000,000 date
texts, 65,536 offense texts), so they kept every long value they met, gigabytes at their limits.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import pytest

from streams.doj import quality, record
from streams.gocompat import dates
from streams.gocompat.memo import DICT_SLOT_BYTES, MEMOS, Memo
from streams.rules import info, matchers


def _offense(text: str) -> str:
    return record.code_section(text + "-POSSESS", "")


def _sentence(text: str) -> int:
    return record.sentence_part_nanos(text, "D")


def _possible_other(text: str) -> str:
    return info.possible_other_p64_charges_cached("11357(A) HS-X", "11357(C) HS " + text)


def _words(i: int, length: int) -> str:
    """A distinct text of ``length`` characters; a third of them beyond Latin-1 (wider strings)."""
    return (f"S{i:x}" + ("€" if i % 3 == 0 else "X") * length)[:length]


def _digits(i: int, length: int) -> str:
    return f"{i:0{length}d}"


# name → (the public function, the module and name of the memo behind it, texts for it, the longest text a cache
# entry can come from)
CACHES: dict[str, tuple[Callable[[str], Any], ModuleType, str, Callable[[int, int], str], int]] = {
    "dates": (dates.parse_yyyymmdd, dates, "_DATES", _words, 16),
    "date verdicts": (quality.date_flags, quality, "_VALID", _digits, 16),
    "code facts": (matchers.code_facts, matchers, "_FACTS", _words, 256),
    "code sections": (_offense, record, "_SECTION_BY_OFFENSE", _words, 250),
    "sentence lengths": (_sentence, record, "_SENTENCE_NANOS", _digits, 32),
    "possible other charges": (_possible_other, info, "_POSSIBLE_OTHER", _words, 230),
}


def _clear_all() -> None:
    for memo in MEMOS:
        memo.clear()


@contextmanager
def _traced() -> Iterator[list[int]]:
    """Bytes allocated and still held between entering and leaving (after a collection)."""
    held: list[int] = []
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        yield held
        gc.collect()
        held.append(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", CACHES)
def test_distinct_long_values_are_answered_and_not_kept(name: str) -> None:
    function, _, _, text, _ = CACHES[name]
    _clear_all()
    with _traced() as held:
        for i in range(100):
            function(text(i, 20_000))
    assert held[0] < 256 << 10, f"{name}: {held[0]:,} bytes kept for 100 values of 20 KB"


@pytest.mark.parametrize("name", CACHES)
def test_distinct_short_values_fill_a_cache_only_up_to_its_budget(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same cache on the same path with a 1 MB budget (the accounting does not depend on the budget's size, and
    a fill of the real one takes ~40,000 rule evaluations)."""
    function, module, attribute, text, length = CACHES[name]
    real: Memo[Any, Any] = getattr(module, attribute)
    memo = Memo[Any, Any](1 << 20, real.entry_bytes - DICT_SLOT_BYTES, real.max_chars)
    monkeypatch.setattr(module, attribute, memo)
    _clear_all()
    with _traced() as held:
        i = 0
        while memo.clears == 0:  # one start-over at least
            function(text(i, length))
            i += 1
        for _ in range(len(memo.data) * 2 // 3):  # then well into the next round
            function(text(i, length))
            i += 1
    assert memo.used <= memo.budget
    accounted = memo.used + sum(m.used for m in MEMOS)  # a function may fill another cache on the way (code facts)
    assert held[0] <= accounted + (64 << 10), f"{name}: {held[0]:,} bytes held, {accounted:,} accounted"
    _clear_all()  # leave the process's caches empty rather than full of test texts


def test_the_caches_hold_what_a_statewide_file_repeats() -> None:
    """The budgets are not so small that a real file's repeated values make them start over all the time: every
    date of a century (DOBs and event dates) and 20,000 distinct code sections fit."""
    _clear_all()
    clears = dates._DATES.clears, matchers._FACTS.clears
    first = date(1920, 1, 1)
    for day in range(36_525):
        dates.parse_yyyymmdd((first + timedelta(days=day)).strftime("%Y%m%d"))
    for i in range(20_000):
        matchers.code_facts(f"{i}(A) PC")
    assert (dates._DATES.clears, matchers._FACTS.clears) == clears
    assert (len(dates._DATES.data), len(matchers._FACTS.data)) == (36_525, 20_000)
    _clear_all()
