"""Re-checking held state without an event: after a rebalance (restored partitions), after a restart with other
policies, and when the processing date changes for counties evaluated at the processing date.

This is how a worker restarted with a changed policies file corrects its answers without replaying Kafka: every
held subject whose answers were computed under other policies or another date is re-classified, and only the
differences are emitted.
"""

from __future__ import annotations

import logging
from datetime import date

from streams.worker.handler import EventHandler
from streams.worker.reclassify import needs_refresh, reclassify

log = logging.getLogger(__name__)


class Refresher:
    """When to re-check held state, and the re-check itself (through the handler's store, sends and gauges)."""

    def __init__(self, handler: EventHandler) -> None:
        self.handler = handler
        self._needed = False  # faust signals the first assignment too (on_rebalance_complete)
        self._date: date | None = None

    def request(self) -> None:
        """Re-check on the next :meth:`maybe_refresh` (faust signals a completed rebalance with restored tables)."""
        self._needed = True

    def due(self, today: date) -> bool:
        return self._needed or (self.handler.policies.uses_processing_date() and today != self._date)

    async def maybe_refresh(self, today: date) -> None:
        if self.due(today):
            await self.refresh(today)

    async def refresh(self, today: date) -> int:
        """Re-classify held subjects whose answers are stale; emit the differences. Returns how many changed."""
        handler = self.handler
        policies = handler.policies
        self._needed = False
        self._date = today
        refreshed = 0
        store, gauges = handler.store, handler.gauges
        log.info("checking held subjects against policies %s", policies.fingerprint)
        for key, state in store.items():
            if needs_refresh(state, policies, today):
                outputs = reclassify(state, policies, today, None)
                store.put_outside_event(key, state)
                await handler.send(outputs)
                refreshed += 1
            partition = state.last_offset[0] if state.last_offset else 0
            gauges.account(key, partition, state)
        log.info("held subjects checked: %d, re-classified: %d", gauges.subjects, refreshed)
        return refreshed
