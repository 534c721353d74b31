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
import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


async def _publish(
    settings: Settings, path: Path, batches: Callable[[Iterable[list[str]]], Iterator[Batch]], *, rate: float,
    progress: bool,
) -> tuple[int, int]:
    """Send every batch of the file's rows (keyed by subject id, or to a partition), in order, at most ``rate``
    rows a second; rows without a SUBJECT_ID cannot be sent (an event needs a subject) and are counted."""
    topic = settings.topic(RECORD_CHANGES)
    client = producer(settings)
    await client.start()
    rows = events = skipped = 0
    started = time.monotonic()
    bar = ProgressBar("replay", path.stat().st_size) if progress else None
    pending: list[asyncio.Future[Any]] = []
    try:
        for subject_id, batch, count in batches(iter_rows(str(path), bar.update if bar else None)):
            if not batch:
                skipped += count
                continue
            for event, partition in batch:
                key = subject_id.encode() if partition is None else b"extract.completed"
                pending.append(await client.send(topic, encode(event), key=key, partition=partition))
                events += 1
            rows += count
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
            if rate > 0:
                ahead = rows / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await client.flush()
        await asyncio.gather(*pending)
    finally:
        await client.stop()
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
    try:
        rows, events = asyncio.run(
            replay(settings, path, rate=args.rate, source_agency=args.source_agency,
                   max_records=args.max_records_per_event, progress=wants_progress(args.no_progress),
                   mode=args.mode, extract_id=args.extract_id)
        )
    except (ClearanceError, OSError) as exc:
        print(f"clearance replay: {exc}", file=sys.stderr)
        return 1
    elapsed = max(time.monotonic() - started, 1e-9)
    print(
        f"replayed {rows} rows in {events} events to {settings.topic(RECORD_CHANGES)} "
        f"in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)",
        file=sys.stderr,
    )
    return 0
