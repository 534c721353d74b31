"""Each input partition is handled in offset order, without holes: the offsets the agent is handed, checked.

Why: the handler tells a re-delivered event from a new one by the person's last applied offset (the state's
``last_offset``), which holds only if a partition's events are applied in order. faust sometimes drops records it
has fetched (a batch cut short by a rebalance or the end of a recovery) and relies on a seek back to the committed
offsets that does not always come; the agent is then handed a later record. Applying it would record its offset in
the person's state, and the skipped events of that person, read again after a restart, would look like
re-deliveries and never be applied (seen in the broker kill -9 test: three convictions missing). So a partition's
next offset is known (the committed offset, or the log start when nothing was committed), a record past it is not
handled, and the worker restarts to read from the last commit. A record before it is a re-delivery (faust sought
back): handled as such.

Pure: the shell (:mod:`streams.worker.app`) says where each partition starts and what it handled.
"""

from __future__ import annotations

from collections.abc import Iterable


class InputContinuity:
    """The next offset expected on each input partition this worker reads."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}

    def knows(self, partition: int) -> bool:
        return partition in self._next

    def start(self, partition: int, offset: int) -> None:
        """The partition is read from ``offset`` (its committed offset, or its first offset when none was
        committed)."""
        self._next[partition] = offset

    def skipped(self, partition: int, offset: int) -> tuple[int, int] | None:
        """(first, last) of the offsets skipped if the record at ``offset`` were handled now; None: in order (or a
        re-delivery)."""
        expected = self._next.get(partition)
        if expected is not None and offset > expected:
            return expected, offset - 1
        return None

    def handled(self, partition: int, offset: int) -> None:
        self._next[partition] = max(self._next.get(partition, offset + 1), offset + 1)

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions revoked: whoever reads them next starts from their committed offsets."""
        for partition in partitions:
            self._next.pop(partition, None)
