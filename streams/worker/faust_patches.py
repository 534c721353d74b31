"""Everything that touches faust's (and mode's) internals, in one place, for the faust versions it was tested on.

* Three measured fixes to faust-streaming 0.15 defaults that faust offers no setting for, the fence that keeps
  a worker thawed after its group dropped it from writing, and what faust's exactly-once mode needs to survive a
  rebalance (:func:`apply`, :class:`TransactionalSends`): each a small, idempotent patch applied by
  ``create_app``; ``tests/worker/test_faust_patches.py`` pins what each must keep doing, and BENCHMARKS.md has
  the figures. (A fourth speed patch, which handed fetched messages to the streams without faust's per-message
  tasks, was dropped: with it a worker frozen past the session timeout lost offset ranges; see BENCHMARKS.md.)
* The few reaches into private faust state the worker needs (the aiokafka producer behind faust's, the last
  offset handed to the agent, table writes outside an event, the Monitor sensor, the web switch, recovery state).

:func:`check_version` refuses a faust outside the tested range with one clear line instead of a patch that
silently does nothing (or breaks) on a faust whose internals moved.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from streams.errors import ClearanceError
from streams.worker.lease import FENCED_EXIT_CODE, Lease

log = logging.getLogger(__name__)

# faust-streaming versions whose internals these functions were written and tested against: [low, high).
TESTED_VERSIONS = ((0, 15), (0, 16))


class FaustVersionError(ClearanceError):
    """The installed faust-streaming is outside the range the worker's faust patches were tested on."""


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor, *_ = [*version.split("."), "0"]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def check_version(version: str | None = None) -> str:
    """The installed faust version (or ``version``), if inside :data:`TESTED_VERSIONS`; else a clear error."""
    if version is None:
        import faust

        version = str(faust.__version__)
    low, high = TESTED_VERSIONS
    if not low <= _version_tuple(version) < high:
        raise FaustVersionError(
            f"faust-streaming {version} is not supported: the worker is tested with "
            f">={low[0]}.{low[1]},<{high[0]}.{high[1]} (pip install 'faust-streaming>={low[0]}.{low[1]},"
            f"<{high[0]}.{high[1]}')"
        )
    return version


def apply(fetch_max_wait_ms: int, session_timeout: float) -> None:
    """Check the faust version, apply the three measured fixes, the three that keep faust from skipping input
    records (uncommitted partitions rewound, offset jumps never acknowledged, rewinds its drain honours), the
    zombie fence and the transaction fixes (each idempotent)."""
    check_version()
    shorten_fetch_wait(fetch_max_wait_ms)
    rocksdb_without_wal()
    publish_without_yield()
    rewind_uncommitted_partitions()
    unacked_input_gaps()
    rewindable_read_offsets()
    fence_zombie_writes(session_timeout)
    exactly_once_fixes()


def _replace(cls: type, name: str, wrap: Callable[[Any], Any]) -> None:
    """Set ``cls.name`` to ``wrap(original)``; the original is kept on the class, so applying a patch again (each
    ``create_app``) wraps faust's own method, never the previous wrapper."""
    saved = f"_clearance_original_{name}"
    original = getattr(cls, saved, getattr(cls, name))
    setattr(cls, saved, original)
    setattr(cls, name, wrap(original))


def shorten_fetch_wait(max_wait_ms: int) -> None:
    """Make faust's consumers use ``max_wait_ms`` as ``fetch_max_wait_ms``.

    faust hard-codes 1,500 ms, and because aiokafka keeps one fetch in flight per broker, a fetch that only covers
    idle partitions (faust's assignor topic, table changelogs) blocked the input partitions for up to 1.5 s
    several times a second: measured, it cut bulk throughput by 4x. A short wait costs only a few more empty
    fetch round trips while idle.
    """
    from faust.transport.drivers import aiokafka as faust_aiokafka

    def wrap(original: Any) -> Any:
        def create_worker_consumer(self: Any, transport: Any) -> Any:
            consumer = original(self, transport)
            consumer._fetch_max_wait_ms = max_wait_ms  # read when the consumer starts its fetcher
            return consumer

        return create_worker_consumer

    _replace(faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer", wrap)


def rocksdb_without_wal() -> None:
    """Open faust's RocksDB partitions with the write-ahead log off.

    The table's changelog topic is the durable copy, as in Kafka Streams (which turns RocksDB's WAL off for the
    same reason): after a crash RocksDB reopens at its last flushed memtable, whose persisted changelog offset
    is written in the same memtable as the values, and faust replays the changelog from there. The WAL only
    doubled every write (measured: 7.4 µs → 1.2 µs per 5 KB put).
    """
    from faust.stores import rocksdb as faust_rocksdb

    if not faust_rocksdb.USE_ROCKSDICT:
        return

    def wrap(original: Any) -> Any:
        def open_without_wal(self: Any, path: Any, *, read_only: bool = False) -> Any:
            db = original(self, path, read_only=read_only)
            if not self.use_rocksdict:
                return db
            write_options = faust_rocksdb.rocksdict.WriteOptions()
            write_options.disable_wal = True  # type: ignore[method-assign,assignment]  # rocksdict's stub: a property
            db.set_write_options(write_options)
            return db

        return open_without_wal

    _replace(faust_rocksdb.RocksDBOptions, "open", wrap)


_lease: Lease | None = None
_exit: Callable[[int], Any] = os._exit  # the fence's way out (tests replace it)


def fence_zombie_writes(session_timeout: float) -> Lease:
    """Keep a worker that was out of its group (frozen past the session timeout) from writing as its partitions'
    owner: :mod:`streams.worker.lease` has the rules, this feeds them from aiokafka and enforces them.

    * A heartbeat or group sync answered without error renews the lease from the moment it was sent.
    * Every produce request (outputs, dead letters and the table's changelog share faust's one producer) waits
      while the lease has run out, until a heartbeat of the same membership succeeds.
    * When the coordinator drops the membership (the broker no longer knows the member or its generation; not
      the worker's own leaving at shutdown), the process exits at once with ``FENCED_EXIT_CODE``: what it holds
      unsent was computed by a zombie and dies with it; committed offsets, the changelog and the outputs hold only
      what owners wrote, and the restarted worker rejoins and restores from them.

    Only faust's own worker consumer and producer are fenced (their aiokafka clients carry the lease); any other
    aiokafka client in the process is left alone. Returns the process's lease (one worker app per process;
    applying again keeps it, with the new timeout)."""
    from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance, GroupCoordinator
    from aiokafka.producer.sender import SendProduceReqHandler
    from aiokafka.protocol.group import JoinGroupRequest
    from faust.transport.drivers import aiokafka as faust_aiokafka

    global _lease
    if _lease is None:
        _lease = Lease(session_timeout)
    lease = _lease
    lease.session_timeout = session_timeout
    unknown = JoinGroupRequest.UNKNOWN_MEMBER_ID

    def fenced(client: Any) -> bool:
        return getattr(client, "_clearance_lease", None) is lease

    def wrap_consumer(original: Any) -> Any:
        def _create_consumer(self: Any, loop: Any) -> Any:
            consumer = original(self, loop)
            if not self.app.client_only:  # a worker's consumer (in a group)
                consumer._client._clearance_lease = lease  # the client its group coordinator sends through
            # Read the changelog as written, aborted transactions included (see exactly_once_fixes).
            consumer._isolation_level = "read_uncommitted"  # read when the consumer starts its fetcher
            return consumer

        return _create_consumer

    def wrap_producer(original: Any) -> Any:
        def _new_producer(self: Any, transactional_id: str | None = None) -> Any:
            producer = original(self, transactional_id)
            producer.client._clearance_lease = lease  # the client its sender sends through
            return producer

        return _new_producer

    def wrap_heartbeat(original: Any) -> Any:
        async def _do_heartbeat(self: Any) -> Any:
            sent_at = time.monotonic()
            ok = await original(self)
            if ok and fenced(self._client):  # also "rebalance in progress": the member is still in the group
                lease.renew(sent_at)
            return ok

        return _do_heartbeat

    def wrap_sync(original: Any) -> Any:
        async def _send_sync_group_request(self: Any, request: Any) -> Any:
            sent_at = time.monotonic()
            assignment = await original(self, request)
            if assignment is not None and fenced(self._coordinator._client):
                lease.renew(sent_at)
            return assignment

        return _send_sync_group_request

    def wrap_leave(original: Any) -> Any:
        async def _maybe_leave_group(self: Any) -> Any:
            self._clearance_leaving = True  # its reset_generation is the worker's own doing, not a fence
            try:
                return await original(self)
            finally:
                self._clearance_leaving = False

        return _maybe_leave_group

    def wrap_reset(original: Any) -> Any:
        def reset_generation(self: Any) -> Any:
            if (self.member_id != unknown and not getattr(self, "_clearance_leaving", False)
                    and fenced(self._client)):
                log.critical("fenced: the consumer group dropped this worker (no heartbeat for %.0f s past its "
                             "lease: frozen or cut off), so another worker may own its partitions; exiting with "
                             "code %d without sending what it computed since", lease.lapsed_for(time.monotonic()),
                             FENCED_EXIT_CODE)
                for handler in logging.getLogger().handlers:
                    handler.flush()
                _exit(FENCED_EXIT_CODE)
            return original(self)

        return reset_generation

    def wrap_send(original: Any) -> Any:
        async def do(self: Any, node_id: Any) -> Any:
            if fenced(self._client) and not lease.valid(time.monotonic()):
                log.warning("holding writes: no proof for %.1f s past its lease that this worker is still in its "
                            "group", lease.lapsed_for(time.monotonic()))
                while not lease.valid(time.monotonic()):
                    await asyncio.sleep(0.05)
                log.info("writes released: the group still knows this worker")
            return await original(self, node_id)

        return do

    _replace(faust_aiokafka.AIOKafkaConsumerThread, "_create_consumer", wrap_consumer)
    _replace(faust_aiokafka.Producer, "_new_producer", wrap_producer)
    _replace(GroupCoordinator, "_do_heartbeat", wrap_heartbeat)
    _replace(GroupCoordinator, "_maybe_leave_group", wrap_leave)
    _replace(GroupCoordinator, "reset_generation", wrap_reset)
    _replace(CoordinatorGroupRebalance, "_send_sync_group_request", wrap_sync)
    _replace(SendProduceReqHandler, "do", wrap_send)
    return lease


def exactly_once_fixes() -> None:
    """What faust's exactly-once mode needs to survive a rebalance (:class:`TransactionalSends`):

    * Recovery reads up to the log's end offsets: faust's exactly-once branch answers with the last stable offset
      of the last *fetch*, which a partition just assigned does not have yet (None: recovery then crashes with
      "persisted offset is higher than the highwater"). The worker's consumer reads ``read_uncommitted`` (set where
      the fence wraps its creation), so the end offset, aborted transactions included, is what it must reach.
    * A rebalance keeps the open transaction of a partition the worker still owns: faust begins a transaction for
      every assigned partition after each rebalance, also for those it kept, whose producer is already in one;
      aiokafka refuses ("Invalid state transition IN_TRANSACTION -> IN_TRANSACTION") and faust logs it as a warning
      on every worker at every rebalance. The open transaction is the right one (faust commits it with the
      partition's offsets), so there is nothing to begin.
    """
    from faust.transport.drivers import aiokafka as faust_aiokafka

    def wrap_highwaters(original: Any) -> Any:
        async def _highwaters(self: Any, partitions: Any) -> Any:
            return await self._ensure_consumer().end_offsets(partitions)

        return _highwaters

    def wrap_highwater(original: Any) -> Any:
        def highwater(self: Any, tp: Any) -> Any:
            return self._ensure_consumer().highwater(tp)

        return highwater

    def wrap(original: Any) -> Any:
        async def maybe_begin_transaction(self: Any, transactional_id: str) -> None:
            producer = self._transaction_producers.get(transactional_id)
            manager = getattr(producer, "_txn_manager", None)
            if manager is not None and manager.is_in_transaction():
                return
            await original(self, transactional_id)

        return maybe_begin_transaction

    _replace(faust_aiokafka.AIOKafkaConsumerThread, "_highwaters", wrap_highwaters)
    _replace(faust_aiokafka.AIOKafkaConsumerThread, "highwater", wrap_highwater)
    _replace(faust_aiokafka.Producer, "maybe_begin_transaction", wrap)


def rewind_uncommitted_partitions() -> None:
    """Make faust's "seek to the committed offsets" also rewind the input partitions that have no committed offset
    (or offset 0) to where the reset policy starts them.

    faust drops the rest of a fetched batch when its flow stops or the generation changes part-way through it
    (a rebalance, the end of a recovery): aiokafka has already moved its position past those records, and faust
    counts on its next seek to the committed offsets to bring them back. aiokafka's ``seek_to_committed`` seeks
    only partitions whose committed offset is above 0, so on a partition nothing was committed for yet (a worker
    that started and lost its broker before its first commit; in exactly-once mode, every commit so far aborted)
    the dropped records were never handled: reproduced in the broker kill -9 test, a run of offsets skipped
    (offsets 0–1 handled again, then 52 onwards; no determination for 40 convictions). Changelog partitions are
    left to faust's recovery, which seeks them itself."""
    from aiokafka.consumer.fetcher import OffsetResetStrategy
    from faust.transport.drivers import aiokafka as faust_aiokafka

    async def seek_to_committed_or_reset(kafka: Any, is_changelog: Callable[[Any], bool]) -> Any:
        committed = await kafka.seek_to_committed()
        unset = [tp for tp, offset in committed.items() if not offset and not is_changelog(tp)]
        for tp in unset:
            if committed[tp] == 0:
                kafka.seek(tp, 0)
        rewind = [tp for tp in unset if committed[tp] is None]
        if rewind:
            strategy = kafka._fetcher._default_reset_strategy
            if strategy == OffsetResetStrategy.EARLIEST:
                await kafka.seek_to_beginning(*rewind)
            elif strategy == OffsetResetStrategy.LATEST:
                await kafka.seek_to_end(*rewind)
        return committed

    def wrap(original: Any) -> Any:
        async def seek_to_committed(self: Any) -> Any:
            return await self.call_thread(seek_to_committed_or_reset, self._ensure_consumer(),
                                          self.consumer._is_changelog_tp)

        return seek_to_committed

    _replace(faust_aiokafka.AIOKafkaConsumerThread, "seek_to_committed", wrap)


_gapless_topics: set[str] = set()


def never_acknowledge_gaps(topic: str) -> None:
    """Keep faust from acknowledging jumps in ``topic``'s offsets (:func:`unacked_input_gaps`)."""
    _gapless_topics.add(topic)


def unacked_input_gaps() -> None:
    """Never acknowledge offsets of the input that were not handled.

    When a partition's next record is more than one offset past the last one read, faust takes the skipped range
    for offsets no message has (compaction, transaction markers) and acknowledges it: the next commit covers it.
    The input is neither compacted nor written in transactions, so on it such a jump means records faust fetched
    and dropped without the seek back it relies on. Reproduced in the broker kill -9 test: offsets 21–25 of a
    partition never handled, then committed past (convictions with no determination at all). On a topic named by
    :func:`never_acknowledge_gaps` the range stays unacknowledged, so commits stop before it; the agent, handed the
    record after it, stops the worker for a restart that reads it again (:mod:`streams.worker.continuity`)."""
    from faust.transport.consumer import Consumer

    def wrap(original: Any) -> Any:
        async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
            if tp.topic in _gapless_topics:
                return
            await original(self, tp, offset_from, offset_to)

        return _add_gap

    _replace(Consumer, "_add_gap", wrap)


async def start_offset(app: Any, topic: str, partition: int) -> int:
    """Where this worker reads ``partition`` of ``topic`` from: the group's committed offset (as faust's consumer
    learnt it at its seek after the rebalance or, when a record arrives before that seek is done, as the broker
    says), or the log's first offset when nothing was committed or the committed offset's records were deleted
    (retention: the consumer resets to the log start, and a start below it would be a hole no rewind closes).
    Raises the broker's error when it cannot tell."""
    from faust.types import TP

    tp = TP(topic, partition)
    consumer = app.consumer
    committed = consumer._committed_offset.get(tp)
    if not committed:
        thread = consumer._thread

        async def fetch_committed(kafka: Any) -> Any:
            return await kafka.committed(tp)

        committed = await thread.call_thread(fetch_committed, thread._ensure_consumer())
    earliest = int((await consumer.earliest_offsets(tp)).get(tp) or 0)
    if committed is not None and committed >= 0:
        return max(int(committed), earliest)
    return earliest


async def rewind(app: Any, topic: str, partition: int, offset: int) -> bool:
    """Read ``partition`` of ``topic`` again from ``offset``: seek the consumer there (on its own thread) and let
    faust's drain pass records from it again (it drops records below its last read offset). False when the
    partition is no longer assigned or the seek failed (the caller forgets the partition: whoever reads it next
    starts from its committed offset, and a hole still there is found again)."""
    from faust.types import TP

    tp = TP(topic, partition)
    consumer = app.consumer
    if tp not in consumer.assignment():
        return False
    thread = consumer._thread

    async def seek(kafka: Any) -> None:
        kafka.seek(tp, offset)

    try:
        await thread.call_thread(seek, thread._ensure_consumer())
    except Exception as exc:  # revoked between the check and the seek (IllegalStateError), or the consumer stopped
        log.warning("input partition %d: the rewind to offset %d failed (%s)", partition, offset, type(exc).__name__)
        return False
    if tp not in consumer.assignment():
        return False
    read_offsets = consumer._read_offset
    if isinstance(read_offsets, ReadOffsets):
        read_offsets.rewind(tp, offset)
    else:
        read_offsets[tp] = offset
    return True


class ReadOffsets(defaultdict[Any, int | None]):
    """faust's consumer's last read offset per partition (its drain drops a fetched record below it), which
    honours a rewind: until the record at the rewound offset passes the drain, the drain's updates to a higher
    offset are ignored. Those come from the batch the drain was still handing over when the partition was
    rewound; taking them would make it drop the records read again (seen: the first rewind after a rebalance
    undone in most runs, the hole closed only by a second one)."""

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.rewound: dict[Any, int] = {}

    def rewind(self, tp: Any, offset: int) -> None:
        self.rewound[tp] = offset
        super().__setitem__(tp, offset)

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        rewound = self.rewound.get(tp)
        if rewound is not None and offset is not None:
            if offset > rewound:
                return  # still the batch from before the rewind
            if offset == rewound:
                del self.rewound[tp]
        super().__setitem__(tp, offset)

    def pop(self, tp: Any, *default: Any) -> Any:  # a revoked partition: its rewind is the next owner's business
        self.rewound.pop(tp, None)
        return super().pop(tp, *default)

    def __delitem__(self, tp: Any) -> None:
        self.rewound.pop(tp, None)
        super().__delitem__(tp)


def rewindable_read_offsets() -> None:
    """Give each faust consumer :class:`ReadOffsets` for its last read offsets (its drain binds the mapping's
    methods once, when it starts: hence at construction)."""
    from faust.transport.consumer import Consumer

    def wrap(original: Any) -> Any:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            self._read_offset = ReadOffsets()

        return __init__

    _replace(Consumer, "__init__", wrap)


def leave_unacknowledged(app: Any, message: Any) -> None:
    """Keep faust from acknowledging ``message`` (the stream acknowledges every message it hands over once the
    agent moves on): its offset never reaches the consumer's acknowledged offsets, so no commit covers it until
    the record is read again and handled, and faust's wait for unacknowledged messages (at a rebalance) does not
    wait for it."""
    message.acked = True
    app.consumer._unacked_messages.discard(message)


def publish_without_yield() -> None:
    """Let faust's producer buffer publish a started producer's messages without a loop turn per message.

    Table writes (the changelog) queue in faust's producer buffer, whose task publishes them through
    ``Topic._get_producer`` → ``app.maybe_start_producer``, wrapped in mode's ``stampede``, which always
    ``await asyncio.sleep(0)``: one changelog message per event-loop turn. An agent that no longer spends
    several turns per event then outruns the buffer, which throttles the stream with a "producer buffer full"
    warning. Once the producer runs there is nothing to start, so it is returned as is.
    """
    from faust.topics import Topic

    def wrap(original: Any) -> Any:
        async def get_producer(self: Any) -> Any:
            app = self.app
            producer = app.producer
            if producer.started and not producer.should_stop:
                # exactly-once: faust's transaction manager, which sends through the same (started) producer
                return app.consumer.transactions if app.in_transaction else producer
            return await original(self)

        return get_producer

    _replace(Topic, "_get_producer", wrap)


# -- reaches into faust's state ------------------------------------------------------------------------------------


def disable_web(app: Any) -> None:
    """Keep faust's web server off whichever command starts the worker: ``faust -A … worker`` switches
    ``web_enabled`` back on unless given ``--without-web``, and the boot strategy's own flag wins over the setting
    (its /table views would serve people's records)."""
    app.boot_strategy.enable_web = False


def remove_monitor(app: Any) -> None:
    """Take faust's Monitor sensor out (it keeps per-event statistics for the web views, which are off: ~2 % of
    the CPU). Idempotent: faust restarts a crashed agent, which runs the start-up again."""
    monitor = app.monitor
    if monitor in app.sensors:
        app.sensors.remove(monitor)


def kafka_producer(producer: Any) -> Any:
    """The aiokafka producer behind faust's producer (faust has no public way to it); started by the caller."""
    return producer._ensure_producer()


def last_read_offset(consumer: Any, tp: Any) -> int | None:
    """The offset of the last message faust's consumer handed to the agent on ``tp`` (None: none yet)."""
    offset = consumer._read_offset.get(tp)
    return None if offset is None else int(offset)


def commit_positions(app: Any, topic: str) -> tuple[int, int]:
    """(the sum of the committed offsets of ``topic``'s assigned partitions, the records in their logs beyond
    them): faust's committed offsets against the highwaters it last fetched. Not faust's last read offset: its seek
    after a rebalance sets that to the next offset to read, which would count one record waiting on every idle
    partition. A partition nothing was committed for yet is left out (its first commit comes with its first
    record)."""
    consumer = getattr(app, "consumer", None)
    if consumer is None:
        return 0, 0
    try:
        assignment = consumer.assignment()
    except Exception:  # consumer not started yet
        return 0, 0
    committed_sum = uncommitted = 0
    for tp in assignment:
        if tp.topic != topic:
            continue
        committed = consumer._committed_offset.get(tp)
        if committed is None:
            continue
        committed_sum += int(committed)
        high = consumer.highwater(tp)
        if high is not None:
            uncommitted += max(0, int(high) - int(committed))
    return committed_sum, uncommitted


def table_keys(table: Any, partition: int | None = None) -> Iterator[bytes]:
    """The keys a table holds in ``partition`` (every active partition when None), read lazily from each
    partition's RocksDB database (faust's public iteration walks every partition and materialises nothing better).
    A memory store (tests) is copied first: writes during the iteration must not break it."""
    store = table.data
    dbs = getattr(store, "_dbs", None)
    if dbs is None:  # faust's memory store: a dict
        keys = list(store.keys())
        if partition is None:
            yield from keys
        else:
            from streams.kafka.partitioner import partition_for_key

            yield from (key for key in keys if partition_for_key(key, table.partitions) == partition)
        return
    wanted = list(dbs) if partition is None else [partition]
    for number in wanted:
        db = dbs.get(number)
        if db is not None:
            yield from store._visible_keys(db)


def assigned_partitions(app: Any, topic: str) -> set[int] | None:
    """The partitions of ``topic`` assigned to this worker; None while unknown (no consumer or no assignment yet)."""
    consumer = getattr(app, "consumer", None)
    if consumer is None:
        return None
    try:
        assignment = consumer.assignment()
    except Exception:  # consumer not started yet
        return None
    mine = {tp.partition for tp in assignment if tp.topic == topic}
    return mine or None


def in_consumer_group(app: Any) -> bool:
    """Whether the worker's consumer is a member of its group right now: a known group coordinator, a generation,
    and no error parked for the caller. aiokafka's coordination routine parks a Kafka error in
    ``_pending_exception`` and waits until ``check_errors`` collects it, which faust's fetch path never calls, so
    a consumer can stay outside its group for good after a broker bounce (the watchdog's rejoin check)."""
    consumer = getattr(app, "consumer", None)
    kafka = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    coordinator = getattr(kafka, "_coordinator", None)
    if coordinator is None or not hasattr(coordinator, "generation"):
        return False
    return (coordinator.coordinator_id is not None and coordinator.generation > 0
            and getattr(coordinator, "_pending_exception", None) is None)


def is_recovering(app: Any) -> bool:
    """Whether the app is rebalancing or its tables are restoring from their changelogs."""
    recovery = getattr(app.tables, "recovery", None)
    return bool(getattr(app, "rebalancing", False)) or bool(getattr(recovery, "in_recovery", False))


def use_event_loop(name: str) -> None:
    """faust's own switch (``faust worker --loop uvloop`` does the same); call before the app is built."""
    import mode.loop

    mode.loop.use(name)


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True, weakref_slot=True)
class _Event:
    message: _Message


@contextmanager
def writes_to_partition(topic: str, partition: int) -> Iterator[None]:
    """Let table writes outside any event go to ``partition``: faust's table (for the changelog) and RocksDB store
    take a write's partition from the event being processed and refuse writes without one."""
    import faust.streams as faust_streams

    event = _Event(_Message(topic, partition))
    token = faust_streams._current_event.set(weakref.ref(event))  # type: ignore[arg-type]
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


class TransactionalSends:
    """faust's producer, sending each write in the transaction of the input partition it comes from.

    With ``processing_guarantee="exactly_once"`` faust keeps one transactional producer per assigned input
    partition (transactional id ``<app>-<topic group>-<partition>``) and commits the partition's offsets inside
    its transaction; a worker that takes a partition over starts a producer with the same id, which makes the
    broker abort the previous owner's open transaction and refuse its later writes (``ProducerFenced``). faust
    routes the table's changelog writes there itself; the worker's own outputs and dead letters go through this
    adapter, which picks the partition the way faust's table does: from the event being processed (or the one
    :func:`writes_to_partition` names)."""

    def __init__(self, app: Any, input_topic: str) -> None:
        self.app = app
        self.input_topic = input_topic
        self.producer = app.producer

    def transactional_id(self) -> str:
        import faust.streams as faust_streams

        event = faust_streams.current_event()
        if event is None:
            raise RuntimeError("an output sent outside any event or named partition has no transaction")
        group = self.app.assignor.group_for_topic(self.input_topic)
        return f"{self.app.conf.id}-{group}-{event.message.partition}"

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None, timestamp: Any,
                   headers: Any) -> Any:
        return await self.producer.send(topic, key, value, partition, timestamp, headers,
                                        transactional_id=self.transactional_id())

