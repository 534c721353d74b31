"""Helpers for extract-sequence tests: derive next month's extract from this month's, and feed extracts through the
worker's pure core exactly as ``clearance replay`` publishes them (snapshots, then extract.completed)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from streams.doj import columns as C
from streams.doj.reader import iter_rows
from streams.events.builders import extract_completed_event, record_change_event, snapshot_event
from streams.events.model import ACTIVE, RecordChangeEvent
from streams.events.validation import parse_record_change
from streams.gocompat.gocsv import GoCsvWriter, encode_record
from streams.tools.replay import subject_snapshots
from streams.worker.apply import apply_event, sweep_extract
from streams.worker.policies import Policies
from streams.worker.reclassify import reclassify
from streams.worker.state import SubjectState

TODAY = date(2026, 1, 1)


def write_rows(path: Path, rows: Iterable[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle, GoCsvWriter(handle) as writer:
        writer.write_encoded(encode_record(C.COLUMNS) + "\n")
        for row in rows:
            writer.writerow(row)
    return path


def people(rows: Iterable[list[str]]) -> dict[str, list[list[str]]]:
    by_subject: dict[str, list[list[str]]] = {}
    for row in rows:
        by_subject.setdefault(row[C.SUBJECT_ID], []).append(list(row))
    return by_subject


def next_extract(previous: dict[str, list[list[str]]], newcomers: dict[str, list[list[str]]], seed: int) -> dict[
        str, list[list[str]]]:
    """Next month's extract: some rows changed, some removed, some people gone, newcomers added, a DOB fixed, a
    sentence row added (a person's rows stay together, as in DOJ extracts)."""
    rng = random.Random(seed)
    out: dict[str, list[list[str]]] = {}
    for subject, rows in previous.items():
        if rng.random() < 0.08:
            continue  # no longer in the extract
        rows = [list(row) for row in rows]
        roll = rng.random()
        if roll < 0.1 and len(rows) > 1:
            del rows[rng.randrange(len(rows))]
        elif roll < 0.2:
            row = rows[rng.randrange(len(rows))]
            row[C.OFFENSE_DESCR] = rng.choice(["11357 HS-POSSESS", "11360 HS-TRANSPORT", "459 PC-BURGLARY"])
        elif roll < 0.3:
            for row in rows:
                row[C.PRI_DOB] = f"19{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}"
        elif roll < 0.4:
            convicted = [row for row in rows if row[C.DISP_DESCR].startswith("CONVICTED")]
            if convicted:
                sentence = list(rng.choice(convicted))
                sentence[C.SENT_LENGTH], sentence[C.SENT_TIME_CODE] = str(rng.randint(1, 36)), "M"
                rows.insert(rows.index(convicted[-1]) + 1, sentence)
        out[subject] = rows
    for subject, rows in newcomers.items():
        out.setdefault(subject, rows)
    return out


def flatten(extract: dict[str, list[list[str]]]) -> list[list[str]]:
    return [row for rows in extract.values() for row in rows]


def snapshot_events(path: Path, source: str, extract_id: str, max_records: int = 1000) -> list[RecordChangeEvent]:
    """The events ``clearance replay`` publishes for the file, decoded (the extract.completed one last)."""
    events: list[dict[str, Any]] = []
    for subject_id, parts in subject_snapshots(iter_rows(str(path)), max_records):
        for number, part in enumerate(parts, 1):
            events.append(snapshot_event(subject_id=subject_id, rows=part, source=source, extract_id=extract_id,
                                         part=number, parts=len(parts), emitted_at=datetime.now(UTC)))
    events.append(extract_completed_event(source=source, extract_id=extract_id, partition=0,
                                          emitted_at=datetime.now(UTC)))
    return [parse_record_change(event) for event in events]


def live_event(subject_id: str, changes: list[dict[str, Any]], event_id: str, source: str = "COURT-X") -> (
        RecordChangeEvent):
    return parse_record_change({
        "schema": "record-change.v1", "event_id": event_id, "type": "record.changed", "source_agency": source,
        "emitted_at": datetime.now(UTC).isoformat(), "subject_id": subject_id, "changes": changes,
    })


def feed(states: dict[str, SubjectState], events: Iterable[RecordChangeEvent], policies: Policies) -> int:
    """The worker's pure step for each event (one partition: extract.completed sweeps everyone held)."""
    emitted = 0
    for event in events:
        if event.type == "extract.completed":
            assert event.snapshot is not None
            for state in states.values():
                if sweep_extract(state, event.snapshot.source, event.snapshot.extract_id):
                    emitted += len(reclassify(state, policies, TODAY, event.event_id).determinations)
            continue
        state = states.setdefault(event.subject_id, SubjectState(event.subject_id))
        if apply_event(state, event).complete:
            emitted += len(reclassify(state, policies, TODAY, event.event_id).determinations)
    return emitted


def answers(states: dict[str, SubjectState]) -> dict[str, tuple[str, str]]:
    return {
        cid: (e.determination["determination"], e.determination["reason"])
        for state in states.values()
        for cid, e in state.emitted.items()
        if e.determination["status"] == ACTIVE
    }


def upserts_events(path: Path, digest: str) -> list[RecordChangeEvent]:
    from streams.tools.replay import subject_runs

    return [parse_record_change(record_change_event(subject_id=sid, rows=run, file_digest=digest,
                                                    source_agency="CA-DOJ-BULK", emitted_at=datetime.now(UTC)))
            for sid, run in subject_runs(iter_rows(str(path)), 1000)]
