"""The byte-bounded cache every per-row cache is built on: what it remembers, when it starts over, and that its
accounting is an upper bound of the memory it really holds (tracemalloc)."""

from __future__ import annotations

import gc
import sys
import tracemalloc

from streams.gocompat.memo import DICT_SLOT_BYTES, MEMOS, Memo, budgets_total


def test_short_texts_are_remembered_and_long_ones_only_answered() -> None:
    memo = Memo[str, int](budget=1 << 20, entry_bytes=0, max_chars=8)
    assert memo.put("abc", 1, "abc") == 1
    assert memo.put("abcdefghi", 2, "abcdefghi") == 2  # longer than max_chars: answered, not kept
    assert memo.get("abc") == 1 and memo.get("abcdefghi") is None
    assert memo.put("ab", 3, "a", "bcdefghi") == 3  # the texts of an entry count together
    assert memo.get("ab") is None
    assert memo.used == DICT_SLOT_BYTES + sys.getsizeof("abc")


def test_it_starts_over_when_the_next_entry_would_pass_the_budget() -> None:
    entry = DICT_SLOT_BYTES + 10 + sys.getsizeof("k0")
    memo = Memo[str, str](budget=3 * entry, entry_bytes=10)
    for i in range(3):
        memo.put(f"k{i}", "v", f"k{i}")
    assert (len(memo.data), memo.clears, memo.used) == (3, 0, 3 * entry)
    memo.put("k3", "v", "k3")
    assert (list(memo.data), memo.clears, memo.used) == (["k3"], 1, entry)


def test_get_is_the_dicts_own_lookup() -> None:
    memo = Memo[str, int](budget=1 << 20, entry_bytes=0)
    memo.put("x", 1, "x")
    memo.clear()
    assert memo.get("x") is None and memo.used == 0
    memo.put("y", 2, "y")
    assert memo.get("y") == 2  # still the same dict after clear()


def test_the_accounting_is_an_upper_bound_of_what_the_memo_holds() -> None:
    memo = Memo[str, tuple[str, str]](budget=8 << 20, entry_bytes=56)  # a value: a 2-tuple of a new string
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        i = 0
        while memo.clears == 0:
            key = f"{i:06d}" + ("€" if i % 3 == 0 else "é" if i % 3 == 1 else "x") * (i % 200)
            section = key[: len(key) // 2]
            memo.put(key, (section, "D"), key, section)
            i += 1
        memo.clear()
        for j in range(i // 2):  # refill to about half the budget, then compare
            key = f"{j:06d}" + "€" * (j % 200)
            section = key[: len(key) // 2]
            memo.put(key, (section, "D"), key, section)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert memo.used <= memo.budget
    assert held <= memo.used, (held, memo.used)


def test_every_cache_of_the_project_is_registered_with_its_budget() -> None:
    import streams.doj.quality
    import streams.doj.record
    import streams.gocompat.dates
    import streams.rules.info
    import streams.rules.matchers  # noqa: F401  # the modules that hold the caches

    assert len(MEMOS) >= 6
    assert budgets_total() <= 64 << 20  # what the README promises the caches may hold together
