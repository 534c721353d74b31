"""The pure streaming step: incremental answers, candidate changes, idempotence and policy refresh."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest
from factories import LA, conviction, deceased, retract, upsert

from streams.doj import columns as C
from streams.doj.generate import generate
from streams.doj.record import RULE_COLUMNS, rule_values
from streams.events.schemas import validate
from streams.worker.apply import apply_changes
from streams.worker.policies import load_policies, parse_policies
from streams.worker.reclassify import classify_state, needs_refresh, reclassify, replay_outputs
from streams.worker.state import StoredRecord, SubjectState

TODAY = date(2026, 1, 1)
LA_POLICY = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}


def step(state: SubjectState, *changes, policies=None, event_id="e1"):
    apply_changes(state, changes)
    out = reclassify(state, parse_policies(policies or LA_POLICY), TODAY, event_id)
    for det in out.determinations:
        validate("determination.v1", det)
    for cand in out.candidates:
        validate("dismissal-candidate.v1", cand)
    return out


def test_first_prop64_conviction_adds_a_candidate() -> None:
    state = SubjectState("S1")
    out = step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    [det] = out.determinations
    assert (det["conviction_id"], det["revision"], det["status"]) == ("S1:001001001000", 1, "active")
    assert (det["determination"], det["reason"]) == (
        "Eligible for Dismissal", "Only has 11357-60 charges and completed sentence")
    assert det["subject"] == {"convictions": 1, "felony_convictions": 1, "convictions_last_7_years": 0}
    [cand] = out.candidates
    assert (cand["change"], cand["candidate_id"], cand["previous_determination"]) == (
        "added", "S1:001001001000#1", None)


def test_same_event_twice_from_the_same_state_gives_identical_events() -> None:
    a, b = SubjectState("S1"), SubjectState("S1")
    change = upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101"))
    assert step(a, change) == step(b, change)


def test_unchanged_answer_emits_nothing() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    # an arrest row changes no answer and no fact of the conviction
    out = step(state, upsert("r2", 2, {"SUBJECT_ID": "S1", "STP_TYPE_DESCR": "ARREST/DETAINED/CITED"}), event_id="e2")
    assert not out


def test_earlier_superstrike_withdraws_the_candidate() -> None:
    state = SubjectState("S1")
    step(state, upsert("r2", 2, conviction("002001001000", "11359 HS", "20100101")))
    strike = conviction("001001001000", "187 PC", "20050101", county="ALAMEDA")
    out = step(state, upsert("r1", 1, strike), event_id="e2")
    [det] = out.determinations
    assert (det["determination"], det["reason"], det["revision"]) == ("Not eligible", "PC 667(e)(2)(c)(iv)", 2)
    [cand] = out.candidates
    assert (cand["change"], cand["previous_determination"], cand["determination"]) == (
        "withdrawn", "Eligible for Dismissal", "Not eligible")
    assert cand["source_event_id"] == "e2"


def _hand_review_subject(state: SubjectState) -> None:
    """A Prop 64 felony plus a recent other conviction: the LA flow ends in Hand Review."""
    out = step(
        state,
        upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101", dob="19800101")),
        upsert("r2", 2, conviction("002001001000", "459 PC", "20150101", county="ALAMEDA")),
    )
    assert [(d["determination"], d["reason"]) for d in out.determinations] == [
        ("Hand Review", "No applicable eligibility criteria")]
    assert not out.candidates


def test_dob_correction_makes_the_person_50_and_adds_a_candidate() -> None:
    state = SubjectState("S1")
    _hand_review_subject(state)
    out = step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101", dob="19600101")),
               event_id="dob-fix")
    [det] = out.determinations
    assert (det["determination"], det["reason"], det["revision"]) == ("Eligible for Dismissal", "50 years or older", 2)
    assert [c["change"] for c in out.candidates] == ["added"]


def test_deceased_record_adds_a_candidate_under_the_la_flow() -> None:
    state = SubjectState("S1")
    _hand_review_subject(state)
    out = step(state, upsert("r3", 3, deceased()), event_id="death")
    [det] = out.determinations
    assert (det["determination"], det["reason"]) == ("Eligible for Dismissal", "Deceased")
    assert det["facts"]["deceased"] is True
    assert [c["change"] for c in out.candidates] == ["added"]


def test_retracting_the_conviction_record_retracts_its_determination() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    out = step(state, retract("r1"), event_id="oops")
    [det] = out.determinations
    assert (det["status"], det["determination"], det["reason"], det["revision"]) == ("retracted", None, None, 2)
    [cand] = out.candidates
    assert (cand["change"], cand["determination"]) == ("withdrawn", None)
    # and it can come back, with a newer revision
    out = step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")), event_id="back")
    assert out.determinations[0]["revision"] == 3
    assert out.candidates[0]["change"] == "added"


def test_only_counties_with_a_policy_get_determinations() -> None:
    state = SubjectState("S1")
    out = step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101", county="KERN")))
    assert not out


def test_replay_outputs_resend_the_last_events_verbatim() -> None:
    state = SubjectState("S1")
    out = step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    assert replay_outputs(state).determinations == out.determinations
    assert replay_outputs(state).candidates == out.candidates


def test_state_round_trips_through_bytes() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    state.last_offset = (3, 42)
    again = SubjectState.from_bytes(state.to_bytes())
    assert again == state
    assert again.to_bytes() == state.to_bytes()


def test_version_1_state_with_column_mappings_reads_as_version_3() -> None:
    """A worker upgraded over a v1 changelog keeps its people: mappings become rule-value lists (of no source)."""
    state = SubjectState("S1")
    record = conviction("001001001000", "11359 HS", "20100101")
    step(state, upsert("r1", 1, record))
    doc = orjson.loads(state.to_bytes())
    assert doc["v"] == 3 and doc["r"]["r1"] == [1, rule_values(record), "", ""]
    doc["v"], doc["r"]["r1"] = 1, [1, {k: v for k, v in record.items() if k in RULE_COLUMNS}]
    old = SubjectState.from_bytes(orjson.dumps(doc))
    assert old == state
    assert not reclassify(old, parse_policies(LA_POLICY), TODAY, "e2")  # same answers: nothing to emit


def test_lean_subjects_classify_like_subjects_that_keep_their_records() -> None:
    """Without pilot flows the worker builds subjects that keep no rows; the answers are those of subjects that do."""
    statewide = load_policies(Path(__file__).parents[2] / "deploy" / "policies" / "statewide.json")
    assert not statewide.keeps_records
    keeping = load_policies(Path(__file__).parents[2] / "deploy" / "policies" / "statewide.json")
    object.__setattr__(keeping, "keeps_records", True)
    by_subject: dict[str, list[list[str]]] = {}
    for fields in generate(400, 11, None):
        by_subject.setdefault(fields[C.SUBJECT_ID], []).append(list(fields))
    compared = 0
    for subject_id, rows in by_subject.items():
        state = SubjectState(subject_id)
        for i, fields in enumerate(rows):
            state.records[f"k{i}"] = StoredRecord(i, rule_values(dict(zip(C.COLUMNS, fields, strict=True))))
        lean = classify_state(state, statewide, TODAY)
        assert lean == classify_state(state, keeping, TODAY)
        compared += len(lean.determinations)
    assert compared > 100


def test_state_rejects_unknown_versions() -> None:
    with pytest.raises(ValueError, match="version"):
        SubjectState.from_bytes(b'{"v": 99}')


def test_a_changed_policy_needs_a_refresh_and_changes_the_answer() -> None:
    state = SubjectState("S1")
    _hand_review_subject(state)
    older = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11", "individual_age": 39}}}
    policies = parse_policies(older)
    assert needs_refresh(state, policies, TODAY)
    out = reclassify(state, policies, TODAY, None)
    assert [(d["determination"], d["reason"]) for d in out.determinations] == [
        ("Eligible for Dismissal", "39 years or older")]
    assert not needs_refresh(state, policies, TODAY)


def test_processing_date_policies_refresh_on_the_due_date_only() -> None:
    policies = parse_policies({"counties": {LA: {"flow": "los_angeles"}}})
    state = SubjectState("S1")
    apply_changes(state, [upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101"))])
    out = reclassify(state, policies, date(2020, 1, 1), "e1")
    assert out.determinations[0]["compute_at"] == "2020-01-01"
    assert not needs_refresh(state, policies, date(2020, 1, 1))
    assert state.due and not needs_refresh(state, policies, date(2020, 1, 2))  # nothing changes the next day
    assert needs_refresh(state, policies, date.fromisoformat(state.due))


def test_each_revision_is_remembered_with_its_cause() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")), event_id="e1")
    # a superstrike arrives: the answer changes, caused by event e2
    step(state, upsert("r2", 2, conviction("002001001000", "187 PC", "20120101")), event_id="e2")
    older = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11", "individual_age": 39}}}
    reclassify(state, parse_policies(older), TODAY, None, cause="policies")
    history = state.history["S1:001001001000"]
    assert [(r.revision, r.cause, r.event_id) for r in history][:2] == [(1, "event", "e1"), (2, "event", "e2")]
    assert all(r.processing_date == TODAY.isoformat() and r.ruleset for r in history)
    assert history[0].determination == "Eligible for Dismissal" and history[1].determination != history[0].determination
    assert [r.revision for r in history] == list(range(1, len(history) + 1))
    assert state.emitted["S1:001001001000"].revision == history[-1].revision
    assert SubjectState.from_bytes(state.to_bytes()).history == state.history


def test_a_retraction_is_a_revision_with_its_status() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")), event_id="e1")
    step(state, retract("r1"), event_id="e2")
    last = state.history["S1:001001001000"][-1]
    assert (last.revision, last.cause, last.event_id, last.status) == (2, "event", "e2", "retracted")


def test_the_history_keeps_the_last_revisions_only() -> None:
    from streams.worker.state import HISTORY_LIMIT

    state = SubjectState("S1")
    for n in range(HISTORY_LIMIT + 3):  # alternate record and retraction: every step is a revision
        change = upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")) if n % 2 == 0 else retract("r1")
        step(state, change, event_id=f"e{n}")
    history = state.history["S1:001001001000"]
    assert len(history) == HISTORY_LIMIT
    assert [r.revision for r in history] == list(range(4, HISTORY_LIMIT + 4))
    assert history[-1].event_id == f"e{HISTORY_LIMIT + 2}"


def test_a_state_written_before_the_history_reads_with_none() -> None:
    state = SubjectState("S1")
    step(state, upsert("r1", 1, conviction("001001001000", "11359 HS", "20100101")))
    doc = orjson.loads(state.to_bytes())
    del doc["h"]
    assert SubjectState.from_bytes(orjson.dumps(doc)).history == {}


def test_an_unknown_cause_is_refused() -> None:
    with pytest.raises(ValueError, match="cause"):
        reclassify(SubjectState("S1"), parse_policies(LA_POLICY), TODAY, None, cause="whim")
