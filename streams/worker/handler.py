"""Everything the Faust agent does per event, as a plain class that receives its dependencies complete.

Per event: decode (bad input → dead letter, never a crash) → load the subject's state → apply the changes →
re-classify → encode the outputs and the state and check their sizes → write the state → send determinations and
candidate changes → count. A re-delivered event (its offset is not newer than the one the state already holds, which
happens after a crash between the table write and the offset commit) re-sends the last emitted answers verbatim
instead of computing new ones.

Every failure ends in a dead letter or a visible stop, never in an agent that faust restarts and that then consumes
nothing: a bug in the rules dead-letters the event; an output over the message limit, or a person's state over its
budget (it must fit one changelog message, or the state would run ahead of its durable copy), dead-letters the
event *unapplied* and holds the person for hand review (:class:`Rejected`); a send that still fails (the broker, not
the message) stops the process with a non-zero exit, so its supervisor restarts it and the event is re-delivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, NoReturn, Protocol

import orjson
from aiokafka.errors import IllegalOperation, KafkaError, ProducerFenced

from streams.errors import EventError
from streams.events.builders import dead_letter_event, dead_letter_key
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
from streams.worker.lease import FENCED_EXIT_CODE
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
# What a Kafka record needs beyond its key and value (batch and record headers), which the producer counts against
# its max request size: outputs are checked against the message limit with this margin.
RECORD_FRAMING = 1024
STATE_BUDGET = "state_budget"  # hold causes (streams.worker.metrics.HOLD_CAUSES)
OUTPUT_SIZE = "output_size"
EXIT_SEND_FAILED = 70  # EX_SOFTWARE


def stop_worker(reason: str, fenced: bool = False) -> NoReturn:
    """Exit at once, non-zero: a send failed although the message was checked (the producer is closed or its
    buffer stayed full past its timeout). Raising would make faust restart the agent, which then consumed nothing;
    exiting lets the supervisor restart the worker, and the event, whose offset was not committed, is re-delivered:
    its answers are re-sent from the state (or computed again if the state had not reached the changelog), as after
    a kill -9, which the worker is built to survive. ``fenced``: the broker refused the write because another
    worker took the partition over (:func:`fenced_by_the_broker`): the zombie's exit, :data:`FENCED_EXIT_CODE`."""
    if fenced:
        log.critical("fenced: %s: the broker refuses this worker's transactional writes (another worker owns the "
                     "partition now); exiting with code %d without sending what it computed", reason,
                     FENCED_EXIT_CODE)
    else:
        log.critical("%s; stopping the worker (exit %d): its supervisor restarts it and the event is re-delivered",
                     reason, EXIT_SEND_FAILED)
    logging.shutdown()
    os._exit(FENCED_EXIT_CODE if fenced else EXIT_SEND_FAILED)


def fenced_by_the_broker(exc: BaseException) -> bool:
    """Whether a failed send is exactly-once's fence at work: the broker fenced this transactional producer
    (another worker started one with the same transactional id, taking the partition over), or the producer's
    transaction was already ended or broken by that (aiokafka refuses a send outside a transaction)."""
    return isinstance(exc, ProducerFenced) or (isinstance(exc, IllegalOperation) and "transaction" in str(exc))


class Rejected(Exception):
    """A valid event the worker does not apply: one of its outputs would exceed the message limit, or the person's
    state its budget, or the person is held since such an event. The message names sizes only, never values."""

    def __init__(self, cause: str, limit: int, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.limit = limit


class Message(NamedTuple):
    """One encoded output, checked against the message limit, and the event it carries (counted once sent)."""

    topic: str
    key: bytes
    value: bytes
    partition: int | None
    event: dict[str, Any]


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
        stop: Callable[[str, bool], NoReturn] = stop_worker,
    ) -> None:
        self.producer = producer
        self.settings = settings
        self.policies = policies
        self.metrics = metrics
        self.store = store
        self.gauges = gauges
        self.today = today
        self.due = due if due is not None else DueIndex()
        self.stop = stop
        self.determinations_topic = settings.topic(DETERMINATIONS)
        self.candidates_topic = settings.topic(CANDIDATES)
        self.dlq_topic = settings.topic(DEAD_LETTERS)
        self.max_message_bytes = settings.max_message_bytes
        # a state is the value of one changelog message, keyed by its subject id (at most 64 characters)
        self.state_budget = min(settings.state_budget_bytes, settings.max_message_bytes - RECORD_FRAMING - 64)
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
            messages = self._process(key, event, partition, offset)
        except Rejected as exc:
            assert key is not None
            self._hold(key, event.subject_id, partition, exc)
            log.error("event at %s[%d]@%d not applied (%s): its person is held for hand review (dead-lettered)",
                      topic, partition, offset, exc.cause)
            await self.dead_letter(PROCESSING, str(exc), topic, partition, offset, key, raw)
            return
        except Exception as exc:  # a bug must not stop the stream: dead-letter the event, keep going
            # type and place only: an exception's text may quote record values, which never go to logs
            log.error("processing failed at %s[%d]@%d: %s (dead-lettered)", topic, partition, offset,
                      type(exc).__name__)
            await self.dead_letter(PROCESSING, f"{type(exc).__name__}: {exc}", topic, partition, offset, key, raw)
            return
        await self.publish(messages)
        now = time.time()
        m.event_processing_seconds.observe(time.perf_counter() - started)
        m.last_event_timestamp.set(now)
        if any(msg.topic == self.determinations_topic for msg in messages):
            m.event_to_determination_seconds.observe(max(0.0, now - event.emitted_at.timestamp()))

    def _process(self, key: bytes, event: RecordChangeEvent, partition: int, offset: int) -> list[Message]:
        """Apply the event to the person and return its checked outputs. The state is written only when they and
        the state fit their limits; else :class:`Rejected` and nothing is written (state and outputs stay as
        they were, and agree with the changelog)."""
        state = self.store.get(key) or SubjectState(event.subject_id)
        if state.last_offset is not None and state.last_offset[0] == partition and offset <= state.last_offset[1]:
            return self.encode(replay_outputs(state))  # re-delivery after a crash: same answers, same bytes
        if state.held is not None:
            cause, limit = state.held
            if self._limit(cause) <= limit:
                raise Rejected(cause, limit, f"the person is held for hand review since an event of theirs did not "
                                             f"fit {limit} bytes ({cause}); this later one is not applied either, "
                                             "so the person's events wait here in order")
            state.held = None  # the limit was raised: the held events are re-published after this one
        applied = apply_event(state, event)
        # a snapshot is answered for with its last part: never a half-replaced history
        outputs = reclassify(state, self.policies, self.today(), event.event_id) if applied.complete else Outputs()
        messages = self.encode(outputs, strict=True)
        state.last_offset = (partition, offset)
        self.store.put(key, state, partition, self._check_budget(state))
        self.metrics.record_applied(Upsert.op, applied.upserted)
        self.metrics.record_applied(Retract.op, applied.retracted)
        self.gauges.account(key, partition, state)
        self.due.note(key, state.due)
        self._note_unpoliced(state)
        return messages

    def _limit(self, cause: str) -> int:
        return self.state_budget if cause == STATE_BUDGET else self.max_message_bytes

    def _check_budget(self, state: SubjectState) -> bytes:
        """The state must fit one changelog message, or it would run ahead of its durable copy (the changelog send
        fails, and a restore brings back an older state): measured as stored. Returns the stored form, which the
        caller stores (encoding a state is a few % of an event's cost: once, not twice)."""
        encoded = state.to_bytes()
        size = len(encoded)
        if size > self.state_budget:
            raise Rejected(STATE_BUDGET, self.state_budget,
                           f"the person's state would be {size} bytes after this event, over the state budget of "
                           f"{self.state_budget} (CLEARANCE_STATE_BUDGET_BYTES): the event is not applied and the "
                           "person is held for hand review")
        return encoded

    def _hold(self, key: bytes, subject_id: str, partition: int, rejected: Rejected) -> None:
        """Mark the person held (its state as before the event, which fits) and count the event not applied."""
        self.metrics.held(rejected.cause)
        state = self.store.get(key) or SubjectState(subject_id)
        if state.held is None:
            state.held = (rejected.cause, rejected.limit)
            self.store.put(key, state, partition)

    def _note_unpoliced(self, state: SubjectState) -> None:
        """Log each county name without a policy once (county names only: never people's data); the names are
        record values, so only a bounded number of bounded prefixes is remembered."""
        for county in state.unpoliced:
            name = county[:60]
            if name not in self._unpoliced_logged and len(self._unpoliced_logged) < 1000:
                self._unpoliced_logged.add(name)
                log.warning("convictions in county %r have no policy: no determinations (counted in "
                            "clearance_convictions_without_policy)", name)

    async def _complete_extract(self, event: RecordChangeEvent, partition: int, offset: int) -> None:
        """An extract of a source is complete on this partition: people of the partition who were not in it lose
        that source's records (and are re-classified). Scanned in slices that give the loop a turn. A re-delivered
        control event (a crash during the scan) re-sends the answers of the people it had already changed. A
        person whose outputs or state would not fit is left as it was and held (counted and logged)."""
        assert event.snapshot is not None  # the contract requires it for extract.completed
        source, extract_id = event.snapshot.source, event.snapshot.extract_id
        checked = changed = held = 0
        slice_started = time.perf_counter()
        for key in self.store.keys(partition):
            state = self.store.get(key)
            if state is None:
                continue
            checked += 1
            if state.last_offset == (partition, offset):
                await self.send(replay_outputs(state))
                continue
            if state.held is None and (removed := sweep_extract(state, source, extract_id)):
                outputs = reclassify(state, self.policies, self.today(), event.event_id, cause="extract")
                state.last_offset = (partition, offset)
                try:
                    messages = self.encode(outputs, strict=True)
                    encoded = self._check_budget(state)
                except Rejected as exc:
                    self._hold(key, state.subject_id, partition, exc)
                    held += 1
                    continue
                self.metrics.record_applied(Retract.op, removed)
                self.store.put(key, state, partition, encoded)
                self.gauges.account(key, partition, state)
                self.due.note(key, state.due)
                await self.publish(messages)
                changed += 1
            if time.perf_counter() - slice_started > SLICE_SECONDS:
                await asyncio.sleep(0)
                slice_started = time.perf_counter()
        self.metrics.reevaluated("extract", checked, changed)
        log.info("extract of source %r complete on partition %d: %d people checked, %d lost records of it, %d held "
                 "for hand review (their outputs or state would not fit)", source[:60], partition, checked, changed,
                 held)

    def encode(self, outputs: Outputs, *, strict: bool = False) -> list[Message]:
        """The outputs as checked messages: determinations, then candidate changes. One over the message limit
        raises :class:`Rejected` when ``strict`` (before anything is stored or sent); otherwise (answers already
        recorded in the state: a replay, a refresh) it is left out with an error line, since it can never be
        sent."""
        messages: list[Message] = []
        limit = self.max_message_bytes - RECORD_FRAMING
        for topic, events in ((self.determinations_topic, outputs.determinations),
                              (self.candidates_topic, outputs.candidates)):
            for out in events:
                key, partition = self._route(topic, out["conviction_id"])
                value = orjson.dumps(out)
                if len(key) + len(value) > limit:
                    if strict:
                        raise Rejected(OUTPUT_SIZE, self.max_message_bytes,
                                       f"an output of this event ({topic}) would be {len(key) + len(value)} bytes, "
                                       f"over the message limit of {self.max_message_bytes} "
                                       "(CLEARANCE_MAX_MESSAGE_BYTES) with its framing: the event is not applied "
                                       "and the person is held for hand review")
                    log.error("an output for %s of %d bytes is over the message limit and is not sent", topic,
                              len(value))
                    continue
                messages.append(Message(topic, key, value, partition, out))
        return messages

    async def send(self, outputs: Outputs) -> None:
        """Send outputs already recorded in a state (a refresh, a replay)."""
        await self.publish(self.encode(outputs))

    async def publish(self, messages: list[Message]) -> None:
        """Send checked messages and count them; a send that fails stops the worker (:func:`stop_worker`)."""
        m = self.metrics
        send = self.producer.send
        for msg in messages:
            try:
                await send(msg.topic, msg.key, msg.value, msg.partition, None, None)
            except Exception as exc:
                self.stop(f"sending to {msg.topic} failed: {type(exc).__name__}", fenced_by_the_broker(exc))
            out = msg.event
            if msg.topic == self.determinations_topic:
                m.determination_emitted(out["flow"], out["county"], out["determination"],
                                        retracted=out["status"] == RETRACTED)
                if out["status"] == ACTIVE and out.get("data_quality"):
                    m.flagged(out["data_quality"])
            else:
                m.candidate_changed(out["change"])

    def _route(self, topic: str, conviction_id: str) -> tuple[bytes, int | None]:
        """(key, partition): the partition Kafka's default partitioner would pick (None before the partition
        count is known: the producer picks)."""
        key = conviction_id.encode()
        partitions = self.output_partitions.get(topic)
        return key, partition_for_key(key, partitions) if partitions else None

    async def dead_letter(
        self, kind: str, message: str, topic: str, partition: int, offset: int, key: bytes | None, raw: bytes
    ) -> None:
        """Write a dead letter that fits the message limit (its key and original cut if need be); if even that
        send fails, the failure cannot be recorded: the worker stops (:func:`stop_worker`)."""
        dlq_key = dead_letter_key(key)
        room = self.max_message_bytes - RECORD_FRAMING - len(dlq_key or b"")
        letter = dead_letter_event(kind, message, topic, partition, offset, key, raw, datetime.now(UTC),
                                   max_bytes=room)
        try:
            await self.producer.send(self.dlq_topic, dlq_key, orjson.dumps(letter), None, None, None)
        except Exception as exc:
            self.stop(f"writing a dead letter to {self.dlq_topic} failed: {type(exc).__name__}",
                      fenced_by_the_broker(exc))
        self.metrics.dead_lettered(kind)
        log.warning("dead-lettered %s[%d]@%d: %s", topic, partition, offset, kind)
