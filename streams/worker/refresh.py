"""Re-evaluating held state without an event: after a rebalance or a restart (other policies, another ruleset) and
when an answer's due date arrives (a birthday, N years since a conviction, a sentence's end, the 7-year window).

Time is a schedule, not a daily scan: every re-classification stores the first processing date on which one of
the person's answers changes with no record change (``SubjectState.due``, from the rules' next-change dates), and
the worker keeps an index of those dates. When a date arrives only the people due are re-evaluated, and only what
differs is emitted. Every scan runs in slices that give the event loop a turn after ~50 ms, and reads each person's
state fresh right before changing it, so an event handled meanwhile is never overwritten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import date

from streams import RULESET_VERSION
from streams.worker.due import DueIndex
from streams.worker.handler import SLICE_SECONDS, EventHandler
from streams.worker.reclassify import needs_refresh, reclassify
from streams.worker.state import SubjectState

log = logging.getLogger(__name__)


class Refresher:
    """When to re-check held state, and the re-check itself (through the handler's store, sends and gauges)."""

    def __init__(self, handler: EventHandler) -> None:
        self.handler = handler
        self._full_scan = False  # faust signals the first assignment too (on_rebalance_complete)
        self._date: date | None = None
        self.longest_hold = 0.0  # longest time a scan held the event loop, seconds (for logs and benchmarks)

    @property
    def due(self) -> DueIndex:
        return self.handler.due

    def request(self) -> None:
        """Re-check every held subject on the next :meth:`maybe_refresh` (faust signals a completed rebalance, with
        restored tables, before the streams resume)."""
        self._full_scan = True

    async def maybe_refresh(self, today: date) -> None:
        if self._full_scan:
            await self.refresh_all(today)
        elif today != self._date:
            await self.refresh_due(today)

    async def refresh_all(self, today: date) -> int:
        """Check every held subject: other policies, another ruleset, or an answer due by ``today``."""
        self._full_scan = False
        self._date = today
        policies = self.handler.policies
        log.info("checking held subjects against policies %s and ruleset %s", policies.fingerprint, RULESET_VERSION)
        checked: dict[str, int] = {"policies": 0, "ruleset": 0, "date": 0}
        changed: dict[str, int] = dict.fromkeys(checked, 0)
        held = 0
        async for key, state in self._fresh(self.handler.store.keys()):
            held += 1
            cause = self._cause(state, today)
            if cause is not None:
                checked[cause] += 1
                changed[cause] += await self._reclassify(key, state, today, cause)
            else:
                self._account(key, state)
        for cause in checked:
            self.handler.metrics.reevaluated(cause, checked[cause], changed[cause])
        log.info("held subjects: %d; re-classified for other policies %d (%d changed), another ruleset %d (%d "
                 "changed), due dates %d (%d changed); longest hold of the event loop %.0f ms", held,
                 checked["policies"], changed["policies"], checked["ruleset"], changed["ruleset"], checked["date"],
                 changed["date"], self.longest_hold * 1000)
        return sum(changed.values())

    async def refresh_due(self, today: date) -> int:
        """Re-evaluate only the people with an answer due by ``today``; emit what differs."""
        self._date = today
        keys = self.due.due_by(today)
        checked = changed = 0
        async for key, state in self._fresh(keys):
            checked += 1
            cause = self._cause(state, today)
            if cause is not None:
                changed += await self._reclassify(key, state, today, cause)
            else:
                self._account(key, state)
        self.handler.metrics.reevaluated("date", checked, changed)
        if checked:
            log.info("processing date %s: %d people due, %d with changed answers; longest hold %.0f ms",
                     today.isoformat(), checked, changed, self.longest_hold * 1000)
        return changed

    def _cause(self, state: SubjectState, today: date) -> str | None:
        if state.policies != self.handler.policies.fingerprint:
            return "policies"
        if state.ruleset != RULESET_VERSION:
            return "ruleset"
        return "date" if needs_refresh(state, self.handler.policies, today) else None

    async def _fresh(self, keys: Iterable[bytes]) -> AsyncIterator[tuple[bytes, SubjectState]]:
        """(key, state) read right before use, in slices that give the event loop a turn."""
        store = self.handler.store
        started = time.perf_counter()
        for key in keys:
            state = store.get(key)
            if state is not None:
                yield key, state
            held = time.perf_counter() - started
            if held > SLICE_SECONDS:
                self.longest_hold = max(self.longest_hold, held)
                await asyncio.sleep(0)
                started = time.perf_counter()
        self.longest_hold = max(self.longest_hold, time.perf_counter() - started)

    async def _reclassify(self, key: bytes, state: SubjectState, today: date, cause: str) -> int:
        """Re-classify one person (for ``cause``: policies, ruleset or date), store and send what changed; 1 when
        an answer changed."""
        handler = self.handler
        outputs = reclassify(state, handler.policies, today, None, cause=cause)
        with handler.store.outside_event(key):  # the state's and the outputs' partition (and its transaction)
            handler.store.put_outside_event(key, state)
            self._account(key, state)
            await handler.send(outputs)
        return 1 if outputs.determinations else 0

    def _account(self, key: bytes, state: SubjectState) -> None:
        partition = state.last_offset[0] if state.last_offset else 0
        self.handler.gauges.account(key, partition, state)
        self.due.note(key, state.due)
