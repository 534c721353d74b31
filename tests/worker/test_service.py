"""The worker service's in-order guard over faust's consumer (a stand-in with the attributes the patches use): a
record past a hole is not handled, not acknowledged, and its partition is read again from the hole; a hole that
outlives its rewinds stops the worker for a restart."""

from __future__ import annotations

from typing import Any

import pytest
from faust.types import TP
from faust.types.tuples import ConsumerMessage
from prometheus_client import CollectorRegistry

from streams.settings import Settings
from streams.worker.continuity import InputContinuity
from streams.worker.faust_patches import ReadOffsets
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler
from streams.worker.metrics import Metrics
from streams.worker.policies import parse_policies
from streams.worker.refresh import Refresher
from streams.worker.service import WorkerService
from streams.worker.store import DictStore

INPUT = "court.record-changes"


class _Producer:
    async def send(self, *_: Any) -> None:
        return None


class _Kafka:
    """aiokafka's consumer on faust's consumer thread: the group's commits and the seeks asked of it."""

    def __init__(self, committed: dict[TP, int]) -> None:
        self.committed_offsets = committed
        self.sought: list[tuple[TP, int]] = []

    async def committed(self, tp: TP) -> int | None:
        return self.committed_offsets.get(tp)

    def seek(self, tp: TP, offset: int) -> None:
        self.sought.append((tp, offset))


class _Thread:
    def __init__(self, kafka: _Kafka) -> None:
        self.kafka = kafka

    def _ensure_consumer(self) -> _Kafka:
        return self.kafka

    async def call_thread(self, fn: Any, *args: Any) -> Any:
        return await fn(*args)


class _Consumer:
    def __init__(self, kafka: _Kafka, assigned: set[TP]) -> None:
        self._thread = _Thread(kafka)
        self._committed_offset: dict[TP, int | None] = {}
        self._read_offset = ReadOffsets()
        self._unacked_messages: set[Any] = set()
        self.assigned = assigned
        self.acked: list[int] = []

    def assignment(self) -> set[TP]:
        return self.assigned

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, 0)

    def ack(self, message: Any) -> bool:
        self.acked.append(message.offset)
        return True


class _App:
    producer = _Producer()
    tables: Any = None
    rebalancing = False

    def __init__(self, consumer: _Consumer) -> None:
        self.consumer = consumer


def _service(consumer: _Consumer) -> WorkerService:
    config = Settings(bootstrap="127.0.0.1:1", metrics_port=0, partitions=4)
    metrics = Metrics.create(CollectorRegistry())
    handler = EventHandler(_App.producer, config, parse_policies({"counties": {}}), metrics, DictStore(),
                           Gauges(metrics, INPUT))
    service = WorkerService(_App(consumer), config, handler, Refresher(handler))
    service.input_topic = INPUT
    return service


def _message(consumer: _Consumer, partition: int, offset: int) -> ConsumerMessage:
    """A message as faust's stream hands it to the agent: tracked as unacknowledged, one reference."""
    message = ConsumerMessage(INPUT, partition, offset, 0.0, 0, None, b"k", b"v", None)
    message.refcount = 1
    consumer._unacked_messages.add(message)
    return message


async def _hand_over(service: WorkerService, consumer: _Consumer, partition: int, offsets: list[int]) -> list[int]:
    """The agent's loop: handle what in_order allows, then the stream's ack; returns the offsets handled."""
    handled = []
    for offset in offsets:
        message = _message(consumer, partition, offset)
        if await service.in_order(message):
            service.handled(partition, offset)
            handled.append(offset)
        message.ack(consumer)
    return handled


async def test_a_record_past_a_hole_waits_unacknowledged_while_the_partition_is_read_again_from_the_hole() -> None:
    tp = TP(INPUT, 1)
    kafka = _Kafka({tp: 3315})  # the broker's commit: faust's own seek after the rebalance is not done yet
    consumer = _Consumer(kafka, {tp})
    consumer._read_offset[tp] = 3316
    service = _service(consumer)
    # 3315 was fetched in the old generation and dropped by faust; 3316 and 3317 come first
    assert await _hand_over(service, consumer, 1, [3316, 3317]) == []
    assert kafka.sought == [(tp, 3315)]  # one rewind; the record after it is passed over while it runs
    assert consumer._read_offset[tp] == 3315  # faust's drain lets the records from 3315 through again
    consumer._read_offset[tp] = 3318  # ... even while it still hands over the batch fetched before the rewind
    assert consumer._read_offset[tp] == 3315
    assert consumer.acked == [] and consumer._unacked_messages == set()  # no commit can cover 3315 yet
    assert service.metrics.input_rewinds._value.get() == 1
    assert await _hand_over(service, consumer, 1, [3315, 3316, 3317]) == [3315, 3316, 3317]
    assert consumer.acked == [3315, 3316, 3317] and service.continuity.hole(1) is None


async def test_a_partition_with_nothing_committed_starts_at_the_log_start_and_a_revoked_one_is_not_sought() -> None:
    tp = TP(INPUT, 0)
    kafka = _Kafka({})
    consumer = _Consumer(kafka, set())  # revoked while its buffered records were still being handed over
    service = _service(consumer)
    assert await _hand_over(service, consumer, 0, [0, 1, 5]) == []  # not this worker's: its next owner's
    assert kafka.sought == [] and not service.continuity.knows(0)  # the next owner reads it from its commit
    assert consumer.acked == []
    consumer.assigned = {tp}
    # assigned again, nothing committed yet: read from the log's start, so a later record first is a hole
    assert await _hand_over(service, consumer, 0, [2, 0]) == [0]
    assert kafka.sought == [(tp, 0)]


async def test_a_hole_that_rewinds_do_not_fill_stops_the_worker_for_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    tp = TP(INPUT, 2)
    kafka = _Kafka({tp: 10})
    consumer = _Consumer(kafka, {tp})
    service = _service(consumer)
    service.continuity = InputContinuity(rewind_every_s=0.0, max_rewinds=2)
    stops: list[str] = []
    monkeypatch.setattr(service, "stop_for_restart", stops.append)
    assert await _hand_over(service, consumer, 2, [12, 13]) == []
    assert kafka.sought == [(tp, 10), (tp, 10)] and stops == []
    await service._rewind_overdue()  # the housekeeping timer's turn: no record came
    assert len(stops) == 1 and "input partition 2 still skips offset 10 after 2 rewinds" in stops[0]
    assert consumer.acked == []


async def test_a_partition_revoked_while_its_record_was_handled_is_not_remembered() -> None:
    """Revocations do not wait for the agent: a record handled across one must not bring the partition back,
    or its return would skip the start from the committed offset (and the hole check with it)."""
    tp = TP(INPUT, 3)
    kafka = _Kafka({tp: 7})
    consumer = _Consumer(kafka, {tp})
    service = _service(consumer)
    assert await service.in_order(_message(consumer, 3, 7))
    service.on_revoked({tp})  # while the handler awaits
    service.handled(3, 7)
    assert not service.continuity.knows(3)
    kafka.committed_offsets[tp] = 5  # assigned again; commits lag: the group's is before what was handled
    assert await _hand_over(service, consumer, 3, [8]) == []  # 5–7 are read again first
    assert kafka.sought == [(tp, 5)]


async def test_a_start_the_broker_cannot_tell_stops_the_worker_for_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka.errors import KafkaConnectionError

    tp = TP(INPUT, 1)
    kafka = _Kafka({})

    async def committed(_: TP) -> int | None:
        raise KafkaConnectionError("broker down")

    monkeypatch.setattr(kafka, "committed", committed)
    consumer = _Consumer(kafka, {tp})
    service = _service(consumer)
    stops: list[str] = []
    monkeypatch.setattr(service, "stop_for_restart", stops.append)
    assert await _hand_over(service, consumer, 1, [4]) == []
    assert consumer.acked == [] and len(stops) == 1
    assert "committed offset could not be read (KafkaConnectionError)" in stops[0]


async def test_a_rewind_whose_seek_fails_forgets_the_partition_and_finds_the_hole_again() -> None:
    from aiokafka.errors import IllegalStateError

    tp = TP(INPUT, 0)
    kafka = _Kafka({tp: 10})
    consumer = _Consumer(kafka, {tp})
    service = _service(consumer)

    def seek(_: TP, __: int) -> None:
        raise IllegalStateError("No current assignment for partition")  # revoked between the check and the seek

    kafka.seek = seek  # type: ignore[method-assign]
    assert await _hand_over(service, consumer, 0, [12]) == []
    assert not service.continuity.knows(0) and consumer.acked == []


def test_a_stop_under_way_ends_the_process_after_the_grace_even_when_faust_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """faust's stop can wait forever (a crash under exactly_once after a broker kill -9): the deadline armed when
    the stop begins exits with the watchdog's status, once however often it is armed."""
    import threading
    import time

    from streams.worker import service as service_module

    exits: list[tuple[int, str]] = []
    fired = threading.Event()

    def record(code: int, why: str) -> None:
        exits.append((code, why))
        fired.set()

    monkeypatch.setattr(service_module, "_exit_now", record)
    monkeypatch.setattr(service_module, "STOP_GRACE_S", 0.05)
    service = _service(_Consumer(_Kafka({}), set()))
    service.arm_stop_deadline()
    service.arm_stop_deadline()
    assert fired.wait(5)
    time.sleep(0.2)
    assert exits == [(service_module.WATCHDOG_EXIT, "no orderly stop within 0.05 s")]
