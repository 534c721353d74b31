"""San Joaquin and Contra Costa pilot flows (spec §8.5): identical logic, related charges included."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import numbered

from streams.errors import OptionsError
from streams.rules.engine import classify_subject
from streams.rules.flows.registry import make_flow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject

T = datetime(2019, 4, 10)
D = Determination
PILOTS = [("san_joaquin", "SAN JOAQUIN"), ("contra_costa", "CONTRA COSTA")]


def decide(name: str, county: str, rows: list, index: int = 0) -> Decision:
    flow = make_flow(name, county)
    subject = build_subject("S", rows)
    conviction = next(c for c in subject.convictions if c.index == index)
    return flow.decide(subject, conviction, T)


@pytest.mark.parametrize(("name", "county"), PILOTS)
def test_related_charges(name: str, county: str) -> None:
    prop64 = numbered(0, "11359 HS", datetime(2010, 1, 1), county=county, count_order="101001001000")

    def related(code: str, cycle: str = "101") -> list:
        return [prop64, numbered(1, code, datetime(2010, 1, 1), county=county, count_order=f"{cycle}001002000")]

    assert decide(name, county, related("148 PC "), 1) == Decision(D.DISMISSAL, "148 PC")
    assert decide(name, county, related("4060 BP"), 1) == Decision(D.MAYBE, "4060 BP")
    assert decide(name, county, related("4060 BP "), 1) == Decision(D.DISMISSAL, "4060 BP")  # quirk 14
    assert decide(name, county, related("148 PC", "102"), 1) == Decision(D.MAYBE, "No Related Prop64 Charges")
    late = [numbered(0, "602 PC", datetime(2016, 11, 9), county=county)]
    assert decide(name, county, late) == Decision(D.NOT_ELIGIBLE, "Occurred after 11/09/2016")


@pytest.mark.parametrize(("name", "county"), PILOTS)
def test_prop64_checks(name: str, county: str) -> None:
    assert decide(name, county, [numbered(0, "11359 HS", county=county, felony=False)]) == Decision(
        D.DISMISSAL, "Misdemeanor or Infraction"
    )
    assert decide(name, county, [numbered(0, "11357(C) HS", county=county)]) == Decision(
        D.DISMISSAL, "11357 HS"
    )
    first = numbered(0, "11359 HS", datetime(2001, 1, 1), county=county)
    assert decide(name, county, [first, numbered(1, "459 PC", datetime(2014, 4, 9))]) == Decision(
        D.DISMISSAL, "No convictions in past 5 years"
    )
    assert decide(name, county, [first, numbered(1, "459 PC", datetime(2014, 4, 10))]) == Decision(
        D.MAYBE, "Has convictions in past 5 years"
    )
    serving = numbered(0, "11359 HS", datetime(2016, 1, 1), county=county, sentence_days=5 * 365)
    assert decide(name, county, [serving]) == Decision(D.MAYBE, "Sentence not Completed")
    done = numbered(0, "11359 HS", datetime(2016, 1, 1), county=county, sentence_days=30)
    assert decide(name, county, [done]) == Decision(D.DISMISSAL, "Sentence Completed")


@pytest.mark.parametrize(("name", "county"), PILOTS)
def test_evaluates_prop64_or_related_in_county(name: str, county: str) -> None:
    rows = [
        numbered(0, "11359 HS", county=county),
        numbered(1, "148 PC", county=county),
        numbered(2, "459 PC", county=county),
        numbered(3, "148 PC", county="ELSEWHERE"),
    ]
    assert list(classify_subject(build_subject("S", rows), make_flow(name, county), T)) == [0, 1]


def test_pilot_flows_are_bound_to_their_county() -> None:
    with pytest.raises(OptionsError, match="'SAN JOAQUIN' convictions only"):
        make_flow("san_joaquin", "CONTRA COSTA")
    with pytest.raises(OptionsError, match="takes no options"):
        make_flow("contra_costa", "CONTRA COSTA", options={"years": 5})
