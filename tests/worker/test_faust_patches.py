"""The faust patches keep faust's semantics: only the cost of the common case changes."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance, GroupCoordinator
from aiokafka.producer.sender import SendProduceReqHandler
from aiokafka.protocol.group import JoinGroupRequest
from faust.topics import Topic

from streams.worker import faust_patches
from streams.worker.faust_patches import FaustVersionError, check_version
from streams.worker.lease import FENCED_EXIT_CODE, Lease


@pytest.fixture(autouse=True, scope="module")
def _patched() -> None:
    """The patch these tests pin, applied as ``create_app`` applies it (not at import)."""
    faust_patches.publish_without_yield()


def test_the_installed_faust_is_in_the_tested_range_and_others_are_refused() -> None:
    assert check_version().startswith("0.15.")
    assert check_version("0.15.9") == "0.15.9"
    for version in ("0.14.2", "0.16.0", "1.0.0"):
        with pytest.raises(FaustVersionError, match=f"faust-streaming {version} is not supported"):
            check_version(version)


def test_removing_the_monitor_twice_is_harmless() -> None:
    monitor = object()
    app = SimpleNamespace(monitor=monitor, sensors={monitor, "other"})
    faust_patches.remove_monitor(app)
    faust_patches.remove_monitor(app)  # faust restarts a crashed agent, which runs the start-up again
    assert app.sensors == {"other"}


async def test_a_running_producer_is_returned_without_a_loop_turn() -> None:
    producer = SimpleNamespace(started=True, should_stop=False)
    app = SimpleNamespace(in_transaction=False, producer=producer)
    coro = Topic._get_producer(SimpleNamespace(app=app))  # type: ignore[arg-type]
    with pytest.raises(StopIteration) as done:
        coro.send(None)  # completes at its first step: no sleep(0)
    assert done.value.value is producer


async def test_a_producer_not_yet_started_is_started_by_faust() -> None:
    producer = SimpleNamespace(started=False, should_stop=False)
    started: list[bool] = []

    async def maybe_start_producer() -> Any:
        started.append(True)
        return producer

    app = SimpleNamespace(in_transaction=False, producer=producer, maybe_start_producer=maybe_start_producer)
    assert await Topic._get_producer(SimpleNamespace(app=app)) is producer  # type: ignore[arg-type]
    assert started == [True]


async def test_faust_consumers_get_the_short_fetch_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka import AIOKafkaConsumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    # the attribute the patch sets is the one aiokafka's fetcher is built from
    assert AIOKafkaConsumer(fetch_max_wait_ms=123)._fetch_max_wait_ms == 123
    built = SimpleNamespace(_fetch_max_wait_ms=1500)  # faust's hard-coded value
    monkeypatch.setattr(AIOKafkaConsumerThread, "_clearance_original__create_worker_consumer",
                        lambda self, transport: built, raising=False)
    monkeypatch.setattr(AIOKafkaConsumerThread, "_create_worker_consumer",
                        AIOKafkaConsumerThread._create_worker_consumer)
    faust_patches.shorten_fetch_wait(50)
    assert AIOKafkaConsumerThread._create_worker_consumer(None, None) is built  # type: ignore[arg-type]
    assert built._fetch_max_wait_ms == 50


def test_a_patch_applied_again_wraps_the_original_not_its_own_wrapper() -> None:
    class Target:
        def name(self) -> str:
            return "faust"

    def wrap(original: Any) -> Any:
        return lambda self: f"patched({original(self)})"

    faust_patches._replace(Target, "name", wrap)
    faust_patches._replace(Target, "name", wrap)  # every create_app applies the patches
    assert Target().name() == "patched(faust)"


def test_a_lease_holds_from_a_proof_sent_until_the_session_timeout_less_the_margin() -> None:
    lease = Lease(session_timeout=10.0, margin=1.0)
    assert lease.valid(0.0) and lease.lapsed_for(5.0) == 0  # not in a group yet: nothing to fence
    lease.renew(100.0)
    lease.renew(99.0)  # an older proof answered late does not move it back
    assert lease.valid(108.9) and not lease.valid(109.0)
    assert lease.lapsed_for(111.5) == pytest.approx(2.5)


@pytest.fixture
def fence(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh lease and the fence's hooks over stand-ins for what aiokafka does below them; every patched
    method is put back afterwards. Yields (lease, exits, sends)."""
    exits: list[int] = []
    sends: list[Any] = []

    async def produce(self: Any, node_id: Any) -> str:
        sends.append(node_id)
        return "sent"

    async def heartbeat(self: Any) -> Any:
        return self.answer

    async def sync(self: Any, request: Any) -> Any:
        return self.assignment

    async def leave(self: Any) -> None:
        self.reset_generation()

    def reset(self: Any) -> None:
        self.member_id = JoinGroupRequest.UNKNOWN_MEMBER_ID

    for cls, name, stand_in in ((SendProduceReqHandler, "do", produce), (GroupCoordinator, "_do_heartbeat", heartbeat),
                                (CoordinatorGroupRebalance, "_send_sync_group_request", sync),
                                (GroupCoordinator, "_maybe_leave_group", leave),
                                (GroupCoordinator, "reset_generation", reset)):
        monkeypatch.setattr(cls, name, getattr(cls, name))
        monkeypatch.setattr(cls, f"_clearance_original_{name}", stand_in, raising=False)
    monkeypatch.setattr(faust_patches, "_lease", None)
    monkeypatch.setattr(faust_patches, "_exit", exits.append)
    lease = faust_patches.fence_zombie_writes(10.0)
    return lease, exits, sends


async def test_a_worker_past_its_lease_holds_its_writes_until_a_heartbeat_proves_it_is_still_in_the_group(
    fence: Any,
) -> None:
    lease, exits, sends = fence
    coordinator = SimpleNamespace(_client=SimpleNamespace(_clearance_lease=lease), answer=True)
    handler = SimpleNamespace(_client=coordinator._client)
    lease.renew(time.monotonic() - 30)  # thawed after a 30 s freeze: the group may have given the partitions away
    sending = asyncio.ensure_future(SendProduceReqHandler.do(handler, 1))  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert not sending.done() and sends == []  # held: no produce request reaches the broker
    assert await GroupCoordinator._do_heartbeat(coordinator) is True  # type: ignore[arg-type]
    assert await asyncio.wait_for(sending, 5) == "sent"  # the same membership was still there: the writes go out
    assert sends == [1] and exits == []


async def test_a_group_sync_renews_the_lease_and_other_clients_are_never_held(fence: Any) -> None:
    lease, _, sends = fence
    lease.renew(time.monotonic() - 30)
    rebalance = SimpleNamespace(_coordinator=SimpleNamespace(_client=SimpleNamespace(_clearance_lease=lease)),
                                assignment=b"assigned")
    stranger = SimpleNamespace(_client=SimpleNamespace())  # e.g. a replay producer in the same process
    assert await asyncio.wait_for(SendProduceReqHandler.do(stranger, 7), 2) == "sent"  # type: ignore[arg-type]
    assert not lease.valid(time.monotonic())
    assert await CoordinatorGroupRebalance._send_sync_group_request(rebalance, None) == b"assigned"  # type: ignore
    assert lease.valid(time.monotonic())
    assert await asyncio.wait_for(SendProduceReqHandler.do(SimpleNamespace(_client=rebalance._coordinator._client),
                                                           2), 2) == "sent"  # type: ignore[arg-type]
    assert sends == [7, 2]


async def test_a_worker_the_group_dropped_exits_at_once_and_one_leaving_on_its_own_does_not(fence: Any) -> None:
    lease, exits, _ = fence
    dropped = SimpleNamespace(_client=SimpleNamespace(_clearance_lease=lease), member_id="m-1")
    GroupCoordinator.reset_generation(dropped)  # type: ignore[arg-type]  # "unknown member id" from the broker
    assert exits == [FENCED_EXIT_CODE]
    leaving = SimpleNamespace(_client=SimpleNamespace(_clearance_lease=lease), member_id="m-2")
    leaving.reset_generation = lambda: GroupCoordinator.reset_generation(leaving)  # type: ignore[arg-type]
    await GroupCoordinator._maybe_leave_group(leaving)  # type: ignore[arg-type]  # shutdown
    stranger = SimpleNamespace(_client=SimpleNamespace(), member_id="m-3")  # not the worker's consumer
    GroupCoordinator.reset_generation(stranger)  # type: ignore[arg-type]
    never_joined = SimpleNamespace(_client=dropped._client, member_id=JoinGroupRequest.UNKNOWN_MEMBER_ID)
    GroupCoordinator.reset_generation(never_joined)  # type: ignore[arg-type]
    assert exits == [FENCED_EXIT_CODE]
    assert leaving.member_id == stranger.member_id == JoinGroupRequest.UNKNOWN_MEMBER_ID


def test_only_the_workers_own_consumer_and_producer_carry_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Producer

    built = SimpleNamespace(_client=SimpleNamespace(), client=SimpleNamespace())
    for cls, name in ((AIOKafkaConsumerThread, "_create_consumer"), (Producer, "_new_producer")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
        monkeypatch.setattr(cls, f"_clearance_original_{name}", lambda self, arg=None: built, raising=False)
    monkeypatch.setattr(faust_patches, "_lease", None)
    lease = faust_patches.fence_zombie_writes(10.0)
    client_only = SimpleNamespace(app=SimpleNamespace(client_only=True))
    AIOKafkaConsumerThread._create_consumer(client_only, None)  # type: ignore[arg-type]
    assert not hasattr(built._client, "_clearance_lease")
    AIOKafkaConsumerThread._create_consumer(SimpleNamespace(app=SimpleNamespace(client_only=False)), None)  # type: ignore
    Producer._new_producer(None)  # type: ignore[arg-type]
    assert built._client._clearance_lease is lease and built.client._clearance_lease is lease


async def test_outputs_join_the_transaction_of_the_input_partition_they_come_from() -> None:
    sent: list[tuple[Any, ...]] = []

    async def send(*args: Any, transactional_id: str | None = None) -> str:
        sent.append((*args, transactional_id))
        return "future"

    app = SimpleNamespace(producer=SimpleNamespace(send=send), conf=SimpleNamespace(id="app"),
                          assignor=SimpleNamespace(group_for_topic=lambda topic: {"in": 1}[topic]))
    sends = faust_patches.TransactionalSends(app, "in")
    with pytest.raises(RuntimeError, match="no transaction"):  # never an unfenced write
        await sends.send("out", b"k", b"v", 0, None, None)
    with faust_patches.writes_to_partition("in", 3):  # as during an event of partition 3, or the refresh
        assert await sends.send("out", b"k", b"v", 5, None, None) == "future"
    # faust's own transactional id for partition 3 of the input's topic group; the output keeps its partition
    assert sent == [("out", b"k", b"v", 5, None, None, "app-1-3")]


async def test_recovery_reads_up_to_the_logs_end_offsets_and_the_consumer_reads_uncommitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    for name in ("_highwaters", "highwater", "_create_consumer"):
        monkeypatch.setattr(AIOKafkaConsumerThread, name, getattr(AIOKafkaConsumerThread, name))
    built = SimpleNamespace(_client=SimpleNamespace(), _isolation_level="read_committed")
    monkeypatch.setattr(AIOKafkaConsumerThread, "_clearance_original__create_consumer", lambda self, loop: built,
                        raising=False)
    monkeypatch.setattr(faust_patches, "_lease", None)
    faust_patches.fence_zombie_writes(10.0)  # the consumer's creation (isolation)
    faust_patches.exactly_once_fixes()  # the highwaters

    async def end_offsets(partitions: Any) -> dict[str, int]:
        return {tp: 42 for tp in partitions}

    # faust's exactly-once branch would ask last_stable_offset, None for a partition not fetched yet
    consumer = SimpleNamespace(end_offsets=end_offsets, highwater=lambda tp: 41,
                               last_stable_offset=lambda tp: None)
    thread = SimpleNamespace(_ensure_consumer=lambda: consumer, consumer=SimpleNamespace(in_transaction=True),
                             app=SimpleNamespace(client_only=False))
    assert await AIOKafkaConsumerThread._highwaters(thread, ["tp"]) == {"tp": 42}  # type: ignore[arg-type]
    assert AIOKafkaConsumerThread.highwater(thread, "tp") == 41  # type: ignore[arg-type]
    AIOKafkaConsumerThread._create_consumer(thread, None)  # type: ignore[arg-type]
    assert built._isolation_level == "read_uncommitted"


async def test_a_partition_kept_over_a_rebalance_keeps_its_open_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    from faust.transport.drivers.aiokafka import Producer

    begun: list[str] = []

    async def original(self: Any, transactional_id: str) -> None:
        begun.append(transactional_id)

    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    for name in ("_highwaters", "highwater"):  # also replaced by exactly_once_fixes: restored after the test
        monkeypatch.setattr(AIOKafkaConsumerThread, name, getattr(AIOKafkaConsumerThread, name))
    monkeypatch.setattr(Producer, "maybe_begin_transaction", Producer.maybe_begin_transaction)
    monkeypatch.setattr(Producer, "_clearance_original_maybe_begin_transaction", original, raising=False)
    faust_patches.exactly_once_fixes()
    open_one = SimpleNamespace(_txn_manager=SimpleNamespace(is_in_transaction=lambda: True))
    idle = SimpleNamespace(_txn_manager=SimpleNamespace(is_in_transaction=lambda: False))
    producer = SimpleNamespace(_transaction_producers={"kept": open_one, "idle": idle})
    for tid in ("kept", "idle", "new"):
        await Producer.maybe_begin_transaction(producer, tid)  # type: ignore[arg-type]
    assert begun == ["idle", "new"]  # faust begins (and starts a producer for) the others as before


async def test_seeking_to_committed_also_rewinds_input_partitions_nothing_was_committed_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """faust drops the rest of a fetched batch when a rebalance or the end of a recovery stops its flow, and counts
    on the next seek to the committed offsets to fetch it again; aiokafka seeks only partitions committed above 0,
    so those without a commit (None) go back to the reset position and those committed at 0 to 0."""
    from aiokafka.consumer.fetcher import OffsetResetStrategy
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    monkeypatch.setattr(AIOKafkaConsumerThread, "seek_to_committed", AIOKafkaConsumerThread.seek_to_committed)
    faust_patches.rewind_uncommitted_partitions()
    committed = {"in-0": 7, "in-1": None, "in-2": 0, "changelog-0": None}
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Kafka:
        _fetcher = SimpleNamespace(_default_reset_strategy=OffsetResetStrategy.EARLIEST)

        async def seek_to_committed(self) -> dict[str, int | None]:
            calls.append(("committed", ()))  # aiokafka seeks in-0 to 7 itself
            return dict(committed)

        def seek(self, tp: str, offset: int) -> None:
            calls.append(("seek", (tp, offset)))

        async def seek_to_beginning(self, *tps: str) -> None:
            calls.append(("beginning", tps))

        async def seek_to_end(self, *tps: str) -> None:
            calls.append(("end", tps))

    kafka = Kafka()

    async def call_thread(fun: Any, *args: Any) -> Any:
        return await fun(*args)

    thread = SimpleNamespace(call_thread=call_thread, _ensure_consumer=lambda: kafka,
                             consumer=SimpleNamespace(_is_changelog_tp=lambda tp: tp.startswith("changelog")))
    assert await AIOKafkaConsumerThread.seek_to_committed(thread) == committed  # type: ignore[arg-type]
    assert calls == [("committed", ()), ("seek", ("in-2", 0)), ("beginning", ("in-1",))]
    calls.clear()
    Kafka._fetcher._default_reset_strategy = OffsetResetStrategy.LATEST
    await AIOKafkaConsumerThread.seek_to_committed(thread)  # type: ignore[arg-type]
    assert calls == [("committed", ()), ("seek", ("in-2", 0)), ("end", ("in-1",))]


async def test_an_offset_jump_on_the_input_is_not_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    """faust acknowledges a jump in a partition's offsets (offsets no message has, on compacted or transactional
    topics); on the input it means fetched records were dropped, so the range stays unacknowledged and commits stop
    before it. Other topics keep faust's behaviour."""
    from faust.transport.consumer import Consumer

    acknowledged: list[tuple[str, int, int]] = []

    async def original(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        acknowledged.append((tp.topic, offset_from, offset_to))

    monkeypatch.setattr(Consumer, "_add_gap", Consumer._add_gap)
    monkeypatch.setattr(Consumer, "_clearance_original__add_gap", original, raising=False)
    monkeypatch.setattr(faust_patches, "_gapless_topics", set())
    faust_patches.unacked_input_gaps()
    faust_patches.never_acknowledge_gaps("input")
    consumer = SimpleNamespace()
    # faust calls _add_gap(tp, last read + 1, offset of the record that arrived)
    await Consumer._add_gap(consumer, SimpleNamespace(topic="input", partition=2), 21, 26)  # type: ignore[arg-type]
    await Consumer._add_gap(consumer, SimpleNamespace(topic="changelog", partition=2), 5, 9)  # type: ignore[arg-type]
    assert acknowledged == [("changelog", 5, 9)]


class _ConsumerThread:
    """faust's consumer thread as the patches use it: ``call_thread`` runs a coroutine function on it."""

    def __init__(self, kafka: Any) -> None:
        self.kafka = kafka
        self.calls = 0

    def _ensure_consumer(self) -> Any:
        return self.kafka

    async def call_thread(self, fn: Any, *args: Any) -> Any:
        self.calls += 1
        return await fn(*args)


async def test_a_partition_starts_at_its_committed_offset_as_faust_or_the_broker_knows_it_or_at_the_log_start(
) -> None:
    from faust.types import TP

    asked: list[Any] = []

    async def earliest_offsets(*tps: Any) -> dict[Any, int]:
        asked.extend(tps)
        return {tp: 0 if tp == TP("in", 3) else 3 for tp in tps}

    async def committed(tp: Any) -> int | None:  # the group's committed offsets on the broker
        return {TP("in", 1): 17, TP("in", 3): 0}.get(tp)

    thread = _ConsumerThread(SimpleNamespace(committed=committed))
    consumer = SimpleNamespace(_committed_offset={TP("in", 0): 42, TP("in", 1): None, TP("in", 2): 0},
                               earliest_offsets=earliest_offsets, _thread=thread)
    app = SimpleNamespace(consumer=consumer)
    assert await faust_patches.start_offset(app, "in", 0) == 42
    assert thread.calls == 0  # faust's seek after the rebalance already asked the broker
    # a record handed over before faust's seek is done (faust forgot the offset at the revocation): the broker's
    assert await faust_patches.start_offset(app, "in", 1) == 17
    assert await faust_patches.start_offset(app, "in", 3) == 0  # committed 0 (faust keeps it as "none")
    assert await faust_patches.start_offset(app, "in", 2) == 3  # nothing committed: the log's first offset
    assert await faust_patches.start_offset(app, "in", 4) == 3  # nothing committed on the broker either
    consumer._committed_offset[TP("in", 5)] = 1  # committed, then its records deleted (retention): the log start
    assert await faust_patches.start_offset(app, "in", 5) == 3


async def test_a_rewind_seeks_on_the_consumers_thread_and_lets_faust_pass_the_records_again() -> None:
    from faust.types import TP

    sought: list[tuple[Any, int]] = []
    thread = _ConsumerThread(SimpleNamespace(seek=lambda tp, offset: sought.append((tp, offset))))
    read_offsets = faust_patches.ReadOffsets()
    read_offsets[TP("in", 0)] = 90
    consumer = SimpleNamespace(assignment=lambda: {TP("in", 0)}, _thread=thread, _read_offset=read_offsets)
    app = SimpleNamespace(consumer=consumer)
    assert await faust_patches.rewind(app, "in", 0, 40)
    assert sought == [(TP("in", 0), 40)] and thread.calls == 1
    assert consumer._read_offset[TP("in", 0)] == 40  # faust's drain drops records below its last read offset
    assert read_offsets.rewound == {TP("in", 0): 40}
    assert not await faust_patches.rewind(app, "in", 1, 5)  # not assigned (revoked meanwhile): nothing to seek
    assert sought == [(TP("in", 0), 40)]


def test_read_offsets_honour_a_rewind_until_the_record_at_it_is_read_again() -> None:
    offsets = faust_patches.ReadOffsets()
    assert offsets["a"] is None  # faust's default: nothing read yet
    offsets["a"] = 90
    offsets.rewind("a", 40)
    assert offsets["a"] == 40
    offsets["a"] = 91  # the drain still handing over the batch from before the rewind
    assert offsets["a"] == 40  # ignored: else the drain would drop the records read again (40–90)
    offsets["a"] = 40
    offsets["a"] = 41
    assert offsets["a"] == 41 and offsets.rewound == {}
    offsets.rewind("b", 7)
    assert offsets.pop("b") == 7 and offsets.rewound == {}  # revoked
    offsets.rewind("c", 3)
    del offsets["c"]
    assert offsets.rewound == {}


def test_faust_consumers_get_the_rewindable_read_offsets() -> None:
    """The mapping replaces faust's own right after faust's constructor (which is run here as a recorder)."""
    from faust.transport.consumer import Consumer

    faust_patches.rewindable_read_offsets()
    original, wrapped = Consumer._clearance_original___init__, Consumer.__init__  # type: ignore[attr-defined]
    constructed: list[Any] = []
    try:
        Consumer._clearance_original___init__ = lambda self, *a, **k: constructed.append(a)  # type: ignore[attr-defined]
        faust_patches.rewindable_read_offsets()  # applied again: wraps the kept original, not its own wrapper
        from faust.transport.drivers.aiokafka import Consumer as KafkaConsumer  # the worker's (concrete) consumer

        consumer = object.__new__(KafkaConsumer)
        Consumer.__init__(consumer, "transport", callback=None)
        assert constructed == [("transport",)] and isinstance(consumer._read_offset, faust_patches.ReadOffsets)
    finally:
        Consumer._clearance_original___init__ = original  # type: ignore[attr-defined]
        Consumer.__init__ = wrapped  # type: ignore[method-assign]


def test_a_message_left_unacknowledged_never_reaches_the_acknowledged_offsets() -> None:
    from faust.types.tuples import ConsumerMessage

    message = ConsumerMessage("in", 0, 41, 0.0, 0, None, b"k", b"v", None)
    message.refcount = 1
    unacked = {message}
    acked_by_consumer: list[Any] = []
    consumer = SimpleNamespace(_unacked_messages=unacked, ack=lambda m: acked_by_consumer.append(m) or True)
    faust_patches.leave_unacknowledged(SimpleNamespace(consumer=consumer), message)
    assert unacked == set()  # faust's wait for unacknowledged messages at a rebalance does not wait for it
    assert message.ack(consumer) is False and acked_by_consumer == []  # the stream's ack after the agent moves on


def test_a_message_the_agent_handled_is_acknowledged_through_the_consumer() -> None:
    """The path :func:`faust_patches.leave_unacknowledged` cuts: faust's final ack goes to the consumer."""
    from faust.types.tuples import ConsumerMessage

    message = ConsumerMessage("in", 0, 41, 0.0, 0, None, b"k", b"v", None)
    message.refcount = 1
    acked_by_consumer: list[Any] = []
    consumer = SimpleNamespace(ack=lambda m: acked_by_consumer.append(m) or True)
    assert message.ack(consumer) is True and acked_by_consumer == [message]


def test_commit_positions_sum_the_committed_offsets_and_the_records_beyond_them() -> None:
    from faust.types import TP

    a, b, c, d, other = TP("in", 0), TP("in", 1), TP("in", 2), TP("in", 3), TP("changelog", 0)
    highwaters = {a: 56, b: 10, d: 30, other: 100}
    consumer = SimpleNamespace(assignment=lambda: {a, b, c, d, other},
                               _read_offset={a: 55, b: 10, other: 100},  # b: faust's seek set it to the next offset
                               _committed_offset={a: 8, b: 10, c: 4, d: None, other: 3},
                               highwater=highwaters.get)
    # a: 48 records beyond the commit; b: idle, all committed (its read offset is the next one: not counted);
    # c: no highwater fetched yet; d: nothing committed yet (its first record brings its first commit)
    assert faust_patches.commit_positions(SimpleNamespace(consumer=consumer), "in") == (8 + 10 + 4, 48)
    assert faust_patches.commit_positions(SimpleNamespace(consumer=None), "in") == (0, 0)
