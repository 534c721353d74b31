"""Replay's grouping of rows into events: one subject per event, file order kept, every event under the limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import fields

from streams.doj.generate import generate
from streams.events.builders import record_change_event
from streams.events.codec import decode_record_change, encode
from streams.tools.replay import subject_runs


def test_runs_follow_subjects_and_file_order() -> None:
    rows = [fields(fill="", subject=subject) for subject in "AABA"]
    runs = [(sid, [i for i, _ in run]) for sid, run in subject_runs(rows, 1000)]
    assert runs == [("A", [0, 1]), ("B", [2]), ("A", [3])]


def test_runs_split_by_count() -> None:
    runs = list(subject_runs([fields(fill="", subject="A")] * 5, 2))
    assert [len(run) for _, run in runs] == [2, 2, 1]
    assert [run[0][0] for _, run in runs] == [0, 2, 4]


def test_every_event_of_a_huge_subject_fits_the_worker_limit() -> None:
    # 3,000 short rows of one person: too many for one 1 MiB event however short the rows are
    rows = [fields(fill="x", subject="BIG") for _ in range(3000)]
    sizes = []
    for sid, run in subject_runs(rows, 5000):
        raw = encode(record_change_event(subject_id=sid, rows=run, file_digest="d" * 16, source_agency="T",
                                         emitted_at=datetime.now(UTC)))
        decode_record_change(raw)  # under the default 1 MiB limit, valid
        sizes.append(len(raw))
    assert len(sizes) > 1 and max(sizes) < 1_048_576


def test_generated_files_replay_into_valid_events() -> None:
    rows = list(generate(200, 3, None))
    total = 0
    for sid, run in subject_runs(rows, 1000):
        event = decode_record_change(encode(record_change_event(
            subject_id=sid, rows=run, file_digest="e" * 16, source_agency="T", emitted_at=datetime.now(UTC))))
        assert event.subject_id == sid
        total += len(event.changes)
    assert total == len(rows)


def test_snapshots_group_each_person_and_tolerate_rows_without_subject_id() -> None:
    from streams.doj import columns as C
    from streams.tools.replay import NotConsecutive, subject_snapshots

    def row(subject: str, count: str) -> list[str]:
        fields = [""] * C.NUM_COLUMNS
        fields[C.SUBJECT_ID], fields[C.CNT_ORDER] = subject, count
        return fields

    rows = [row("A", "1"), row("A", "1"), row("", "9"), row("B", "1"), row("", "9")]
    people = [(sid, [[key for _, key, _ in part] for part in parts]) for sid, parts in subject_snapshots(rows, 1)]
    assert people == [("A", [["//1/0"], ["//1/1"]]), ("", [["//9/0"]]), ("B", [["//1/0"]]), ("", [["//9/0"]])]
    with pytest.raises(NotConsecutive):
        list(subject_snapshots([row("A", "1"), row("B", "1"), row("A", "2")], 10))
