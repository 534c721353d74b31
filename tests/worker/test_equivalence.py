"""Offline equals streaming without a broker: the worker's pure core, fed a generated file as record-change
events, ends with the answers and summary figures ``clearance classify`` writes for the same file — for every
registered flow. (The broker tests prove the same through Kafka; this one runs in seconds and covers all flows.)"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures_worker import classify_reference, classify_summaries

from streams.doj.generate import write_doj
from streams.doj.reader import iter_rows
from streams.events.builders import record_change_event
from streams.events.model import ACTIVE
from streams.events.validation import parse_record_change
from streams.rules.flows.registry import FLOW_NAMES, FLOWS
from streams.summary import county_report
from streams.tools.replay import file_digest, subject_runs
from streams.worker.apply import apply_event
from streams.worker.policies import parse_policies
from streams.worker.reclassify import reclassify
from streams.worker.state import SubjectState

COMPUTE_AT = "2020-07-01"
# The county each flow is run for (pilot flows were written for one county each), and its options.
COUNTIES = {"configurable": "SACRAMENTO", "los_angeles": "LOS ANGELES", "sacramento": "SACRAMENTO",
            "san_joaquin": "SAN JOAQUIN", "contra_costa": "CONTRA COSTA"}
OPTIONS: dict[str, dict[str, Any]] = {
    "configurable": {"eligibility_options": {
        "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359", "11360"]},
        "additionalRelief": {"subjectUnder21AtConviction": True, "subjectAgeThreshold": 50,
                             "yearsSinceConvictionThreshold": 5, "yearsCrimeFreeThreshold": 5,
                             "subjectHasOnlyProp64Charges": True, "subjectIsDeceased": True}}},
    "los_angeles": {"individual_age": 45, "years_conviction_free": 8},
}
REPORT_KEYS = (
    "subjectsWithProp64ConvictionCountInCounty", "prop64ConvictionsCountInCountyByCodeSection",
    "prop64FelonyConvictionsCountInCounty", "prop64NonFelonyConvictionsCountInCounty", "subjectsWithSomeReliefCount",
    "reliefWithCurrentEligibilityChoices", "reliefWithDismissAllProp64",
)


def test_every_registered_flow_is_covered() -> None:
    assert set(COUNTIES) == set(FLOW_NAMES)
    assert {name for name, spec in FLOWS.items() if spec.document or spec.settings} <= set(OPTIONS)


def stream(doj: Path, policies: dict[str, Any], max_records: int) -> list[dict[str, Any]]:
    """The file's rows as the replay publishes them, through decode → apply → reclassify, subject by subject."""
    parsed = parse_policies(policies)
    digest = file_digest(doj)
    states: dict[str, SubjectState] = {}
    for subject_id, run in subject_runs(iter_rows(str(doj)), max_records):
        event = parse_record_change(record_change_event(
            subject_id=subject_id, rows=run, file_digest=digest, source_agency="TEST", emitted_at=datetime.now(UTC)))
        state = states.setdefault(subject_id, SubjectState(subject_id))
        apply_event(state, event)
        reclassify(state, parsed, date(2026, 1, 1), event.event_id)
    return [e.determination for s in states.values() for e in s.emitted.values()
            if e.determination["status"] == ACTIVE]


@pytest.mark.parametrize("flow", FLOW_NAMES)
def test_the_streaming_core_gives_classifys_answers_and_figures(flow: str, tmp_path: Path) -> None:
    county = COUNTIES[flow]
    doj = tmp_path / "doj.csv"
    write_doj(str(doj), 700, seed=sum(map(ord, flow)), counties=[county, "KERN"])
    policies = {"counties": {county: {"flow": flow, "compute_at": COMPUTE_AT, **OPTIONS.get(flow, {})}}}
    expected = classify_reference(doj, json.loads(json.dumps(policies)), tmp_path)
    assert len(expected) > 100
    dets = stream(doj, policies, max_records=3)  # several events per person: the answers are built incrementally
    assert {d["conviction_id"]: (d["determination"], d["reason"]) for d in dets} == expected
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for det in dets:
        by_subject[det["subject_id"]].append(det)
    report = county_report(by_subject)[county]
    summary = classify_summaries(tmp_path)[county]
    # every figure, the pilot flows' "dismiss all Prop 64" ones included: both see the pilot code-section rule,
    # as gogen_pilots did (quirk 21)
    assert {key: report[key] for key in REPORT_KEYS} == {key: summary[key] for key in REPORT_KEYS}
