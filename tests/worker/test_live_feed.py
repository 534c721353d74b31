"""The pure step for live feeds: corrections of the person, data-quality flags and their policy option, convictions
of counties without a policy, time as a schedule (no revision for time alone), ruleset upgrades."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from extracts import live_event
from factories import LA, conviction

from streams import RULESET_VERSION
from streams.events.validation import parse_record_change
from streams.worker.apply import apply_event
from streams.worker.due import DueIndex
from streams.worker.policies import parse_policies
from streams.worker.reclassify import needs_refresh, reclassify
from streams.worker.state import SubjectState

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
LA_FIXED = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}
LA_TODAY = {"counties": {LA: {"flow": "los_angeles"}}}


def _event(subject: str, *records: dict[str, Any], event_id: str = "e1", source: str = "COURT") -> Any:
    changes = [{"op": "upserted", "record_key": f"r{i}", "sequence": i, "record": r} for i, r in enumerate(records)]
    return live_event(subject, changes, event_id, source)


def _state(*records: dict[str, Any], policies: dict[str, Any] = LA_FIXED, today: date = date(2026, 1, 1),
           subject: str = "S1") -> tuple[SubjectState, Any]:
    state = SubjectState(subject)
    apply_event(state, _event(subject, *records))
    return state, reclassify(state, parse_policies(policies), today, "e1")


def _only(outputs: Any) -> dict[str, Any]:
    [det] = outputs.determinations
    return det  # type: ignore[no-any-return]


def test_a_dob_correction_takes_effect_over_the_first_row() -> None:
    # 39 at compute-at 2019-11-11 (born 1980): "only Prop 64 and completed" rather than the age rule
    state, outputs = _state(conviction("001001001000", "11359 HS", "20100101", PRI_DOB="19800101"))
    assert _only(outputs)["reason"] == "Only has 11357-60 charges and completed sentence"
    correction = live_event("S1", [{"op": "corrected", "attributes": {"PRI_DOB": "19600101"}}], "e2")
    apply_event(state, correction)
    assert state.corrections == {"PRI_DOB": "19600101"}
    assert _only(reclassify(state, parse_policies(LA_FIXED), date(2026, 1, 1), "e2"))["reason"] == "50 years or older"
    apply_event(state, live_event("S1", [{"op": "corrected", "attributes": {"PRI_DOB": None}}], "e3"))
    assert state.corrections == {}


def test_the_shipped_changed_example_corrects_the_dob() -> None:
    example = parse_record_change(json.loads((EXAMPLES / "record-change.v1.changed.example.json").read_text()))
    state = SubjectState(example.subject_id)
    apply_event(state, example)
    assert state.corrections == {"PRI_DOB": "19710101"}


@pytest.mark.parametrize(("values", "code"), [
    ({"PRI_DOB": ""}, "dob_missing"),
    ({"PRI_DOB": "1980-01-01"}, "dob_invalid"),
    ({"STP_EVENT_DATE": "2010-01-01"}, "date_invalid"),
    ({"SUBJECT_ID": "S2"}, "subject_id_mismatch"),
])  # fmt: skip
def test_each_data_problem_is_flagged_on_the_determination(values: dict[str, str], code: str) -> None:
    record = conviction("001001001000", "11359 HS", "20100101") | values
    _, outputs = _state(record)
    assert _only(outputs)["data_quality"] == [code]


def test_a_missing_dob_flags_an_answer_gogen_would_give_and_hand_review_holds_it_back() -> None:
    record = conviction("001001001000", "11359 HS", "20100101") | {"PRI_DOB": ""}
    _, outputs = _state(record)
    det = _only(outputs)
    assert (det["determination"], det["reason"], det["data_quality"]) == (
        "Eligible for Dismissal", "50 years or older", ["dob_missing"])  # gogen's answer: the zero date is old
    careful = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11", "data_quality": "hand_review"}}}
    _, outputs = _state(record, policies=careful)
    det = _only(outputs)
    assert (det["determination"], det["reason"], det["rule"]) == (
        "Hand Review", "Data quality: dob_missing", "data quality")
    # an unflagged person is not affected by the option
    _, outputs = _state(conviction("001001001000", "11359 HS", "20100101"), policies=careful)
    assert _only(outputs)["determination"] == "Eligible for Dismissal"


def test_convictions_in_counties_without_a_policy_are_counted_by_county() -> None:
    state, outputs = _state(conviction("001001001000", "11359 HS", "20100101", county="Los Angeles"),
                            conviction("002001001000", "11359 HS", "20110101", county="SACRAMENTO "))
    assert outputs.determinations == []
    assert state.unpoliced == {"Los Angeles": 1, "SACRAMENTO ": 1}


def test_time_alone_gives_no_revision_and_the_due_date_says_when_an_answer_changes() -> None:
    # born 1970-06-15: turns 50 (LA's dismissal age) on 2020-06-15
    record = conviction("001001001000", "11359 HS", "20100101", PRI_DOB="19700615")
    record2 = conviction("002001001000", "459 PC", "20150101")  # not only Prop 64: the age rule decides
    state, outputs = _state(record, record2, policies=LA_TODAY, today=date(2020, 1, 1))
    det = _only(outputs)
    assert det["next_change"] == {"on": "2020-06-15", "determination": "Eligible for Dismissal",
                                  "reason": "50 years or older"}
    assert state.due == "2020-06-15"
    policies = parse_policies(LA_TODAY)
    for day in (date(2020, 1, 2), date(2020, 3, 1), date(2020, 6, 14)):
        assert not needs_refresh(state, policies, day)
        assert reclassify(state, policies, day, None).determinations == []  # years-since moved: no revision
    assert needs_refresh(state, policies, date(2020, 6, 15))
    changed = _only(reclassify(state, policies, date(2020, 6, 15), None))
    assert (changed["determination"], changed["reason"], changed["revision"]) == (
        "Eligible for Dismissal", "50 years or older", 2)


def test_a_day_touches_only_the_people_due() -> None:
    index = DueIndex()
    for i in range(100):
        index.note(f"S{i}".encode(), (date(2030, 1, 1) + timedelta(days=i % 10)).isoformat())
    index.note(b"S0", "")  # re-classified: nothing due any more
    assert len(index) == 99
    first_day = index.due_by(date(2030, 1, 1))
    assert len(first_day) == 9 and b"S0" not in first_day and b"S1" not in first_day
    assert len(index.due_by(date(2030, 1, 3))) == 20  # the two days since
    assert index.due_by(date(2030, 1, 3)) == []  # taken out: their re-classification notes the next date
    assert len(index) == 70


def test_a_ruleset_upgrade_re_evaluates_held_state() -> None:
    state, _ = _state(conviction("001001001000", "11359 HS", "20100101"))
    policies = parse_policies(LA_FIXED)
    assert state.ruleset == RULESET_VERSION and not needs_refresh(state, policies, date(2026, 1, 1))
    state.ruleset = "gogen-0.2.12"  # as written by an older worker
    assert needs_refresh(state, policies, date(2026, 1, 1))
    assert reclassify(state, policies, date(2026, 1, 1), None).determinations == []  # same answers: no revision
    assert state.ruleset == RULESET_VERSION


def test_states_of_the_previous_version_are_read_and_rewritten() -> None:
    old = {"v": 2, "id": "S1", "r": {"k": [0, [""] * 14]}, "e": {}, "o": [1, 5], "p": "x", "d": ""}
    state = SubjectState.from_bytes(json.dumps(old))
    assert state.records["k"].source == "" and state.ruleset == "" and state.extracts == {}
    assert SubjectState.from_bytes(state.to_bytes()) == state


def test_the_processing_date_is_californias_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.settings import Settings, SettingsError

    settings = Settings()
    assert settings.timezone == "America/Los_Angeles"
    utc_now = datetime.now(UTC)
    assert settings.processing_date() in {(utc_now - timedelta(hours=h)).date() for h in (7, 8)}
    monkeypatch.setenv("CLEARANCE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="CLEARANCE_TIMEZONE must be an IANA time zone"):
        Settings()
