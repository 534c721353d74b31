"""County policies: the shipped statewide default loads, every bad document fails with a message naming what to fix."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from streams.errors import OptionsError
from streams.worker.policies import AcceptedPolicies, PolicyChange, assess_change, load_policies, parse_policies

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


# -- safe policy changes (issue 10, failure 7) --

LA = {"flow": "los_angeles", "compute_at": "2019-11-11"}
KERN = {"flow": "configurable", "eligibility_options": {}}
BOTH = parse_policies({"counties": {"LOS ANGELES": LA, "KERN": KERN}})


def test_an_emptied_file_removes_every_county_and_needs_permission() -> None:
    change = assess_change(AcceptedPolicies.of(BOTH), parse_policies({"counties": {}}),
                           {"LOS ANGELES": 30, "KERN": 10})
    assert change.removed == {"KERN": 10, "LOS ANGELES": 30} and change.changed == {}
    assert change.at_risk == 40 and change.needs_permission(1.0)  # a removed county always needs it
    assert change.describe() == ("up to 40 of 40 current candidates at risk ('LOS ANGELES' removed: 30 withdrawn; "
                                 "'KERN' removed: 10 withdrawn)")


def test_without_a_record_the_counties_holding_candidates_stand_in_for_the_previous_set() -> None:
    change = assess_change(None, parse_policies({"counties": {}}), {"LOS ANGELES": 3, "KERN": 0})
    assert change.removed == {"LOS ANGELES": 3} and change.needs_permission(0.5)
    first_start = assess_change(None, parse_policies({"counties": {}}), {})
    assert not first_start.removed and not first_start.needs_permission(0.0)  # nothing to withdraw


def test_a_removed_county_without_candidates_still_needs_permission() -> None:
    change = assess_change(AcceptedPolicies.of(BOTH), parse_policies({"counties": {"LOS ANGELES": LA}}),
                           {"LOS ANGELES": 5})
    assert change.removed == {"KERN": 0} and change.needs_permission(0.9)


def test_a_changed_county_puts_its_candidates_at_risk_against_the_threshold() -> None:
    la_39 = parse_policies({"counties": {"LOS ANGELES": {**LA, "individual_age": 39}, "KERN": KERN}})
    change = assess_change(AcceptedPolicies.of(BOTH), la_39, {"LOS ANGELES": 5, "KERN": 95})
    assert change.removed == {} and change.changed == {"LOS ANGELES": 5}
    assert not change.needs_permission(0.1)  # 5 of 100 at risk: under 10 %
    assert change.needs_permission(0.04)
    unchanged = assess_change(AcceptedPolicies.of(BOTH), BOTH, {"LOS ANGELES": 5, "KERN": 95})
    assert unchanged.at_risk == 0 and not unchanged.needs_permission(0.0)
    added = parse_policies({"counties": {"LOS ANGELES": LA, "KERN": KERN, "ALAMEDA": KERN}})
    assert not assess_change(AcceptedPolicies.of(BOTH), added, {"LOS ANGELES": 5}).needs_permission(0.0)


def test_the_accepted_record_round_trips_and_rejects_what_it_does_not_know() -> None:
    record = AcceptedPolicies.of(BOTH)
    raw = record.to_json("2026-01-01T00:00:00+00:00", withdrawals_allowed=False)
    assert AcceptedPolicies.from_json(raw) == record
    assert set(json.loads(raw)) == {"schema", "fingerprint", "counties", "accepted_at", "withdrawals_allowed"}
    for bad in (b"{", b"[]", b'{"schema": "other"}', b'{"schema": "accepted-policies.v1", "counties": 1}'):
        assert AcceptedPolicies.from_json(bad) is None


def test_the_description_is_bounded_and_names_counties_only() -> None:
    many = {f"COUNTY {i:02d}": i for i in range(20)}
    text = PolicyChange(many, {}, 500).describe(limit=3)
    assert text.count("removed") == 3 and "17 more counties" in text
