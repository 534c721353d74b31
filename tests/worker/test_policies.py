"""County policies: the shipped statewide default loads, every bad document fails with a message naming what to fix."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from streams.errors import OptionsError
from streams.worker.policies import load_policies, parse_policies

STATEWIDE = Path(__file__).resolve().parents[2] / "deploy" / "policies" / "statewide.json"


def test_statewide_default_covers_all_58_counties_with_la_on_its_own_flow() -> None:
    policies = load_policies(STATEWIDE)
    assert len(policies.by_county) == 58
    assert policies.get("LOS ANGELES").flow_name == "los_angeles"
    assert {p.flow_name for c, p in policies.by_county.items() if c != "LOS ANGELES"} == {"configurable"}
    assert policies.uses_processing_date()
    assert policies.get("KERN").compute_at_for(date(2026, 1, 2)) == datetime(2026, 1, 2)


def test_fixed_compute_at_wins_over_the_processing_date() -> None:
    policies = parse_policies({"counties": {"LOS ANGELES": {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
    assert policies.get("LOS ANGELES").compute_at_for(date(2026, 1, 2)) == datetime(2019, 11, 11)
    assert not policies.uses_processing_date()


def test_fingerprint_changes_with_any_county_and_only_then() -> None:
    doc = {"counties": {"LOS ANGELES": {"flow": "los_angeles", "individual_age": 50}}}
    same = parse_policies(json.loads(json.dumps(doc))).fingerprint
    assert parse_policies(doc).fingerprint == same
    doc["counties"]["LOS ANGELES"]["individual_age"] = 55
    assert parse_policies(doc).fingerprint != same


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], '"counties" object'),
        ({"counties": []}, '"counties" object'),
        ({"counties": {"KERN": {"flow": "bogus"}}}, "flow must be one of"),
        ({"counties": {"KERN": {"flow": "configurable"}}}, "needs eligibility_options"),
        ({"counties": {"KERN": {"flow": "configurable", "compute_at": "2019-13-01", "eligibility_options": {}}}},
         "invalid compute_at date"),
        ({"counties": {"KERN": {"flow": "configurable", "compute_at": 20190101, "eligibility_options": {}}}},
         "compute_at must be a YYYY-MM-DD string"),
        ({"counties": {"KERN": {"flow": "configurable", "eligibility_options": {
            "additionalRelief": {"subjectAgeThreshold": 30}}}}}, "SubjectAgeThreshold should be between 40 and 65"),
        ({"counties": {"LOS ANGELES": {"flow": "los_angeles", "individual_age": "50"}}}, "must be an integer"),
        ({"counties": {" KERN": {"flow": "configurable", "eligibility_options": {}}}}, "surrounding spaces"),
        ({"counties": {"KERN": "configurable"}}, "must be a JSON object"),
    ],
)
def test_bad_policies_are_rejected_with_a_clear_message(doc: object, message: str) -> None:
    with pytest.raises(OptionsError, match=message):
        parse_policies(doc)


def test_missing_or_malformed_files_are_options_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="not found"):
        load_policies(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(OptionsError, match="not valid JSON"):
        load_policies(bad)
