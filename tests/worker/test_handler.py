"""The worker's per-event shell without Kafka: a dict for the table, a recording producer, a fresh registry.

The broker tests prove the wiring; these pin the shell's decisions — what is sent where, what is dead-lettered,
what a re-delivered offset does, and what the gauges say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from factories import LA, conviction
from prometheus_client import CollectorRegistry

import streams.worker.handler as handler_module
from streams.settings import Settings
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler
from streams.worker.metrics import Metrics
from streams.worker.policies import parse_policies
from streams.worker.refresh import Refresher
from streams.worker.service import WorkerService
from streams.worker.store import DictStore

LA_POLICY = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}


@dataclass
class RecordingProducer:
    sent: list[tuple[str, bytes | None, dict[str, Any]]] = field(default_factory=list)
    partitions: list[int | None] = field(default_factory=list)

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None, *_: Any) -> None:
        self.sent.append((topic, key, json.loads(value)))
        self.partitions.append(partition)


@dataclass
class FakeApp:
    producer: RecordingProducer = field(default_factory=RecordingProducer)
    tables: Any = None
    consumer: Any = None
    rebalancing: bool = False


def make_worker(policies: dict[str, Any] = LA_POLICY) -> tuple[WorkerService, FakeApp, Metrics]:
    """A ready worker service on a dict store and a recording producer (its handler is ``service.handler``)."""
    app = FakeApp()
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="p.", metrics_port=0, partitions=4)
    metrics = Metrics.create(CollectorRegistry())
    gauges = Gauges(metrics, settings.topic("court.record-changes"))
    handler = EventHandler(app.producer, settings, parse_policies(policies), metrics, DictStore(), gauges)
    service = WorkerService(app, settings, handler, Refresher(handler))
    service.ready = True
    return service, app, metrics


def make_runtime(policies: dict[str, Any] = LA_POLICY) -> tuple[EventHandler, FakeApp, Metrics]:
    service, app, metrics = make_worker(policies)
    return service.handler, app, metrics


def table(handler: EventHandler) -> dict[bytes, bytes]:
    return handler.store.data  # type: ignore[attr-defined,no-any-return]


def event(subject: str = "S1", *records: dict[str, Any], event_id: str = "e1") -> bytes:
    changes = [{"op": "upserted", "record_key": f"r{i}", "sequence": i, "record": r} for i, r in enumerate(records)]
    return json.dumps({"schema": "record-change.v1", "event_id": event_id, "type": "record.upserted",
                       "source_agency": "TEST", "emitted_at": datetime.now(UTC).isoformat(), "subject_id": subject,
                       "changes": changes}).encode()


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_an_event_sends_determinations_and_candidates_keyed_by_conviction() -> None:
    runtime, app, metrics = make_runtime()
    await runtime.handle(b"S1", event("S1", conviction("001001001000", "11359 HS", "20100101")),
                         "p.court.record-changes", 2, 10)
    topics = [(topic, key) for topic, key, _ in app.producer.sent]
    assert topics == [("p.clearance.determinations", b"S1:001001001000"),
                      ("p.clearance.dismissal-candidates", b"S1:001001001000")]
    assert b"S1" in table(runtime)
    assert value(metrics, "clearance_events_consumed_total", type="record.upserted") == 1
    assert value(metrics, "clearance_determinations_emitted_total", flow="los_angeles", county=LA,
                 determination="Eligible for Dismissal") == 1


async def test_outputs_go_to_the_partition_kafkas_default_partitioner_picks() -> None:
    runtime, app, _ = make_runtime()
    raw = event("S1", conviction("001001001000", "11359 HS", "20100101"), conviction("002001001000", "11357 HS",
                                                                                  "20110101"))
    await runtime.handle(b"S1", raw, "p.court.record-changes", 2, 10)
    assert set(app.producer.partitions) == {None}  # partition counts unknown: the producer picks
    runtime.output_partitions = {"p.clearance.determinations": 7, "p.clearance.dismissal-candidates": 5}
    await runtime.handle(b"S2", event("S2", conviction("001001001000", "11359 HS", "20100101"),
                                      conviction("002001001000", "11357 HS", "20110101")),
                         "p.court.record-changes", 2, 11)
    picked = list(zip(app.producer.sent, app.producer.partitions, strict=True))[len(app.producer.sent) // 2:]
    assert len(picked) >= 3
    for (topic, key, _), partition in picked:
        count = 7 if topic == "p.clearance.determinations" else 5
        assert partition == (aiokafka_murmur2(key) & 0x7FFFFFFF) % count


async def test_a_redelivered_offset_resends_the_same_bytes_and_changes_nothing() -> None:
    runtime, app, _ = make_runtime()
    raw = event("S1", conviction("001001001000", "11359 HS", "20100101"))
    await runtime.handle(b"S1", raw, "p.court.record-changes", 2, 10)
    first, state = list(app.producer.sent), dict(table(runtime))
    await runtime.handle(b"S1", raw, "p.court.record-changes", 2, 10)
    assert app.producer.sent[len(first):] == first
    assert table(runtime) == state


@pytest.mark.parametrize(
    ("key", "raw", "kind"),
    [
        (b"S1", b"{oops", "not_json"),
        (b"S2", event("S1"), "schema"),  # the key must be the subject id
        (None, event("S1"), "schema"),
        (b"S1", json.dumps({"schema": "record-change.v9"}).encode(), "unknown_type"),
    ],
)
async def test_bad_input_is_dead_lettered_with_its_reason(key: bytes | None, raw: bytes, kind: str) -> None:
    runtime, app, metrics = make_runtime()
    await runtime.handle(key, raw, "p.court.record-changes", 1, 7)
    [(topic, dlq_key, letter)] = app.producer.sent
    assert (topic, dlq_key, letter["error_kind"]) == ("p.court.record-changes.dlq", key, kind)
    assert letter["source"] == {"topic": "p.court.record-changes", "partition": 1, "offset": 7}
    assert value(metrics, "clearance_invalid_events_total", kind=kind) == 1
    assert table(runtime) == {}


async def test_a_failure_in_the_rules_is_dead_lettered_and_the_next_event_still_works(monkeypatch) -> None:
    runtime, app, metrics = make_runtime()

    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(handler_module, "reclassify", broken)
    await runtime.handle(b"S1", event("S1", conviction("001001001000", "11359 HS", "20100101")),
                         "p.court.record-changes", 0, 1)
    assert [letter["error_kind"] for _, _, letter in app.producer.sent] == ["processing"]
    monkeypatch.undo()
    await runtime.handle(b"S9", event("S9", conviction("001001001000", "11359 HS", "20100101", subject="S9")),
                         "p.court.record-changes", 0, 2)
    assert app.producer.sent[-1][0] == "p.clearance.dismissal-candidates"
    assert value(metrics, "clearance_invalid_events_total", kind="processing") == 1


async def test_gauges_follow_the_held_subjects_and_a_policy_change_is_applied_to_them() -> None:
    service, app, metrics = make_worker()
    runtime = service.handler
    await runtime.handle(b"S1", event("S1", conviction("001001001000", "11359 HS", "20100101")),
                         "p.court.record-changes", 0, 1)
    await runtime.handle(b"S2", event("S2", conviction("001001001000", "11359 HS", "20100101", subject="S2"),
                                      conviction("002001001000", "459 PC", "20150101", subject="S2", county="KERN")),
                         "p.court.record-changes", 1, 1)
    await service.housekeeping()
    assert value(metrics, "clearance_subjects_in_state") == 2
    assert value(metrics, "clearance_candidates", county=LA, determination="Eligible for Dismissal") == 1  # S1
    assert value(metrics, "clearance_impact_subjects", county=LA, figure="no_conviction") == 1

    # restarted with a lower dismissal age: both were born in 1980 (39 at compute-at). S2 becomes a candidate;
    # S1 stays one, now for its age (the age rule comes before "only Prop 64"), so its candidate changes
    runtime.policies = parse_policies({"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11",
                                                         "individual_age": 39}}})
    sent_before = len(app.producer.sent)
    service.on_rebalance_complete()
    await service.housekeeping()
    new = [(topic, msg["conviction_id"], msg.get("change"), msg["revision"]) for topic, _, msg in
           app.producer.sent[sent_before:]]
    assert new == [("p.clearance.determinations", "S1:001001001000", None, 2),
                   ("p.clearance.dismissal-candidates", "S1:001001001000", "changed", 2),
                   ("p.clearance.determinations", "S2:001001001000", None, 2),
                   ("p.clearance.dismissal-candidates", "S2:001001001000", "added", 2)]
    assert value(metrics, "clearance_candidates", county=LA, determination="Eligible for Dismissal") == 2
    await service.housekeeping()  # nothing left to refresh
    assert len(app.producer.sent) == sent_before + 4


@dataclass
class FakeKafka:
    partitions: dict[str, int]

    async def partitions_for(self, topic: str) -> set[int]:
        if topic not in self.partitions:
            raise KafkaTimeoutError()
        return set(range(self.partitions[topic]))


async def test_start_learns_the_output_partition_counts_and_tolerates_a_missing_topic() -> None:
    service, app, _ = make_worker()
    service.ready = False
    kafka = FakeKafka({"p.changelog": 4, "p.clearance.determinations": 6})

    async def no_op() -> None:
        return None

    app.producer.maybe_start = no_op  # type: ignore[attr-defined]
    app.producer._ensure_producer = lambda: kafka  # type: ignore[attr-defined]
    monitor = object()
    app.sensors = {monitor}  # type: ignore[attr-defined]
    app.monitor = monitor  # type: ignore[attr-defined]
    changelog = SimpleNamespace(maybe_declare=no_op, get_topic_name=lambda: "p.changelog")
    await service.before_first_event(SimpleNamespace(changelog_topic=changelog))
    assert service.handler.output_partitions == {"p.clearance.determinations": 6}  # candidates: the producer picks
    assert service.ready and app.sensors == set()  # type: ignore[attr-defined]
    await service.before_first_event(SimpleNamespace(changelog_topic=changelog))  # a restarted agent runs it again
    assert service.ready


def _snapshot(subject: str, extract: str, *records: dict[str, Any]) -> bytes:
    changes = [{"op": "upserted", "record_key": f"k{i}", "sequence": i, "record": r} for i, r in enumerate(records)]
    return json.dumps({"schema": "record-change.v1", "event_id": f"{extract}-{subject}", "type": "record.snapshot",
                       "source_agency": "CA-DOJ-BULK", "emitted_at": datetime.now(UTC).isoformat(),
                       "subject_id": subject, "changes": changes,
                       "snapshot": {"source": "CA-DOJ-BULK", "extract_id": extract}}).encode()


def _completed(extract: str) -> bytes:
    return json.dumps({"schema": "record-change.v1", "event_id": f"done-{extract}", "type": "extract.completed",
                       "source_agency": "CA-DOJ-BULK", "emitted_at": datetime.now(UTC).isoformat(),
                       "snapshot": {"source": "CA-DOJ-BULK", "extract_id": extract}}).encode()


async def test_people_missing_from_a_completed_extract_lose_its_records() -> None:
    runtime, app, metrics = make_runtime()
    topic = "p.court.record-changes"
    for offset, sid in enumerate(("S1", "S2")):
        await runtime.handle(sid.encode(), _snapshot(sid, "x1", conviction("001001001000", "11359 HS", "20100101",
                                                                           subject=sid)), topic, 0, offset)
    # the next extract has S1 only; the control event has no subject and any key
    await runtime.handle(b"S1", _snapshot("S1", "x2", conviction("001001001000", "11359 HS", "20100101")),
                         topic, 0, 2)
    sent_before = len(app.producer.sent)
    for p in range(4):  # one control event per partition, as `clearance replay` sends them
        await runtime.handle(b"extract.completed", _completed("x2"), topic, p, 100)
    retracted = [msg for t, _, msg in app.producer.sent[sent_before:] if t == "p.clearance.determinations"]
    assert [(m["conviction_id"], m["status"]) for m in retracted] == [("S2:001001001000", "retracted")]
    last = runtime.store.get(b"S2").history["S2:001001001000"][-1]  # type: ignore[union-attr]
    assert (last.cause, last.event_id, last.status) == ("extract", "done-x2", "retracted")
    assert value(metrics, "clearance_reevaluated_subjects_total", cause="extract", result="changed") == 1
    assert value(metrics, "clearance_invalid_events_total", kind="schema") == 0


async def test_flagged_answers_are_counted_by_code() -> None:
    runtime, _, metrics = make_runtime()
    record = conviction("001001001000", "11359 HS", "20100101") | {"PRI_DOB": ""}
    await runtime.handle(b"S1", event("S1", record), "p.court.record-changes", 0, 1)
    assert value(metrics, "clearance_data_quality_total", code="dob_missing") == 1


async def test_a_new_processing_date_touches_only_the_people_due() -> None:
    """Three people evaluated at the processing date; one turns 50 (LA's dismissal age) the next day."""
    today = datetime(2020, 6, 14).date()
    service, app, metrics = make_worker({"counties": {LA: {"flow": "los_angeles"}}})
    handler = service.handler
    handler.today = lambda: today
    topic = "p.court.record-changes"
    for offset, (sid, dob) in enumerate((("S1", "19700615"), ("S2", "19900101"), ("S3", "19850101"))):
        rows = (conviction("001001001000", "11359 HS", "20100101", subject=sid, PRI_DOB=dob),
                conviction("002001001000", "459 PC", "20150101", subject=sid))
        await handler.handle(sid.encode(), event(sid, *rows, event_id=f"e{offset}"), topic, 0, offset)
    assert handler.due.due_by(today) == []
    sent = len(app.producer.sent)
    await service.refresher.refresh_due(today.replace(day=15))
    checked = value(metrics, "clearance_reevaluated_subjects_total", cause="date", result="checked")
    assert checked == 1  # only S1 was due
    [(_, key, det)] = [m for m in app.producer.sent[sent:] if m[0] == "p.clearance.determinations"]
    assert (key, det["reason"], det["revision"]) == (b"S1:001001001000", "50 years or older", 2)
    assert [(r.cause, r.event_id) for r in handler.store.get(b"S1").history["S1:001001001000"]] == [  # type: ignore[union-attr]
        ("event", "e0"), ("date", None)]


class _PartitionedStore(DictStore):
    """The dict store with the Faust store's context for writes outside an event (names the key's partition)."""

    def outside_event(self, key: bytes) -> Any:
        from streams.worker.faust_patches import writes_to_partition

        return writes_to_partition("p.court.record-changes", self.partition_of(key))

    def partition_of(self, key: bytes) -> int:
        from streams.kafka.partitioner import partition_for_key

        return partition_for_key(key, self.partitions)


async def test_a_refresh_sends_each_persons_outputs_in_the_transaction_of_their_input_partition() -> None:
    from streams.worker.faust_patches import TransactionalSends

    tids: list[str | None] = []

    async def send(*_: Any, transactional_id: str | None = None) -> None:
        tids.append(transactional_id)

    app = SimpleNamespace(producer=SimpleNamespace(send=send), conf=SimpleNamespace(id="app"),
                          assignor=SimpleNamespace(group_for_topic=lambda topic: 1))
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="p.", metrics_port=0, partitions=4)
    metrics = Metrics.create(CollectorRegistry())
    store = _PartitionedStore()
    handler = EventHandler(TransactionalSends(app, "p.court.record-changes"), settings, parse_policies(LA_POLICY),
                           metrics, store, Gauges(metrics, "p.court.record-changes"))
    service = WorkerService(FakeApp(), settings, handler, Refresher(handler))  # type: ignore[arg-type]
    service.ready = True
    people = [f"S{n}" for n in range(8)]
    for person in people:
        key = person.encode()
        with store.outside_event(key):  # as the agent does: the event's partition
            await handler.handle(key, event(person, conviction("001001001000", "11359 HS", "20100101",
                                                               subject=person)),
                                 "p.court.record-changes", store.partition_of(key), 1)
    assert len(tids) == 16
    tids.clear()
    handler.policies = parse_policies({"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11",
                                                         "individual_age": 39}}})
    service.on_rebalance_complete()
    await service.housekeeping()  # outside any event: without the store's context the send has no transaction
    expected = sorted(f"app-1-{store.partition_of(p.encode())}" for p in people for _ in range(2))
    assert sorted(t or "" for t in tids) == expected and len(set(tids)) > 1
