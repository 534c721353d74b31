"""The worker's index of due dates: which held people have an answer that changes on which processing date.

Rebuilt by the full scan after every rebalance (from each state's ``due``) and kept current by every
re-classification, so a new processing date costs a look-up, not a scan of everyone held.
"""

from __future__ import annotations

from datetime import date


class DueIndex:
    """Processing date (ISO) → keys of the people one of whose answers changes on that date."""

    def __init__(self) -> None:
        self._by_date: dict[str, set[bytes]] = {}
        self._of: dict[bytes, str] = {}

    def note(self, key: bytes, due: str) -> None:
        old = self._of.pop(key, "")
        if old:
            keys = self._by_date.get(old)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_date[old]
        if due:
            self._of[key] = due
            self._by_date.setdefault(due, set()).add(key)

    def due_by(self, day: date) -> list[bytes]:
        """Keys due on or before ``day`` (taken out of the index: re-classifying notes their next date)."""
        today = day.isoformat()
        keys: list[bytes] = []
        for due in sorted(d for d in self._by_date if d <= today):
            taken = self._by_date.pop(due)
            keys += sorted(taken)
            for key in taken:
                self._of.pop(key, None)
        return keys

    def __len__(self) -> int:
        return len(self._of)
