"""Building flows by name and fingerprinting their policy."""

from __future__ import annotations

import pytest

from streams.errors import OptionsError
from streams.rules.flows.registry import make_flow, policy_fingerprint
from streams.rules.flows.whatif import dismiss_all_prop64

OPTIONS = {"baselineEligibility": {"dismiss": ["11357"], "reduce": ["11358"]}}


@pytest.mark.parametrize(
    ("name", "county"),
    [("configurable", "X"), ("los_angeles", "LOS ANGELES"), ("sacramento", "SACRAMENTO"),
     ("san_joaquin", "SAN JOAQUIN"), ("contra_costa", "CONTRA COSTA")],
)  # fmt: skip
def test_every_flow_name_builds(name: str, county: str) -> None:
    flow = make_flow(name, county, options=OPTIONS if name == "configurable" else None)
    assert (flow.name, flow.county) == (name, county)


def test_unknown_flow_and_missing_options() -> None:
    with pytest.raises(OptionsError, match="unknown flow 'fresno'"):
        make_flow("fresno", "FRESNO")
    with pytest.raises(OptionsError, match="needs eligibility options"):
        make_flow("configurable", "X")


def test_fingerprint_names_the_policy() -> None:
    same = policy_fingerprint(make_flow("configurable", "X", options=OPTIONS))
    assert len(same) == 16 and int(same, 16) >= 0
    verbose = {
        **OPTIONS,
        "additionalRelief": {"subjectIsDeceased": False, "dismissOlderThanAgeThreshold": True},
    }
    assert policy_fingerprint(make_flow("configurable", "X", options=verbose)) == same  # normalised
    assert policy_fingerprint(make_flow("configurable", "Y", options=OPTIONS)) != same
    other = {"baselineEligibility": {"dismiss": ["11357", "11358"]}}
    assert policy_fingerprint(make_flow("configurable", "X", options=other)) != same
    assert policy_fingerprint(make_flow("los_angeles", "LOS ANGELES")) != policy_fingerprint(
        make_flow("los_angeles", "LOS ANGELES", options={"individual_age": 45})
    )
    assert policy_fingerprint(dismiss_all_prop64("X")) != policy_fingerprint(dismiss_all_prop64("Y"))
