"""Live feeds as agencies send them, through the worker's pure core: refreshed extracts as source snapshots,
people dropped from an extract, live changes from another source, snapshots split in parts."""

from __future__ import annotations

import json
from pathlib import Path

from extracts import (
    TODAY,
    answers,
    feed,
    flatten,
    live_event,
    next_extract,
    people,
    snapshot_events,
    upserts_events,
    write_rows,
)
from fixtures_worker import classify_reference, statewide_policies
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.doj.generate import generate
from streams.worker.apply import apply_event
from streams.worker.policies import parse_policies
from streams.worker.reclassify import reclassify
from streams.worker.state import SubjectState

COUNTIES = ["SACRAMENTO", "LOS ANGELES", "KERN"]


def _policies() -> dict:  # type: ignore[type-arg]
    doc = statewide_policies()
    return {"counties": {c: doc["counties"][c] for c in COUNTIES}}


def test_replaying_v1_v2_v3_as_snapshots_ends_as_classify_on_v3(tmp_path: Path) -> None:
    population = people(generate(900, 5, COUNTIES))
    subjects = list(population)
    v1 = {s: population[s] for s in subjects[:700]}
    v2 = next_extract(v1, {s: population[s] for s in subjects[700:800]}, seed=1)
    v3 = next_extract(v2, {s: population[s] for s in subjects[800:]}, seed=2)
    files = [write_rows(tmp_path / f"v{i}.csv", flatten(v)) for i, v in enumerate((v1, v2, v3), 1)]
    policy_doc = _policies()
    policies = parse_policies(policy_doc)
    states: dict[str, SubjectState] = {}
    live_subject = subjects[10]
    record = {"SUBJECT_ID": live_subject, "STP_TYPE_DESCR": "COURT ACTION", "STP_ORI_CNTY_NAME": "SACRAMENTO",
              "CNT_ORDER": "900001001000", "OFFENSE_DESCR": "187 PC-MURDER", "DISP_DESCR": "CONVICTED-PRISON",
              "CONV_STAT_DESCR": "FELONY", "STP_EVENT_DATE": "20230101"}
    for number, path in enumerate(files, 1):
        if number == 2:  # a live court change from another source, in the middle of the extracts
            feed(states, [live_event(live_subject, [{"op": "upserted", "record_key": "court-x-1", "sequence": 99,
                                                     "record": record}], "live-1")], policies)
        feed(states, snapshot_events(path, "CA-DOJ-BULK", f"extract-{number}", max_records=3), policies)
    assert any(k == "court-x-1" for k in states[live_subject].records)  # another source's record survives
    feed(states, [live_event(live_subject, [{"op": "retracted", "record_key": "court-x-1"}], "live-2")], policies)
    (tmp_path / "classify").mkdir()
    expected = classify_reference(files[-1], json.loads(json.dumps(policy_doc)), tmp_path / "classify")
    assert len(expected) > 200
    assert answers(states) == expected
    gone = set(v2) - set(v3)
    assert gone and all(not states[s].records for s in gone)  # dropped from the extract: nothing left


def test_the_old_replay_by_file_digest_adds_a_refreshed_extract_beside_the_first(tmp_path: Path) -> None:
    """Why snapshots exist: row-index keys of two files are different records, so v2 is added, not replacing."""
    population = people(generate(200, 9, ["SACRAMENTO"]))
    v1 = population
    v2 = next_extract(v1, {}, seed=3)
    states: dict[str, SubjectState] = {}
    policies = parse_policies(_policies())
    for number, extract in enumerate((v1, v2), 1):
        feed(states, upserts_events(write_rows(tmp_path / f"v{number}.csv", flatten(extract)), f"digest{number}"),
             policies)
    kept = sum(len(s.records) for s in states.values())
    assert kept == len(flatten(v1)) + len(flatten(v2))


@st.composite
def extract_sequences(draw: st.DrawFn) -> list[dict[str, list[list[str]]]]:
    population = people(generate(draw(st.integers(20, 60)), draw(st.integers(0, 10_000)), ["SACRAMENTO"]))
    subjects = list(population)
    sequence = []
    for _ in range(draw(st.integers(1, 4))):
        chosen = draw(st.lists(st.sampled_from(subjects), unique=True, max_size=len(subjects)))
        extract = {s: population[s] for s in subjects if s in chosen}
        if sequence and draw(st.booleans()):
            extract = next_extract(sequence[-1], extract, draw(st.integers(0, 1000)))
        sequence.append(extract)
    return sequence


@given(sequence=extract_sequences(), max_records=st.integers(1, 4))
@settings(max_examples=25)
def test_any_sequence_of_extracts_ends_as_if_only_the_last_was_replayed(
    sequence: list[dict[str, list[list[str]]]], max_records: int, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("extracts")
    policies = parse_policies(_policies())
    states: dict[str, SubjectState] = {}
    for number, extract in enumerate(sequence):
        path = write_rows(tmp / f"e{number}.csv", flatten(extract))
        feed(states, snapshot_events(path, "CA-DOJ-BULK", f"e{number}", max_records), policies)
    only_last: dict[str, SubjectState] = {}
    feed(only_last, snapshot_events(tmp / f"e{len(sequence) - 1}.csv", "CA-DOJ-BULK", "last", 1000), policies)
    assert answers(states) == answers(only_last)
    for subject, state in states.items():
        held = sorted(r.values for r in state.records.values())
        assert held == sorted(r.values for r in only_last.get(subject, SubjectState(subject)).records.values())


def test_a_snapshot_in_parts_is_answered_for_with_its_last_part(tmp_path: Path) -> None:
    person = people(generate(40, 3, ["SACRAMENTO"]))
    subject, rows = max(person.items(), key=lambda item: len(item[1]))
    assert len(rows) >= 3
    events = snapshot_events(write_rows(tmp_path / "p.csv", rows), "CA-DOJ-BULK", "e1", max_records=1)
    parts = [e for e in events if e.type == "record.snapshot"]
    assert len(parts) == len(rows) and parts[-1].snapshot is not None and parts[-1].snapshot.is_last_part
    state = SubjectState(subject)
    policies = parse_policies(_policies())
    for part in parts[:-1]:
        assert not apply_event(state, part).complete
    assert apply_event(state, parts[-1]).complete
    assert len(state.records) == len(rows) and state.extracts == {"CA-DOJ-BULK": "e1"}
    whole = SubjectState(subject)
    apply_event(whole, snapshot_events(tmp_path / "p.csv", "CA-DOJ-BULK", "e1")[0])
    assert reclassify(state, policies, TODAY, "e").determinations == reclassify(
        whole, policies, TODAY, "e").determinations
