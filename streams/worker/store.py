"""Where the worker keeps each person's :class:`~streams.worker.state.SubjectState`: one typed seam, two stores.

The shell reads and writes states only through :class:`SubjectStore`, so the per-event handler and the refresh
scan are tested with :class:`DictStore` (the same bytes as the real store) and run on :class:`FaustTableStore`
(faust's table, RocksDB with a changelog topic) in the worker. Keys are subject ids as UTF-8 bytes; a state
lives in the partition of its subject's input events (the table is co-partitioned with the input topic).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from streams.kafka.partitioner import partition_for_key
from streams.worker.state import SubjectState

ROCKSDB_OPTIONS: dict[str, int] = {
    "write_buffer_size": 16 << 20,
    "max_write_buffer_number": 2,
    "block_cache_size": 64 << 20,
}
"""Faust's RocksDB options for the subjects table (one database per partition a worker holds), in bytes.

faust's defaults give every partition's database three 64 MB memtables and a 2 GB block cache: writing 256 MB of
states (a changelog restore) left 134 MB resident and reading them back (the start-up re-check of every held
person) 305 MB — per partition, so the whole table ended up in memory (issue #10 saw 933 MB after a restore of
100,000 people).
The table is a cache of its changelog (WAL off) written a few KB per event: two 16 MB memtables batch its writes,
and 64 MB of cached blocks per partition keep the recently read people (30 MB and 91 MB for the same 256 MB,
tests/worker/test_soak.py)."""


class SubjectStore(Protocol):
    """Per-subject state, by subject key."""

    def get(self, key: bytes) -> SubjectState | None:
        """The state held for ``key``, or ``None`` for a subject never seen (or held by another worker)."""
        ...

    def put(self, key: bytes, state: SubjectState, partition: int, encoded: bytes | None = None) -> None:
        """Store ``state``; ``partition`` is the input partition of the subject's events (where it must live).
        ``encoded`` is ``state.to_bytes()`` when the caller already has it (the handler measures the state against
        its budget before it stores it: one encode per event instead of two)."""
        ...

    def put_outside_event(self, key: bytes, state: SubjectState) -> None:
        """Store ``state`` from outside an event (a policy or date refresh): the store finds its partition."""
        ...

    def outside_event(self, key: bytes) -> AbstractContextManager[Any]:
        """A context for the writes and sends of ``key``'s subject made outside an event (a refresh): they belong to
        its input partition, whose transaction (exactly-once) their sends must join."""
        ...

    def keys(self, partition: int | None = None) -> Iterator[bytes]:
        """The keys held (in ``partition`` only, if given), lazily: a scan reads each state fresh with :meth:`get`
        right before it changes it, so an event handled during the scan is never overwritten by a stale copy."""
        ...


class DictStore:
    """A dict of encoded states: what unit tests use (the states go through the same bytes as in RocksDB)."""

    def __init__(self, data: MutableMapping[bytes, bytes] | None = None, partitions: int = 4) -> None:
        self.data: MutableMapping[bytes, bytes] = {} if data is None else data
        self.partitions = partitions

    def get(self, key: bytes) -> SubjectState | None:
        raw = self.data.get(key)
        return SubjectState.from_bytes(raw) if raw else None

    def put(self, key: bytes, state: SubjectState, partition: int, encoded: bytes | None = None) -> None:
        self.data[key] = state.to_bytes() if encoded is None else encoded

    def put_outside_event(self, key: bytes, state: SubjectState) -> None:
        self.data[key] = state.to_bytes()

    def outside_event(self, key: bytes) -> AbstractContextManager[Any]:
        return nullcontext()

    def keys(self, partition: int | None = None) -> Iterator[bytes]:
        for key in list(self.data):
            if partition is None or partition_for_key(key, self.partitions) == partition:
                yield key


class FaustTableStore:
    """faust's table of subject states (its ``data`` is the store of the current partitions)."""

    def __init__(self, table: Any, input_topic: str, partitions: int) -> None:
        self.table = table
        self.input_topic = input_topic
        self.partitions = partitions

    def get(self, key: bytes) -> SubjectState | None:
        # the table's store directly: one lookup (the table's own get looks twice)
        raw = self.table.data.get(key)
        return SubjectState.from_bytes(raw) if raw else None

    def put(self, key: bytes, state: SubjectState, partition: int, encoded: bytes | None = None) -> None:
        # inside an event: faust takes the event's partition
        self.table[key] = state.to_bytes() if encoded is None else encoded

    def put_outside_event(self, key: bytes, state: SubjectState) -> None:
        with self.outside_event(key):
            self.table[key] = state.to_bytes()

    def outside_event(self, key: bytes) -> AbstractContextManager[Any]:
        from streams.worker.faust_patches import writes_to_partition

        return writes_to_partition(self.input_topic, self.partition_of(key))

    def partition_of(self, key: bytes) -> int:
        return partition_for_key(key, self.partitions)

    def keys(self, partition: int | None = None) -> Iterator[bytes]:
        from streams.worker.faust_patches import table_keys

        return table_keys(self.table, partition)
