"""``clearance replay``: publish a DOJ research file (an extract) to the input topic.

By default as source snapshots: each person's rows travel as one ``record.snapshot`` ("these are all of this
person's records from source S", S = ``--source-agency``), keyed by SUBJECT_ID, with natural record keys (CYC/STP/CNT
order and the row's ordinal among the person's rows of that count) and the row's position in the person's history
as its sequence; after the last person, one ``extract.completed`` event on every partition tells the workers which
extract is complete, so people absent from it lose that source's records. Replaying next month's extract after
this one therefore leaves every person's state exactly as if only the new extract had been replayed. A person
whose rows exceed one event is sent as parts of one snapshot (``--max-records-per-event``, and ~700 KB an event).

``--mode upserts`` publishes plain ``record.upserted`` events keyed by file digest and row index instead (a file's
rows added to whatever is held: for a one-off load, or live-like single-record events with
``--max-records-per-event 1``). Keys are SUBJECT_ID, partitioned by the producer's default murmur2 partitioner
(the same as Java clients'), so every event of a person lands on the same partition and in order; event ids are
deterministic, so replaying the same file again changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from streams.doj import columns as C
from streams.doj.reader import iter_rows
from streams.errors import ClearanceError
from streams.events.builders import extract_completed_event, record_change_event, snapshot_event
from streams.events.codec import encode
from streams.events.ids import natural_record_key
from streams.kafka.clients import broker_command, producer
from streams.kafka.topics import partition_count
from streams.offline.progress import ProgressBar, wants_progress
from streams.settings import RECORD_CHANGES, Settings


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()[:16]


# Keep each event well under the worker's 1 MiB limit. A row's JSON size is estimated from its non-empty fields:
# the value plus ~24 bytes for the column name, quotes, colon and comma (names average 14 characters).
MAX_EVENT_JSON_BYTES = 700_000
_FIELD_OVERHEAD = 24
_CHANGE_OVERHEAD = 120  # {"op":"upserted","record_key":"<16 hex>:<index>","sequence":N,"record":{}}


def subject_runs(
    rows: Iterable[list[str]], max_records: int
) -> Iterator[tuple[str, list[tuple[int, list[str]]]]]:
    """(subject id, [(row index, fields)]) for each run of consecutive rows of one subject, split by count and
    size so no event exceeds the contract's limits."""
    subject: str | None = None
    run: list[tuple[int, list[str]]] = []
    size = 0
    for index, fields in enumerate(rows):
        sid = fields[C.SUBJECT_ID]
        row_size = _CHANGE_OVERHEAD + sum(len(value) + _FIELD_OVERHEAD for value in fields if value)
        if run and (sid != subject or len(run) >= max_records or size + row_size > MAX_EVENT_JSON_BYTES):
            yield subject, run  # type: ignore[misc]
            run, size = [], 0
        subject = sid
        run.append((index, fields))
        size += row_size
    if run:
        yield subject, run  # type: ignore[misc]


class NotConsecutive(ClearanceError):
    """A person's rows are not consecutive in the file: their snapshot could only be built from the whole file."""


Snapshot = tuple[str, list[list[tuple[int, str, list[str]]]]]


def subject_snapshots(rows: Iterable[list[str]], max_records: int) -> Iterator[Snapshot]:
    """(subject id, parts) for each person of a file whose people's rows are consecutive (DOJ extracts are); each
    part a list of (sequence, natural record key, fields) within the event limits."""
    finished: set[str] = set()
    subject: str | None = None
    person: list[list[str]] = []
    for fields in rows:
        sid = fields[C.SUBJECT_ID]
        if sid != subject:
            if subject is not None:
                if subject:  # rows without a SUBJECT_ID cannot be sent (they are counted): they may be anywhere
                    finished.add(subject)
                yield subject, _parts(person, max_records)
            if sid in finished:
                raise NotConsecutive(
                    "the file lists a person's rows apart from each other; replay it with --mode upserts"
                )
            subject, person = sid, []
        person.append(fields)
    if subject is not None:
        yield subject, _parts(person, max_records)


def _parts(person: list[list[str]], max_records: int) -> list[list[tuple[int, str, list[str]]]]:
    ordinals: dict[tuple[str, str, str], int] = {}
    parts: list[list[tuple[int, str, list[str]]]] = [[]]
    size = 0
    for sequence, fields in enumerate(person):
        orders = (fields[C.CYC_ORDER], fields[C.STP_ORDER], fields[C.CNT_ORDER])
        ordinal = ordinals.get(orders, 0)
        ordinals[orders] = ordinal + 1
        row_size = _CHANGE_OVERHEAD + sum(len(value) + _FIELD_OVERHEAD for value in fields if value)
        if parts[-1] and (len(parts[-1]) >= max_records or size + row_size > MAX_EVENT_JSON_BYTES):
            parts.append([])
            size = 0
        parts[-1].append((sequence, natural_record_key(*orders, ordinal), fields))
        size += row_size
    return parts


# What a replay sends for one run of a person's rows: the person, the events (and the partition, for control
# events sent to a partition rather than by key), and how many of the file's rows they carry.
Batch = tuple[str, list[tuple[dict[str, object], int | None]], int]


async def replay(
    settings: Settings, path: Path, *, rate: float = 0.0, source_agency: str = "CA-DOJ-BULK",
    max_records: int = 1000, progress: bool = True, mode: str = "snapshot", extract_id: str | None = None,
) -> tuple[int, int]:
    """Publish the file; returns (rows, events). ``rate`` limits rows per second (0 = unlimited). ``mode``:
    ``snapshot`` (default; ``extract_id`` defaults to the file's digest) or ``upserts``."""
    topic = settings.topic(RECORD_CHANGES)
    if mode == "snapshot":
        partitions = await partition_count(settings, topic)
        if partitions is None:
            raise ClearanceError(f"topic {topic} does not exist at {settings.bootstrap}; run `clearance topics create`")
        extract = extract_id or file_digest(path)

        def batches(rows: Iterable[list[str]]) -> Iterator[Batch]:
            for subject_id, parts in subject_snapshots(rows, max_records):
                events: list[tuple[dict[str, object], int | None]] = [
                    (snapshot_event(subject_id=subject_id, rows=part, source=source_agency, extract_id=extract,
                                    part=number, parts=len(parts), emitted_at=datetime.now(UTC)), None)
                    for number, part in enumerate(parts, 1)
                ] if subject_id else []
                yield subject_id, events, sum(map(len, parts))
            # after every snapshot of a partition: the extract is complete there
            done: list[tuple[dict[str, object], int | None]] = [
                (extract_completed_event(source=source_agency, extract_id=extract, partition=partition,
                                         emitted_at=datetime.now(UTC)), partition)
                for partition in range(partitions)
            ]
            yield "", done, 0
    else:
        digest = file_digest(path)

        def batches(rows: Iterable[list[str]]) -> Iterator[Batch]:
            for subject_id, run in subject_runs(rows, max_records):
                events: list[tuple[dict[str, object], int | None]] = [
                    (record_change_event(subject_id=subject_id, rows=run, file_digest=digest,
                                         source_agency=source_agency, emitted_at=datetime.now(UTC)), None)
                ] if subject_id else []
                yield subject_id, events, len(run)

    return await _publish(settings, path, batches, rate=rate, progress=progress)


# A broker outage mid-replay: the sends not yet acknowledged are sent again once a broker answers, after a pause
# that doubles from 1 s to 30 s; after RETRY_FOR_S without an acknowledged send the replay gives up (one line).
# Re-sending is idempotent: event ids are deterministic, so an event that did land before the outage and comes
# again is a re-delivery the worker recognises. The window is bounded: every WINDOW events wait for their acks.
RETRY_FOR_S = 600.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
WINDOW = 5000

# (key, value, partition) of one event as sent
Message = tuple[bytes, bytes, int | None]


def backoff(attempt: int) -> float:
    """The pause before retry ``attempt`` (1, 2, ...) after a failed send."""
    return BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1]


class ReplayGaveUp(ClearanceError):
    """No send was acknowledged for ``RETRY_FOR_S``: the broker stayed away."""


class _Sender:
    """Sends events, keeping those not yet acknowledged; on a Kafka failure it reports one line, waits, makes a
    new producer and sends the unacknowledged ones again, in their order."""

    def __init__(self, settings: Settings, topic: str, retry_for: float, say: Callable[[str], None]) -> None:
        self.settings, self.topic, self.retry_for, self.say = settings, topic, retry_for, say
        self.client: Any = None
        self.unacked: list[Message] = []
        self.futures: list[asyncio.Future[Any]] = []
        self.retries = 0

    async def start(self) -> None:
        self.client = producer(self.settings)
        await self.client.start()

    async def stop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # a producer whose broker is gone fails to flush on stop
                await self.client.stop()
            self.client = None

    async def send(self, message: Message) -> None:
        self.unacked.append(message)
        await self._guarded(self._send_one, message)
        if len(self.unacked) >= WINDOW:
            await self.wait_acked()

    async def wait_acked(self) -> None:
        await self._guarded(self._drain)

    async def _send_one(self, message: Message) -> None:
        key, value, partition = message
        self.futures.append(await self.client.send(self.topic, value, key=key, partition=partition))

    async def _drain(self) -> None:
        await self.client.flush()
        await asyncio.gather(*self.futures)
        self.futures.clear()
        self.unacked.clear()

    async def _resend(self) -> None:
        for future in self.futures:  # the old producer's: their outcome no longer matters, but must be collected
            future.add_done_callback(_collect)
        self.futures.clear()
        for message in self.unacked:
            await self._send_one(message)
        await self._drain()

    async def _guarded(self, step: Callable[..., Any], *args: Any) -> None:
        try:
            await step(*args)
            return
        except (KafkaError, OSError) as exc:
            failure: BaseException = exc
        failed_at = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.retries += 1
            waited = time.monotonic() - failed_at
            if waited >= self.retry_for:
                raise ReplayGaveUp(
                    f"Kafka at {self.settings.bootstrap} failed for {waited:.0f} s ({_one_line(failure)}); "
                    f"{len(self.unacked)} events were not acknowledged: run the same replay again (it is idempotent)")
            pause = backoff(attempt)
            self.say(f"clearance replay: Kafka at {self.settings.bootstrap} failed ({_one_line(failure)}); "
                     f"retry {attempt} in {pause:g} s ({len(self.unacked)} events to send again)")
            await self.stop()
            await asyncio.sleep(pause)
            try:
                await self.start()
                await self._resend()
            except (KafkaError, OSError) as exc:
                failure = exc
                continue
            self.say(f"clearance replay: Kafka at {self.settings.bootstrap} answers again; replay resumed")
            return


def _collect(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}"  # aiokafka's errors name themselves


async def _publish(
    settings: Settings, path: Path, batches: Callable[[Iterable[list[str]]], Iterator[Batch]], *, rate: float,
    progress: bool, retry_for: float = RETRY_FOR_S,
) -> tuple[int, int]:
    """Send every batch of the file's rows (keyed by subject id, or to a partition), in order, at most ``rate``
    rows a second; rows without a SUBJECT_ID cannot be sent (an event needs a subject) and are counted. A broker
    outage is retried (see :class:`_Sender`)."""
    topic = settings.topic(RECORD_CHANGES)
    sender = _Sender(settings, topic, retry_for, lambda line: print(line, file=sys.stderr, flush=True))
    await sender.start()
    rows = events = skipped = 0
    started = time.monotonic()
    bar = ProgressBar("replay", path.stat().st_size) if progress else None
    try:
        for subject_id, batch, count in batches(iter_rows(str(path), bar.update if bar else None)):
            if not batch:
                skipped += count
                continue
            for event, partition in batch:
                key = subject_id.encode() if partition is None else b"extract.completed"
                await sender.send((key, encode(event), partition))
                events += 1
            rows += count
            if rate > 0:
                ahead = rows / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await sender.wait_acked()
    finally:
        await sender.stop()
        if bar:
            bar.finish()
    if skipped:
        print(f"clearance replay: {skipped} rows without SUBJECT_ID were not sent", file=sys.stderr)
    return rows, events


@broker_command("replay")
def run_cli(args: argparse.Namespace) -> int:
    settings = Settings()
    path = Path(args.input_doj)
    started = time.monotonic()
    # aiokafka logs every failed produce request and reconnect attempt (dozens of lines a second in an outage);
    # the replay says what matters in one line per failure and retry instead
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        rows, events = asyncio.run(
            replay(settings, path, rate=args.rate, source_agency=args.source_agency,
                   max_records=args.max_records_per_event, progress=wants_progress(args.no_progress),
                   mode=args.mode, extract_id=args.extract_id)
        )
    except (ClearanceError, OSError) as exc:
        print(f"clearance replay: {exc}", file=sys.stderr)
        return 1
    finally:
        quiet.setLevel(level)
    elapsed = max(time.monotonic() - started, 1e-9)
    print(
        f"replayed {rows} rows in {events} events to {settings.topic(RECORD_CHANGES)} "
        f"in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)",
        file=sys.stderr,
    )
    return 0
