"""``clearance replay``: publish a DOJ file's rows, in file order, as ``record.upserted`` events.

Consecutive rows of one subject travel in one event (faust pays ~160 µs per message, the rules ~3 µs per record, so
fewer, larger messages are what makes a bulk load fast); ``--max-records-per-event 1`` gives live-like events.
Keys are SUBJECT_ID, partitioned by the producer's default murmur2 partitioner (the same as Java clients'), so every
event of a person lands on the same partition and in order. Record keys and event ids derive from the file's
content digest and row index: replaying the same file again upserts the same records (idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.doj import columns as C
from streams.doj.reader import iter_rows
from streams.errors import ClearanceError
from streams.events.builders import record_change_event
from streams.events.codec import encode
from streams.kafka.clients import producer
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


async def replay(
    settings: Settings, path: Path, *, rate: float = 0.0, source_agency: str = "CA-DOJ-BULK",
    max_records: int = 1000, progress: bool = True,
) -> tuple[int, int]:
    """Publish the file; returns (rows, events). ``rate`` limits rows per second (0 = unlimited)."""
    digest = file_digest(path)
    topic = settings.topic(RECORD_CHANGES)
    client = producer(settings)
    await client.start()
    rows = events = 0
    started = time.monotonic()
    bar = ProgressBar("replay", path.stat().st_size) if progress else None
    pending: list[asyncio.Future[Any]] = []
    skipped = 0
    try:
        for subject_id, run in subject_runs(iter_rows(str(path), bar.update if bar else None), max_records):
            if not subject_id:  # an event needs a subject; say how many rows could not be sent
                skipped += len(run)
                continue
            event = record_change_event(
                subject_id=subject_id, rows=run, file_digest=digest, source_agency=source_agency,
                emitted_at=datetime.now(UTC),
            )
            pending.append(await client.send(topic, encode(event), key=subject_id.encode()))
            rows += len(run)
            events += 1
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


def run_cli(args: argparse.Namespace) -> int:
    settings = Settings()
    path = Path(args.input_doj)
    started = time.monotonic()
    try:
        rows, events = asyncio.run(
            replay(settings, path, rate=args.rate, source_agency=args.source_agency,
                   max_records=args.max_records_per_event, progress=wants_progress(args.no_progress))
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
