"""Everything the Faust agent does per event, as a plain class that receives its dependencies complete.

Per event: decode (bad input → dead letter, never a crash) → load the subject's state → apply the changes →
re-classify → write the state → send determinations and candidate changes → count. A re-delivered event (its offset
is not newer than the one the state already holds, which happens after a crash between the table write and the
offset commit) re-sends the last emitted answers verbatim instead of computing new ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from aiokafka.errors import KafkaError

from streams.errors import EventError
from streams.events.builders import dead_letter_event
from streams.events.codec import decode_record_change
from streams.events.model import (
    ACTIVE,
    EXTRACT_COMPLETED,
    PROCESSING,
    RETRACTED,
    SCHEMA,
    RecordChangeEvent,
    Retract,
    Upsert,
)
from streams.kafka.partitioner import partition_for_key
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, Settings
from streams.worker.apply import apply_event, sweep_extract
from streams.worker.due import DueIndex
from streams.worker.gauges import Gauges
from streams.worker.metrics import Metrics
from streams.worker.policies import Policies
from streams.worker.reclassify import Outputs, reclassify, replay_outputs
from streams.worker.state import SubjectState
from streams.worker.store import SubjectStore

log = logging.getLogger(__name__)


class Producer(Protocol):
    """What the handler needs of faust's producer: ``send(topic, key, value, partition, timestamp, headers)``."""

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None, timestamp: Any, headers: Any
    ) -> Any: ...


def utc_today() -> date:
    return datetime.now(UTC).date()


# How long a scan of held subjects runs before it gives the event loop a turn (with the step that crosses it: under
# ~50 ms, so live events wait at most that long behind a scan).
SLICE_SECONDS = 0.04


class EventHandler:
    """Decode → pure step (:mod:`streams.worker.reclassify`) → emit, for one worker."""

    def __init__(
        self,
        producer: Producer,
        settings: Settings,
        policies: Policies,
        metrics: Metrics,
        store: SubjectStore,
        gauges: Gauges,
        today: Callable[[], date] = utc_today,
        due: DueIndex | None = None,
    ) -> None:
        self.producer = producer
        self.settings = settings
        self.policies = policies
        self.metrics = metrics
        self.store = store
        self.gauges = gauges
        self.today = today
        self.due = due if due is not None else DueIndex()
        self.determinations_topic = settings.topic(DETERMINATIONS)
        self.candidates_topic = settings.topic(CANDIDATES)
        self.dlq_topic = settings.topic(DEAD_LETTERS)
        self.output_partitions: dict[str, int] = {}  # output topic → partition count (once the producer runs)
        self._unpoliced_logged: set[str] = set()

    async def learn_output_partitions(self, kafka: Any) -> None:
        """Route outputs with a faster murmur2 than aiokafka's (same partitions): ask ``kafka`` (the aiokafka
        producer) for the output topics' partition counts; a topic without metadata yet is left to the producer."""
        for topic in (self.determinations_topic, self.candidates_topic):
            try:
                self.output_partitions[topic] = len(await asyncio.wait_for(kafka.partitions_for(topic), 15))
            except (TimeoutError, KafkaError):  # not created yet: the producer picks, as it did before
                log.warning("no metadata for output topic %s yet; its producer picks the partitions", topic)

    async def handle(self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int) -> None:
        m = self.metrics
        started = time.perf_counter()
        raw = value or b""
        try:
            event = decode_record_change(raw, max_bytes=self.settings.max_event_bytes)
            if event.type != EXTRACT_COMPLETED and (key is None or key != event.subject_id.encode()):
                raise EventError(SCHEMA, "message key must be the event's subject_id (UTF-8)")
        except EventError as exc:
            await self.dead_letter(exc.kind, str(exc), topic, partition, offset, key, raw)
            return
        m.event_consumed(event.type)
        try:
            if event.type == EXTRACT_COMPLETED:
                await self._complete_extract(event, partition, offset)
                return
            assert key is not None  # checked with the subject id above
            outputs = self._process(key, event, partition, offset)
        except Exception as exc:  # a bug must not stop the stream: dead-letter the event, keep going
            # type and place only: an exception's text may quote record values, which never go to logs
            log.error("processing failed at %s[%d]@%d: %s (dead-lettered)", topic, partition, offset,
                      type(exc).__name__)
            await self.dead_letter(PROCESSING, f"{type(exc).__name__}: {exc}", topic, partition, offset, key, raw)
            return
        await self.send(outputs)
        now = time.time()
        m.event_processing_seconds.observe(time.perf_counter() - started)
        m.last_event_timestamp.set(now)
        if outputs.determinations:
            m.event_to_determination_seconds.observe(max(0.0, now - event.emitted_at.timestamp()))

    def _process(self, key: bytes, event: RecordChangeEvent, partition: int, offset: int) -> Outputs:
        state = self.store.get(key) or SubjectState(event.subject_id)
        if state.last_offset is not None and state.last_offset[0] == partition and offset <= state.last_offset[1]:
            return replay_outputs(state)  # re-delivery after a crash: same answers, same bytes
        applied = apply_event(state, event)
        self.metrics.record_applied(Upsert.op, applied.upserted)
        self.metrics.record_applied(Retract.op, applied.retracted)
        # a snapshot is answered for with its last part: never a half-replaced history
        outputs = reclassify(state, self.policies, self.today(), event.event_id) if applied.complete else Outputs()
        state.last_offset = (partition, offset)
        self.store.put(key, state, partition)
        self.gauges.account(key, partition, state)
        self.due.note(key, state.due)
        self._note_unpoliced(state)
        return outputs

    def _note_unpoliced(self, state: SubjectState) -> None:
        """Log each county name without a policy once (county names only: never people's data)."""
        for county in state.unpoliced:
            if county not in self._unpoliced_logged:
                self._unpoliced_logged.add(county)
                log.warning("convictions in county %r have no policy: no determinations (counted in "
                            "clearance_convictions_without_policy)", county[:60])

    async def _complete_extract(self, event: RecordChangeEvent, partition: int, offset: int) -> None:
        """An extract of a source is complete on this partition: people of the partition who were not in it lose
        that source's records (and are re-classified). Scanned in slices that give the loop a turn. A re-delivered
        control event (a crash during the scan) re-sends the answers of the people it had already changed."""
        assert event.snapshot is not None  # the contract requires it for extract.completed
        source, extract_id = event.snapshot.source, event.snapshot.extract_id
        checked = changed = 0
        slice_started = time.perf_counter()
        for key in self.store.keys(partition):
            state = self.store.get(key)
            if state is None:
                continue
            checked += 1
            if state.last_offset == (partition, offset):
                await self.send(replay_outputs(state))
                continue
            removed = sweep_extract(state, source, extract_id)
            if removed:
                self.metrics.record_applied(Retract.op, removed)
                outputs = reclassify(state, self.policies, self.today(), event.event_id, cause="extract")
                state.last_offset = (partition, offset)
                self.store.put(key, state, partition)
                self.gauges.account(key, partition, state)
                self.due.note(key, state.due)
                await self.send(outputs)
                changed += 1
            if time.perf_counter() - slice_started > SLICE_SECONDS:
                await asyncio.sleep(0)
                slice_started = time.perf_counter()
        self.metrics.reevaluated("extract", checked, changed)
        log.info("extract of source %r complete on partition %d: %d people checked, %d lost records of it",
                 source[:60], partition, checked, changed)

    async def send(self, outputs: Outputs) -> None:
        m = self.metrics
        send = self.producer.send
        topic = self.determinations_topic
        for det in outputs.determinations:
            key, partition = self._route(topic, det["conviction_id"])
            await send(topic, key, orjson.dumps(det), partition, None, None)
            m.determination_emitted(det["flow"], det["county"], det["determination"],
                                    retracted=det["status"] == RETRACTED)
            if det["status"] == ACTIVE and det.get("data_quality"):
                m.flagged(det["data_quality"])
        topic = self.candidates_topic
        for cand in outputs.candidates:
            key, partition = self._route(topic, cand["conviction_id"])
            await send(topic, key, orjson.dumps(cand), partition, None, None)
            m.candidate_changed(cand["change"])

    def _route(self, topic: str, conviction_id: str) -> tuple[bytes, int | None]:
        """(key, partition): the partition Kafka's default partitioner would pick (None before the partition
        count is known: the producer picks)."""
        key = conviction_id.encode()
        partitions = self.output_partitions.get(topic)
        return key, partition_for_key(key, partitions) if partitions else None

    async def dead_letter(
        self, kind: str, message: str, topic: str, partition: int, offset: int, key: bytes | None, raw: bytes
    ) -> None:
        letter = dead_letter_event(kind, message, topic, partition, offset, key, raw, datetime.now(UTC))
        await self.producer.send(self.dlq_topic, key, orjson.dumps(letter), None, None, None)
        self.metrics.dead_lettered(kind)
        log.warning("dead-lettered %s[%d]@%d: %s", topic, partition, offset, kind)
