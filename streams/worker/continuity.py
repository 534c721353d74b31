"""Each input partition is handled in offset order, without holes: the offsets the agent is handed, checked.

Why: the handler tells a re-delivered event from a new one by the person's last applied offset (the state's
``last_offset``), which holds only if a partition's events are applied in order. faust drops records it has
fetched (a batch cut short by a rebalance or the end of a recovery: stale-generation messages are not delivered)
and counts on a seek back to the committed offsets, which comes after the next record was already handed over, or
not at all. Applying that record would record its offset in the person's state, and the skipped events of that
person, read again later, would look like re-deliveries and never be applied (seen in the broker kill -9 test:
three convictions missing); acknowledging it would let faust commit past the one record before it (its commit
check allows a hole of one offset at the committed position; seen in a two-worker rebalance).

So a partition's next offset is known (the committed offset, or the log start when nothing was committed). A
record past it is neither handled nor acknowledged, and the partition is rewound to the next offset (the shell
seeks the consumer there): the usual case, a record fetched before faust's own seek after a rebalance, is over in
milliseconds. While the hole lasts the later records are passed over the same way, and the rewind is repeated
every :data:`REWIND_EVERY_S` (a seek can be overtaken by records faust was still draining); after
:data:`MAX_REWINDS` rewinds the worker stops for a restart, which reads from the last commit. A record before the
next offset is a re-delivery: handled as such.

Pure: times are passed in; the shell (:mod:`streams.worker.service`) says where each partition starts, what it
handled, and does the seeking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

REWIND_EVERY_S = 2.0
MAX_REWINDS = 15  # a hole no rewind closed in ~30 s: restart


class Verdict(Enum):
    HANDLE = "handle"  # in order, or a re-delivery
    PASS_OVER = "pass over"  # past a hole already being rewound: not handled, not acknowledged
    REWIND = "rewind"  # past a hole: not handled, not acknowledged, seek the partition back to its next offset
    RESTART = "restart"  # the hole outlived every rewind: stop the worker for a restart


@dataclass(slots=True)
class Hole:
    """A partition waiting for its next offset since ``since``, rewound ``rewinds`` times, last at ``rewound_at``."""

    since: float
    rewinds: int
    rewound_at: float


class InputContinuity:
    """The next offset expected on each input partition this worker reads, and the holes being rewound."""

    def __init__(self, rewind_every_s: float = REWIND_EVERY_S, max_rewinds: int = MAX_REWINDS) -> None:
        self.rewind_every_s = rewind_every_s
        self.max_rewinds = max_rewinds
        self._next: dict[int, int] = {}
        self._holes: dict[int, Hole] = {}

    def knows(self, partition: int) -> bool:
        return partition in self._next

    def start(self, partition: int, offset: int) -> None:
        """The partition is read from ``offset`` (its committed offset, or its first offset when none was
        committed)."""
        self._next[partition] = offset
        self._holes.pop(partition, None)

    def next_offset(self, partition: int) -> int | None:
        return self._next.get(partition)

    def check(self, partition: int, offset: int, now: float) -> Verdict:
        """What to do with the record at ``offset`` of ``partition`` handed over at ``now``."""
        expected = self._next.get(partition)
        if expected is None or offset <= expected:
            return Verdict.HANDLE
        return self._escalate(partition, now)

    def overdue(self, now: float) -> dict[int, Verdict]:
        """For the holes whose last rewind is :attr:`rewind_every_s` old (no record arrived to trigger the next):
        :attr:`Verdict.REWIND` or :attr:`Verdict.RESTART` per partition."""
        return {partition: self._escalate(partition, now) for partition, hole in list(self._holes.items())
                if now - hole.rewound_at >= self.rewind_every_s}

    def _escalate(self, partition: int, now: float) -> Verdict:
        hole = self._holes.get(partition)
        if hole is None:
            self._holes[partition] = Hole(since=now, rewinds=1, rewound_at=now)
            return Verdict.REWIND
        if now - hole.rewound_at < self.rewind_every_s:
            return Verdict.PASS_OVER
        if hole.rewinds >= self.max_rewinds:
            return Verdict.RESTART
        hole.rewinds += 1
        hole.rewound_at = now
        return Verdict.REWIND

    def hole(self, partition: int) -> Hole | None:
        return self._holes.get(partition)

    def handled(self, partition: int, offset: int) -> None:
        """The record at ``offset`` was handled. Nothing for a partition not known (revoked while it was being
        handled: remembering it would skip the start from the committed offset when it comes back)."""
        expected = self._next.get(partition)
        if expected is None:
            return
        self._next[partition] = max(expected, offset + 1)
        if offset >= expected:
            self._holes.pop(partition, None)  # the hole's first record came back (or there was none)

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions revoked: whoever reads them next starts from their committed offsets."""
        for partition in partitions:
            self._next.pop(partition, None)
            self._holes.pop(partition, None)
