"""Everything the Faust agent does per event, kept out of ``app.py`` so it reads as a plain class.

Per event: decode (bad input → dead letter, never a crash) → load the subject's state → apply the changes →
re-classify → write the state → send determinations and candidate changes → count. A re-delivered event (its offset
is not newer than the one the state already holds, which happens after a crash between the table write and the
offset commit) re-sends the last emitted answers verbatim instead of computing new ones.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import faust.streams as faust_streams
import orjson
from aiokafka.errors import KafkaError
from prometheus_client import REGISTRY

from streams.errors import EventError
from streams.events.builders import dead_letter_event
from streams.events.codec import decode_record_change
from streams.kafka.topics import partition_for_key
from streams.settings import CANDIDATES, DEAD_LETTERS, DETERMINATIONS, RECORD_CHANGES, Settings
from streams.worker.impact import candidate_counts, subject_impact
from streams.worker.metrics import Metrics, serve
from streams.worker.policies import Policies, load_policies
from streams.worker.reclassify import Outputs, apply_changes, needs_refresh, reclassify, replay_outputs
from streams.worker.state import SubjectState

log = logging.getLogger(__name__)
DEFAULT_POLICIES = Path("deploy/policies/statewide.json")
MAX_EVENT_BYTES = int(os.environ.get("CLEARANCE_MAX_EVENT_BYTES", str(1024 * 1024)))


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True, weakref_slot=True)
class _Event:
    message: _Message


@contextmanager
def _as_if_consumed(topic: str, partition: int) -> Iterator[None]:
    """Faust's table (for the changelog) and RocksDB store take a write's partition from the event being processed
    and refuse writes without one; a refresh writes outside any event, so it names the partition (the subject's
    input partition) itself."""
    event = _Event(_Message(topic, partition))
    token = faust_streams._current_event.set(weakref.ref(event))  # type: ignore[arg-type]
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def utc_today() -> date:
    return datetime.now(UTC).date()


class Runtime:
    """Shell state of one worker: settings, policies, metrics and the per-subject contributions to the gauges."""

    def __init__(self, app: Any, settings: Settings, partitions: int) -> None:
        self.app = app
        self.settings = settings
        self.partitions = partitions
        self.table: Any = None
        self.policies: Policies | None = None
        self.metrics: Metrics | None = None
        self.input_topic = settings.topic(RECORD_CHANGES)
        self.determinations_topic = settings.topic(DETERMINATIONS)
        self.candidates_topic = settings.topic(CANDIDATES)
        self.dlq_topic = settings.topic(DEAD_LETTERS)
        # subject key → (partition, candidates, impact) — what this subject adds to the gauges
        self._contrib: dict[bytes, tuple[int, Counter[tuple[str, str]], dict[str, set[str]]]] = {}
        self._candidates: Counter[tuple[str, str]] = Counter()
        self._impact: Counter[tuple[str, str]] = Counter()
        self._output_partitions: dict[str, int] = {}  # output topic → partition count (once the producer runs)
        self._scan_needed = False
        self._scan_date: date | None = None
        self._ready = False
        self._metrics_server: Any = None

    # ---------------------------------------------------------------- start-up

    def configure(self, policies: Policies, metrics: Metrics | None = None) -> None:
        """Set policies (and metrics) before the worker starts; ``clearance worker`` validates the file first."""
        self.policies = policies
        if metrics is not None:
            self.metrics = metrics

    def start(self) -> None:
        """Load what was not configured explicitly and serve /metrics (idempotent)."""
        # aiokafka's and faust's debug lines print message keys and values (people's records), and when enabled
        # they cost several % of the worker's CPU formatting 10 KB values: keep them at INFO or above.
        for name in ("aiokafka", "faust"):
            logger = logging.getLogger(name)
            logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
        if self.policies is None:
            self.policies = load_policies(os.environ.get("CLEARANCE_POLICIES") or DEFAULT_POLICIES)
        if self.metrics is None:
            self.metrics = Metrics.create(REGISTRY)
        self.metrics.set_build_info(self.policies.fingerprint)
        if self._metrics_server is None and self.settings.metrics_port > 0:
            host, port = self.settings.metrics_host, self.settings.metrics_port
            self._metrics_server = serve(self.metrics.registry, host, port)
            log.info("metrics on http://%s:%d/metrics", host, port)

    async def before_first_event(self) -> None:
        """Make sure the producer knows the changelog topic before any table write (faust otherwise may hang)."""
        self.start()
        producer = self.app.producer
        await producer.maybe_start()
        # Declare the changelog (faust would, a moment later) before asking for its metadata: asking first would
        # let a broker with auto-creation make it with the default partition count, breaking co-partitioning.
        await self.table.changelog_topic.maybe_declare()
        changelog = self.table.changelog_topic.get_topic_name()
        kafka = producer._ensure_producer()  # no public way in faust
        await kafka.partitions_for(changelog)
        # the outputs' partitions are picked here, with a faster murmur2 than aiokafka's (same partitions)
        for topic in (self.determinations_topic, self.candidates_topic):
            try:
                self._output_partitions[topic] = len(await asyncio.wait_for(kafka.partitions_for(topic), 15))
            except (TimeoutError, KafkaError):  # not created yet: the producer picks, as it did before
                log.warning("no metadata for output topic %s yet; its producer picks the partitions", topic)
        # faust's Monitor sensor keeps per-event statistics for its web views, which are off: ~2 % of the CPU
        self.app.sensors.remove(self.app.monitor)
        self._ready = True
        loop = type(asyncio.get_running_loop())
        log.info("worker ready: changelog %s known to the producer; event loop %s.%s", changelog, loop.__module__,
                 loop.__qualname__)

    # ---------------------------------------------------------------- per event

    async def handle(self, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int) -> None:
        m = self.metrics
        assert m is not None and self.policies is not None
        started = time.perf_counter()
        raw = value or b""
        try:
            event = decode_record_change(raw, max_bytes=MAX_EVENT_BYTES)
            if key is None or key != event.subject_id.encode():
                raise EventError("schema", "message key must be the event's subject_id (UTF-8)")
        except EventError as exc:
            await self._dead_letter(exc.kind, str(exc), topic, partition, offset, key, raw)
            return
        m.event_consumed(event.type)
        try:
            outputs = self._process(key, event, partition, offset)
        except Exception as exc:  # a bug must not stop the stream: dead-letter the event, keep going
            # type and place only: an exception's text may quote record values, which never go to logs
            log.error("processing failed at %s[%d]@%d: %s (dead-lettered)", topic, partition, offset,
                      type(exc).__name__)
            await self._dead_letter("processing", f"{type(exc).__name__}: {exc}", topic, partition, offset, key, raw)
            return
        await self._send(outputs)
        now = time.time()
        m.event_processing_seconds.observe(time.perf_counter() - started)
        m.last_event_timestamp.set(now)
        if outputs.determinations:
            m.event_to_determination_seconds.observe(max(0.0, now - event.emitted_at.timestamp()))

    def _process(self, key: bytes, event: Any, partition: int, offset: int) -> Outputs:
        assert self.policies is not None and self.metrics is not None
        # a faust table's store directly: one lookup (the table's own get looks twice); unit tests use a dict
        stored = getattr(self.table, "data", self.table).get(key)
        state = SubjectState.from_bytes(stored) if stored else SubjectState(event.subject_id)
        if state.last_offset is not None and state.last_offset[0] == partition and offset <= state.last_offset[1]:
            return replay_outputs(state)  # re-delivery after a crash: same answers, same bytes
        upserted, retracted = apply_changes(state, event.changes)
        self.metrics.record_applied("upserted", upserted)
        self.metrics.record_applied("retracted", retracted)
        outputs = reclassify(state, self.policies, utc_today(), event.event_id)
        state.last_offset = (partition, offset)
        self.table[key] = state.to_bytes()
        self._account(key, partition, state)
        return outputs

    async def _send(self, outputs: Outputs) -> None:
        """Queue every output on faust's producer; faust flushes it before committing the input offset."""
        m = self.metrics
        assert m is not None
        send = self.app.producer.send
        topic = self.determinations_topic
        for det in outputs.determinations:
            key, partition = self._route(topic, det["conviction_id"])
            await send(topic, key, orjson.dumps(det), partition, None, None)
            retracted = det["status"] == "retracted"
            m.determination_emitted(det["flow"], det["county"], det["determination"], retracted=retracted)
        topic = self.candidates_topic
        for cand in outputs.candidates:
            key, partition = self._route(topic, cand["conviction_id"])
            await send(topic, key, orjson.dumps(cand), partition, None, None)
            m.candidate_changed(cand["change"])

    def _route(self, topic: str, conviction_id: str) -> tuple[bytes, int | None]:
        """(key, partition): the partition Kafka's default partitioner would pick, computed with the faster
        murmur2 of ``streams.kafka.topics`` (None before the partition count is known: the producer picks)."""
        key = conviction_id.encode()
        partitions = self._output_partitions.get(topic)
        return key, partition_for_key(key, partitions) if partitions else None

    async def _dead_letter(
        self, kind: str, message: str, topic: str, partition: int, offset: int, key: bytes | None, raw: bytes
    ) -> None:
        assert self.metrics is not None
        letter = dead_letter_event(kind, message, topic, partition, offset, key, raw, datetime.now(UTC))
        await self.app.producer.send(self.dlq_topic, key, orjson.dumps(letter), None, None, None)
        self.metrics.dead_lettered(kind)
        log.warning("dead-lettered %s[%d]@%d: %s", topic, partition, offset, kind)

    # ---------------------------------------------------------------- gauges and refresh

    def _account(self, key: bytes, partition: int, state: SubjectState) -> None:
        """Replace this subject's contribution to the candidate and impact gauges."""
        self._drop(key)
        dets = [e.determination for e in state.emitted.values()]
        contrib = (partition, candidate_counts(dets), subject_impact(dets))
        self._contrib[key] = contrib
        self._candidates.update(contrib[1])
        self._impact.update((county, figure) for county, figures in contrib[2].items() for figure in figures)

    def _drop(self, key: bytes) -> None:
        old = self._contrib.pop(key, None)
        if old is not None:
            self._candidates.subtract(old[1])
            self._impact.subtract((county, figure) for county, figures in old[2].items() for figure in figures)

    def on_revoked(self, revoked: set[Any]) -> None:
        """Subjects of revoked partitions now belong to another worker: stop counting them here."""
        if self.metrics is not None:
            self.metrics.rebalances.inc()
        lost = {tp.partition for tp in revoked if tp.topic == self.input_topic}
        for key in [k for k, (p, _, _) in self._contrib.items() if p in lost]:
            self._drop(key)

    def on_rebalance_complete(self) -> None:
        """Table state of the assigned partitions is restored: re-check it against the policies (faust sends
        this signal after recovery, before the streams resume)."""
        self._scan_needed = True

    async def housekeeping(self) -> None:
        """Every few seconds: publish gauges and lag; after a rebalance or a date change, re-check held state."""
        if self.metrics is None or self.policies is None:
            return
        m = self.metrics
        recovering = bool(getattr(self.app, "rebalancing", False)) or not self._recovery_done()
        m.worker_recovering.set(1 if recovering else 0)
        self._publish_lag()
        if recovering or not self._ready:
            return
        today = utc_today()
        if self._scan_needed or (self.policies.uses_processing_date() and today != self._scan_date):
            await self._refresh_all(today)
        m.subjects_in_state.set(len(self._contrib))
        for (county, determination), n in self._candidates.items():
            m.candidates.labels(county=county, determination=determination).set(n)
        for (county, figure), n in self._impact.items():
            m.set_impact(county, figure, n)

    def _recovery_done(self) -> bool:
        recovery = getattr(self.app.tables, "recovery", None)
        return recovery is None or not getattr(recovery, "in_recovery", False)

    async def _refresh_all(self, today: date) -> None:
        """Re-classify held subjects whose answers were computed under other policies or another date; emit diffs.

        This is how a worker restarted with a changed policies file corrects its answers without replaying Kafka.
        """
        assert self.policies is not None
        self._scan_needed = False
        self._scan_date = today
        refreshed = 0
        log.info("checking held subjects against policies %s", self.policies.fingerprint)
        for key, raw in list(self.table.items()):
            state = SubjectState.from_bytes(raw)
            partition = partition_for_key(key, self.partitions)
            if needs_refresh(state, self.policies, today):
                outputs = reclassify(state, self.policies, today, None)
                with _as_if_consumed(self.input_topic, partition):
                    self.table[key] = state.to_bytes()
                await self._send(outputs)
                refreshed += 1
            self._account(key, partition, state)
        log.info("held subjects checked: %d, re-classified: %d", len(self._contrib), refreshed)

    def _publish_lag(self) -> None:
        consumer = getattr(self.app, "consumer", None)
        if consumer is None or self.metrics is None:
            return
        try:
            assignment = consumer.assignment()
        except Exception:  # consumer not started yet
            return
        for tp in assignment:
            if tp.topic != self.input_topic:
                continue
            high = consumer.highwater(tp)
            read = consumer._read_offset.get(tp)  # last offset handed to the agent
            if high is None:
                continue
            position = (read + 1) if read is not None else 0
            self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, high - position))
