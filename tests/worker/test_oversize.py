"""Issue #10, failures 1, 2 and 8, without Kafka: what the worker does with outputs, dead letters and states that
would not fit a Kafka message, with a failing send, and with a sequence beyond 64 bits.

The producer here refuses what aiokafka's refuses (a message over its max request size, framing included), so each
test fails on the code before the fix, where such a send raised out of the agent. ``tests/worker/
test_oversize_kafka.py`` proves the same against the real broker and a real changelog restore.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from aiokafka.errors import IllegalOperation, KafkaTimeoutError, MessageSizeTooLargeError, ProducerFenced
from factories import LA, conviction
from prometheus_client import CollectorRegistry

from streams.events.schemas import validate
from streams.settings import Settings
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler
from streams.worker.metrics import Metrics
from streams.worker.policies import parse_policies
from streams.worker.reclassify import classify_state
from streams.worker.state import Emitted, StoredRecord, SubjectState
from streams.worker.store import DictStore, SubjectStore

POLICIES = parse_policies({"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
TOPIC = "p.court.record-changes"
DLQ = "p.court.record-changes.dlq"
DETERMINATIONS = "p.clearance.determinations"
FRAMING = 70  # what aiokafka adds to key and value when it checks a message against max_request_size


class Stopped(BaseException):
    """What the test's stop raises (the worker's own exits the process)."""


def stop(reason: str, fenced: bool = False) -> Any:
    raise Stopped(reason, fenced)


@dataclass
class Producer:
    """Records what is sent and, like aiokafka's producer, refuses a message over its max request size."""

    max_request_size: int = 1_000_000
    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    fail: BaseException | None = None

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None, *_: Any) -> None:
        if self.fail is not None:
            raise self.fail
        if len(key or b"") + len(value) + FRAMING > self.max_request_size:
            raise MessageSizeTooLargeError()
        self.sent.append((topic, key, value))

    def to(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(value) for t, _, value in self.sent if t == topic]


def make(store: SubjectStore | None = None, producer: Producer | None = None, max_message_bytes: int = 1_000_000,
         state_budget_bytes: int = 900_000) -> tuple[EventHandler, Producer, Metrics]:
    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="p.", metrics_port=0, partitions=4,
                        max_message_bytes=max_message_bytes, state_budget_bytes=state_budget_bytes)
    metrics = Metrics.create(CollectorRegistry())
    producer = producer if producer is not None else Producer()
    handler = EventHandler(producer, settings, POLICIES, metrics, store if store is not None else DictStore(),
                           Gauges(metrics, TOPIC), lambda: date(2026, 1, 1), stop=stop)
    return handler, producer, metrics


def event(subject: str, upserts: Sequence[tuple[str, int, dict[str, Any]]] = (), retracts: Sequence[str] = (),
          event_id: str = "e1") -> bytes:
    changes: list[dict[str, Any]] = [{"op": "upserted", "record_key": k, "sequence": s, "record": r}
                                     for k, s, r in upserts]
    changes += [{"op": "retracted", "record_key": k} for k in retracts]
    kind = "record.upserted" if not retracts else "record.retracted" if not upserts else "record.changed"
    doc = {"schema": "record-change.v1", "event_id": event_id, "type": kind, "source_agency": "TEST",
           "emitted_at": datetime.now(UTC).isoformat(), "subject_id": subject, "changes": changes}
    return orjson.dumps(doc)


def table(handler: EventHandler) -> dict[bytes, bytes]:
    """The stored bytes of every person (what the changelog carries)."""
    assert isinstance(handler.store, DictStore)
    return dict(handler.store.data)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def count_order(i: int) -> str:
    return f"{i // 100 + 1:03d}{i % 100 + 1:03d}001000"


def convictions(n: int, start: int = 0) -> list[tuple[str, int, dict[str, Any]]]:
    """``n`` marijuana misdemeanours of one person, each its own conviction (all eligible for dismissal)."""
    return [(f"r{i}", i, conviction(count_order(i), "11357 HS", "20100101", toc="M", conv_stat="MISDEMEANOR"))
            for i in range(start, start + n)]


def latest(producer: Producer) -> dict[str, dict[str, Any]]:
    """Each conviction's last determination sent."""
    out: dict[str, dict[str, Any]] = {}
    for det in producer.to(DETERMINATIONS):
        if det["revision"] > out.get(det["conviction_id"], {"revision": 0})["revision"]:
            out[det["conviction_id"]] = det
    return out


def answers(dets: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {cid: (d["determination"], d["reason"]) for cid, d in dets.items() if d["status"] == "active"}


def engine(records: list[tuple[str, int, dict[str, Any]]]) -> dict[str, tuple[str, str]]:
    """What the rules say of a person with exactly these records, from scratch."""
    from streams.doj.record import rule_values

    state = SubjectState("S1", {k: StoredRecord(s, rule_values(r)) for k, s, r in records})
    current = classify_state(state, POLICIES, date(2026, 1, 1)).determinations
    return {cid: (str(d["determination"]), str(d["reason"])) for cid, d in current.items()}


def random_text(n: int, seed: int) -> str:
    """Letters that deflate poorly (no repeats to find), so only sharing long strings makes such a state fit."""
    return "".join(random.Random(seed).choices(string.ascii_letters, k=n))


async def test_an_output_over_the_message_limit_is_dead_lettered_unapplied_and_the_person_held() -> None:
    """Failure 1: a 550 KB OFFENSE_DESCR makes a determination over 1 MB; its send raised out of the agent."""
    handler, producer, metrics = make()
    big = conviction("001001001000", "11357 HS", "20100101", offense="11357 HS" + "A" * 550_000)
    raw = event("S1", [("r1", 1, big)])
    await handler.handle(b"S1", raw, TOPIC, 2, 7)
    [(topic, key, value)] = producer.sent
    letter = json.loads(value)
    validate("dead-letter.v1", letter)
    assert (topic, key, letter["error_kind"]) == (DLQ, b"S1", "processing")
    assert letter["source"] == {"topic": TOPIC, "partition": 2, "offset": 7}
    assert "over the message limit of 1000000" in letter["error_message"]
    assert base64.b64decode(letter["original_base64"]) == raw  # it fits whole: an operator can re-publish it
    assert sample(metrics, "clearance_held_events_total", cause="output_size") == 1
    assert sample(metrics, "clearance_invalid_events_total", kind="processing") == 1
    held = handler.store.get(b"S1")
    assert held is not None and held.records == {} and held.held == ("output_size", 1_000_000)

    small = event("S1", [("r2", 2, conviction("002001001000", "11357 HS", "20100101"))], event_id="e2")
    await handler.handle(b"S1", small, TOPIC, 2, 8)  # held: waits in the DLQ, in order, unapplied
    assert [letter["source"]["offset"] for letter in producer.to(DLQ)] == [7, 8]
    assert "held for hand review" in producer.to(DLQ)[1]["error_message"]
    assert producer.to(DETERMINATIONS) == []
    await handler.handle(b"S2", event("S2", [("r1", 1, conviction("001001001000", "11357 HS", "20100101",
                                                                    subject="S2"))]), TOPIC, 2, 9)
    assert [d["conviction_id"] for d in producer.to(DETERMINATIONS)] == ["S2:001001001000"]  # not wedged

    # the operator raises the limits and re-publishes the held events: the person is released
    raised, producer2, _ = make(handler.store, Producer(3_000_000), max_message_bytes=2_900_000)
    await raised.handle(b"S1", raw, TOPIC, 2, 10)
    await raised.handle(b"S1", small, TOPIC, 2, 11)
    assert sorted(answers(latest(producer2))) == ["S1:001001001000", "S1:002001001000"]
    state = raised.store.get(b"S1")
    assert state is not None and state.held is None


@pytest.mark.parametrize("value", [b"{not json", b"{" + b"x" * 900_000])
async def test_a_dead_letter_of_a_300_kb_key_fits_the_message_limit(value: bytes) -> None:
    """Failure 1: the dead letter of a message with a 300 KB key was over 1 MB and could not be sent."""
    handler, producer, metrics = make()
    key = b"K" * 300_000
    await handler.handle(key, value, TOPIC, 1, 5)
    [(topic, sent_key, raw)] = producer.sent
    assert topic == DLQ and sent_key == key[:1024]
    letter = json.loads(raw)
    validate("dead-letter.v1", letter)
    assert (letter["key_size"], letter["key_truncated"]) == (300_000, True)
    assert letter["key_sha256"] == hashlib.sha256(key).hexdigest()
    assert letter["original_size"] == len(value) and letter["source"] == {"topic": TOPIC, "partition": 1,
                                                                          "offset": 5}
    assert sample(metrics, "clearance_invalid_events_total", kind="not_json") == 1


@pytest.mark.parametrize("what", ["output", "dead letter"])
async def test_a_send_that_fails_anyway_stops_the_worker_instead_of_raising_into_faust(what: str) -> None:
    """A raise restarted faust's agent, which then consumed nothing; the worker must stop, visibly."""
    handler, producer, _ = make()
    producer.fail = KafkaTimeoutError()
    raw = event("S1", convictions(1)) if what == "output" else b"{not json"
    with pytest.raises(Stopped, match="failed: KafkaTimeoutError") as stopped:
        await handler.handle(b"S1", raw, TOPIC, 0, 0)
    assert stopped.value.args[1] is False  # not exactly-once's fence: exit 70


@pytest.mark.parametrize("error", [ProducerFenced(), IllegalOperation("Can't send messages while not in transaction")])
async def test_a_transactional_send_the_broker_refuses_is_the_fenced_zombies_exit(error: Exception) -> None:
    """exactly_once: a thawed worker whose partition another worker took over (its producer fenced, its
    transaction gone) exits as fenced (75), like the lease fence, not as a failed send."""
    handler, producer, _ = make()
    producer.fail = error
    with pytest.raises(Stopped, match=f"failed: {type(error).__name__}") as stopped:
        await handler.handle(b"S1", event("S1", convictions(1)), TOPIC, 0, 0)
    assert stopped.value.args[1] is True


async def test_a_sequence_beyond_64_bits_is_one_schema_dead_letter() -> None:
    """Failure 8: it was dead-lettered as processing and counted as consumed and invalid."""
    handler, producer, metrics = make()
    raw = event("S1", convictions(1)).replace(b'"sequence":0', b'"sequence":18446744073709551616')
    await handler.handle(b"S1", raw, TOPIC, 0, 0)
    assert [letter["error_kind"] for letter in producer.to(DLQ)] == ["schema"]
    assert sample(metrics, "clearance_invalid_events_total", kind="schema") == 1
    assert sample(metrics, "clearance_invalid_events_total", kind="processing") == 0
    assert sample(metrics, "clearance_events_consumed_total", type="record.upserted") == 0


async def test_a_person_with_1500_convictions_fits_and_restores_to_the_engines_answers() -> None:
    """Failure 2: 1,500 convictions made a 2.3 MB state that never reached the changelog; after a restore, a
    retraction of 1,000 of them left 1,500 eligible."""
    handler, producer, _ = make()
    records = convictions(1500)
    for part in range(3):
        raw = event("S1", records[part * 500:(part + 1) * 500], event_id=f"e{part}")
        await handler.handle(b"S1", raw, TOPIC, 0, part)
    stored = table(handler)[b"S1"]
    assert len(stored) <= handler.state_budget
    assert len(orjson.dumps(SubjectState.from_bytes(stored).to_json_obj())) > 1_000_000  # the plain form won't do

    restored, producer2, _ = make(DictStore({b"S1": stored}))  # what a changelog restore reads back
    await restored.handle(b"S1", event("S1", retracts=[f"r{i}" for i in range(1000)], event_id="e3"), TOPIC, 0, 3)
    now = answers({**latest(producer), **latest(producer2)})
    assert len(now) == 500
    assert now == engine(records[1000:])


async def test_a_redelivered_event_of_a_compact_state_resends_the_same_bytes() -> None:
    handler, producer, _ = make()
    await handler.handle(b"S1", event("S1", convictions(400)), TOPIC, 0, 0)
    first = list(producer.sent)
    restored, producer2, _ = make(DictStore(table(handler)))
    await restored.handle(b"S1", event("S1", convictions(400)), TOPIC, 0, 0)
    assert sorted(producer2.sent) == sorted(first)


async def test_one_300_kb_event_fits_and_restores() -> None:
    """Failure 2's other case: a 300 KB value sits in the record and twice in its determination."""
    handler, producer, _ = make()
    records = [("r1", 1, conviction("001001001000", "11357 HS", "20100101",
                                    offense="11357 HS" + random_text(300_000, 1))),
               *convictions(3, start=2)]
    await handler.handle(b"S1", event("S1", records), TOPIC, 0, 0)
    stored = table(handler)[b"S1"]
    assert len(stored) <= handler.state_budget < len(orjson.dumps(SubjectState.from_bytes(stored).to_json_obj()))
    restored, producer2, _ = make(DictStore({b"S1": stored}))
    await restored.handle(b"S1", event("S1", retracts=["r3"], event_id="e2"), TOPIC, 0, 1)
    now = answers({**latest(producer), **latest(producer2)})
    assert now == engine([records[0], records[1], records[3]])


async def test_a_person_over_the_state_budget_is_held_with_the_state_as_it_was() -> None:
    """The policy when a person exceeds the budget even compact: dead letter, metric, held, state unchanged."""
    handler, producer, metrics = make(state_budget_bytes=20_000)
    await handler.handle(b"S1", event("S1", convictions(2)), TOPIC, 0, 0)
    before = handler.store.get(b"S1")
    assert before is not None
    grow = [(f"c{i}", 10 + i, conviction(count_order(10 + i), "11357 HS", "20100101",
                                         comment=random_text(3000, i))) for i in range(20)]
    big = event("S1", grow, event_id="e2")
    await handler.handle(b"S1", big, TOPIC, 0, 1)
    [letter] = producer.to(DLQ)
    assert letter["error_kind"] == "processing" and "over the state budget of 20000" in letter["error_message"]
    assert sample(metrics, "clearance_held_events_total", cause="state_budget") == 1
    after = handler.store.get(b"S1")
    assert after is not None and after.held == ("state_budget", 20_000)
    assert (after.records, after.emitted, after.last_offset) == (before.records, before.emitted, before.last_offset)
    assert len(producer.to(DETERMINATIONS)) == 2  # the first event's only

    raised, producer2, _ = make(DictStore(table(handler)), state_budget_bytes=200_000)
    await raised.handle(b"S1", big, TOPIC, 0, 2)  # re-published from the DLQ
    assert answers(latest(producer2)) == engine([*convictions(2), *grow])  # the person's 22 convictions


def test_a_large_state_is_stored_compact_and_reads_back_the_same() -> None:
    long = random_text(5000, 3)
    state = SubjectState("S1", {f"r{i}": StoredRecord(i, [long, f"v{i}", "x" * 2000]) for i in range(40)})
    state.emitted["S1:1"] = Emitted({"code_section": long, "facts": {"a": [long, 1, None]}, "n": 2.5}, None)
    state.held = ("state_budget", 20_000)
    stored = state.to_bytes()
    assert not stored.startswith(b"{") and len(stored) < 20_000 < len(orjson.dumps(state.to_json_obj()))
    back = SubjectState.from_bytes(stored)
    assert back == state and back.to_bytes() == stored


def test_a_small_state_stays_plain_json_and_older_states_read_unheld() -> None:
    state = SubjectState("S1", {"r1": StoredRecord(1, ["a"])})
    stored = state.to_bytes()
    assert json.loads(stored)["k"] is None
    doc = json.loads(stored)
    del doc["k"]  # written before held existed
    assert SubjectState.from_bytes(json.dumps(doc).encode()).held is None
