"""Configurable flow (spec §8.1): options validation with gogen's messages, rule order and §10 boundaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from factories import numbered

from streams.errors import OptionsError
from streams.gocompat.dates import ZERO_TIME
from streams.rules.flows.configurable import EligibilityOptions, parse_options
from streams.rules.flows.registry import make_flow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject

T = datetime(2020, 7, 1)
D = Determination
ALL_DISMISS = {"baselineEligibility": {"dismiss": ["11357", "11358", "11359", "11360"]}}


def relief(**settings: Any) -> dict[str, Any]:
    """Options reducing every section, with the given additional relief."""
    return {
        "baselineEligibility": {"reduce": ["11357", "11358", "11359", "11360"]},
        "additionalRelief": settings,
    }


def decide(options: dict[str, Any], rows: list, index: int = 0, t: datetime = T) -> Decision:
    flow = make_flow("configurable", "SACRAMENTO", options=options)
    subject = build_subject("S", rows)
    conviction = next(c for c in subject.convictions if c.index == index)
    return flow.decide(subject, conviction, t)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"subjectAgeThreshold": 39}, "SubjectAgeThreshold should be between 40 and 65, or 0"),
        ({"subjectAgeThreshold": 66}, "SubjectAgeThreshold should be between 40 and 65, or 0"),
        (
            {"yearsSinceConvictionThreshold": 16},
            "YearsSinceConvictionThreshold should be between 1 and 15, or 0",
        ),
        (
            {"yearsSinceConvictionThreshold": -1},
            "YearsSinceConvictionThreshold should be between 1 and 15, or 0",
        ),
        ({"yearsCrimeFreeThreshold": 16}, "YearsCrimeFreeThreshold should be between 1 and 15, or 0"),
        ({"yearsCrimeFreeThreshold": -3}, "YearsCrimeFreeThreshold should be between 1 and 15, or 0"),
    ],
)
def test_threshold_ranges_use_gogens_messages(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionsError) as raised:
        parse_options(relief(**settings))
    assert str(raised.value) == message


def test_thresholds_accept_their_bounds_and_zero() -> None:
    for age, years in ((0, 0), (40, 1), (65, 15)):
        options = parse_options(
            relief(
                subjectAgeThreshold=age, yearsSinceConvictionThreshold=years, yearsCrimeFreeThreshold=years
            )
        )
        assert (options.subject_age_threshold, options.years_crime_free_threshold) == (age, years)


def test_age_is_checked_first_like_gogen() -> None:
    with pytest.raises(OptionsError, match=r"^SubjectAgeThreshold"):
        parse_options(relief(subjectAgeThreshold=1, yearsCrimeFreeThreshold=99))


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"baselineEligibility": {"dismiss": ["11357(a)"]}}, "unknown code section '11357(a)'"),
        (
            {"baselineEligibility": {"reduce": ["11361"]}},
            "unknown code section '11361' in baselineEligibility.reduce",
        ),
        ({"baselineEligibility": {"dismiss": "11357"}}, "baselineEligibility.dismiss must be a list"),
        ({"baselineEligibility": {"dismiss": [11357]}}, "baselineEligibility.dismiss must be a list"),
        ({"baselineEligibility": []}, "baselineEligibility must be a JSON object"),
        ({"additionalRelief": {"subjectAgeThreshold": "45"}}, "subjectAgeThreshold must be a whole number"),
        ({"additionalRelief": {"subjectAgeThreshold": 45.0}}, "subjectAgeThreshold must be a whole number"),
        (
            {"additionalRelief": {"yearsCrimeFreeThreshold": True}},
            "yearsCrimeFreeThreshold must be a whole number",
        ),
        ({"additionalRelief": {"subjectIsDeceased": 1}}, "subjectIsDeceased must be true or false"),
        ({"additionalRelief": {"subjectUnder21AtConviction": "yes"}}, "must be true or false"),
    ],
)
def test_wrong_types_and_unknown_sections_are_options_errors(document: dict[str, Any], fragment: str) -> None:
    with pytest.raises(OptionsError, match="eligibility options") as raised:
        parse_options(document)
    assert fragment in str(raised.value)


def test_documents_that_are_not_objects() -> None:
    with pytest.raises(OptionsError, match="must be a JSON object"):
        parse_options(["11357"])  # type: ignore[arg-type]


def test_bear_document_is_accepted_verbatim() -> None:
    document = {
        "baselineEligibility": {"dismiss": ["11357", "11358", "11359", "11360"], "reduce": []},
        "additionalRelief": {
            "subjectUnder21AtConviction": False,
            "dismissOlderThanAgeThreshold": False,
            "subjectAgeThreshold": 0,
            "dismissYearsSinceConvictionThreshold": True,
            "yearsSinceConvictionThreshold": 5,
            "dismissYearsCrimeFreeThreshold": True,
            "yearsCrimeFreeThreshold": 5,
            "subjectHasOnlyProp64Charges": True,
            "subjectIsDeceased": None,
        },
    }
    options = parse_options(document)
    assert options.dismiss == ("11357", "11358", "11359", "11360")
    assert (options.years_since_conviction_threshold, options.years_crime_free_threshold) == (5, 5)
    assert options.subject_has_only_prop64_charges and not options.subject_is_deceased


def test_missing_fields_default_off_and_keys_fold_case_like_go() -> None:
    assert parse_options({}) == EligibilityOptions()
    assert parse_options({"BaselineEligibility": {"Dismiss": ["11358"]}}).dismiss == ("11358",)
    flow = make_flow("configurable", "X", options={})
    assert flow.options["additionalRelief"]["subjectAgeThreshold"] == 0


def test_first_matching_rule_wins_in_gogens_order() -> None:
    options = {
        "baselineEligibility": {"dismiss": ["11358"], "reduce": ["11357", "11359", "11360"]},
        "additionalRelief": {"subjectUnder21AtConviction": True, "subjectHasOnlyProp64Charges": True},
    }
    young = datetime(1990, 1, 1)
    misdemeanor = numbered(0, "11358 HS", datetime(2005, 1, 1), felony=False, dob=young)
    assert decide(options, [misdemeanor]) == Decision(D.DISMISSAL, "Misdemeanor or Infraction")
    dismissed = numbered(0, "11358 HS", datetime(2005, 1, 1), dob=young)
    assert decide(options, [dismissed]) == Decision(D.DISMISSAL, "Dismiss all HS 11358 convictions")
    under_21 = numbered(0, "11359 HS", datetime(2005, 1, 1), dob=young)
    assert decide(options, [under_21]) == Decision(D.DISMISSAL, "21 years or younger")
    only_prop64 = numbered(0, "11359 HS", datetime(2015, 1, 1), dob=young)
    assert decide(options, [only_prop64]) == Decision(D.DISMISSAL, "Only has 11357-60 charges")
    other = numbered(1, "187 PC", datetime(2016, 1, 1), dob=young)
    assert decide(options, [only_prop64, other]) == Decision(D.REDUCTION, "Reduce all HS 11359 convictions")


def test_dismiss_list_order_decides_sections_with_two_statutes() -> None:
    two = [numbered(0, "11360/11357 HS")]
    assert decide({"baselineEligibility": {"dismiss": ["11357", "11360"]}}, two).reason == (
        "Dismiss all HS 11357 convictions"
    )
    assert decide({"baselineEligibility": {"dismiss": ["11360", "11357"]}}, two).reason == (
        "Dismiss all HS 11360 convictions"
    )


def test_unconfigured_felony_gets_no_determination() -> None:
    """Quirk 13: neither dismissed nor reduced, and no relief applies."""
    options = {"baselineEligibility": {"dismiss": ["11357"], "reduce": ["11360"]}}
    assert decide(options, [numbered(0, "11359 HS")]) == Decision(D.NONE, "")


def test_no_disqualifiers_in_the_final_flow() -> None:
    """Superstrikes, PC 290 and post-2016 dates only show in columns (Count von Count, Castor Troy)."""
    rows = [
        numbered(0, "11359 HS", datetime(2017, 2, 14)),
        numbered(1, "220 PC", datetime(2000, 1, 1)),
        numbered(2, "288 PC", datetime(2000, 1, 1)),
    ]
    assert decide({"baselineEligibility": {"reduce": ["11359"]}}, rows) == Decision(
        D.REDUCTION, "Reduce all HS 11359 convictions"
    )


def test_age_threshold_is_inclusive_with_go_add_date() -> None:
    options = relief(subjectAgeThreshold=57)
    born = datetime(1963, 2, 28)
    row = numbered(0, "11359 HS", dob=born)
    assert decide(options, [row], t=datetime(2020, 2, 28)).reason == "57 years or older"
    assert decide(options, [row], t=datetime(2020, 2, 27)).reason == "Reduce all HS 11359 convictions"
    leap = numbered(0, "11359 HS", dob=datetime(1964, 2, 29))  # + 57 years = 2021-03-01 in Go
    assert decide(options, [leap], t=datetime(2021, 2, 28)).reason == "Reduce all HS 11359 convictions"
    assert decide(options, [leap], t=datetime(2021, 3, 1)).reason == "57 years or older"


def test_years_since_conviction_is_inclusive() -> None:
    options = relief(yearsSinceConvictionThreshold=5)
    assert decide(options, [numbered(0, "11359 HS", datetime(2015, 7, 1))]).reason == (
        "Conviction occurred 5 or more years ago"
    )
    assert decide(options, [numbered(0, "11359 HS", datetime(2015, 7, 2))]).determination is D.REDUCTION


def test_crime_free_is_strict_and_spans_every_conviction() -> None:
    options = relief(yearsCrimeFreeThreshold=5)
    old = numbered(0, "11359 HS", datetime(2001, 1, 1))
    assert decide(options, [old, numbered(1, "187 PC", datetime(2015, 7, 1))]).determination is D.REDUCTION
    assert decide(options, [old, numbered(1, "187 PC", datetime(2015, 6, 30))]).reason == (
        "No convictions in the past 5 years"
    )


def test_zero_dates() -> None:
    """Quirk 4: a zero DOB is "old enough"; a zero disposition date is long ago and "under 21"."""
    zero_dob = numbered(0, "11359 HS", dob=ZERO_TIME)
    assert decide(relief(subjectAgeThreshold=65), [zero_dob]).reason == "65 years or older"
    assert decide(relief(subjectUnder21AtConviction=True), [zero_dob]).determination is D.REDUCTION
    zero_date = numbered(0, "11359 HS", ZERO_TIME)
    assert decide(relief(yearsSinceConvictionThreshold=15), [zero_date]).reason == (
        "Conviction occurred 15 or more years ago"
    )
    assert decide(relief(subjectUnder21AtConviction=True), [zero_date]).reason == "21 years or younger"


def test_deceased_option() -> None:
    rows = [numbered(0, "11359 HS"), numbered(1, "", convicted=False, step="DECEASED")]
    assert decide(relief(subjectIsDeceased=True), rows).reason == "Individual is deceased"
    assert decide(relief(), rows).reason == "Reduce all HS 11359 convictions"


def test_evaluates_prop64_convictions_of_the_exact_county() -> None:
    flow = make_flow("configurable", "SAN JOAQUIN", options=ALL_DISMISS)
    subject = build_subject(
        "S",
        [
            numbered(0, "11357 HS", county="SAN JOAQUIN"),
            numbered(1, "11357 HS", county="San Joaquin"),
            numbered(2, "148 PC", county="SAN JOAQUIN"),
        ],
    )
    assert [flow.evaluates(subject, c) for c in subject.convictions] == [True, False, False]
