"""Los Angeles final flow (spec §8.3): disqualifiers dated before the conviction, LA quirks and boundaries."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import numbered

from streams.errors import OptionsError
from streams.gocompat.dates import ZERO_TIME
from streams.rules.engine import classify_subject
from streams.rules.flows.registry import make_flow
from streams.rules.outcome import Decision, Determination
from streams.rules.subject import build_subject

T = datetime(2020, 7, 1)
D = Determination
LA = "LOS ANGELES"
YOUNG_ADULT = datetime(1980, 1, 1)  # 40 at compute-at: neither "50 or older" nor "21 or younger"


def decide(rows: list, index: int = 0, t: datetime = T, **settings: int) -> Decision:
    flow = make_flow("los_angeles", LA, options=settings)
    subject = build_subject("S", rows)
    conviction = next(c for c in subject.convictions if c.index == index)
    return flow.decide(subject, conviction, t)


def la(index: int, code: str, date: datetime, **facts):
    facts.setdefault("county", LA)
    facts.setdefault("dob", YOUNG_ADULT)
    return numbered(index, code, date, **facts)


def test_effective_date_itself_counts_as_after() -> None:
    assert decide([la(0, "11358 HS", datetime(2016, 11, 9))]) == Decision(
        D.NOT_ELIGIBLE, "Occurred after 11/09/2016"
    )
    assert decide([la(0, "11358 HS", datetime(2016, 11, 8))]).reason != "Occurred after 11/09/2016"


def test_misdemeanors_go_to_the_city_attorney_first() -> None:
    row = la(0, "11358 HS", datetime(2018, 1, 1), felony=False)
    assert decide([row]) == Decision(D.CITY_ATTORNEY, "Misdemeanor or Infraction")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("11357(A) HS", Decision(D.DISMISSAL, "11357(a) or 11357(b)")),
        ("11357(B)HS", Decision(D.DISMISSAL, "11357(a) or 11357(b)")),
        ("11357(C) HS", Decision(D.HAND_REVIEW, "Other 11357")),
        ("66411357(A) HS", Decision(D.HAND_REVIEW, "Other 11357")),
    ],
)
def test_11357(code: str, expected: Decision) -> None:
    assert decide([la(0, code, datetime(2010, 1, 1))]) == expected


def test_only_combined_gang_superstrike_disqualifies_every_later_felony() -> None:
    """Fixture Hannibal Lecter (quirk 10): the combination has no date, so "earliest" is the zero date."""
    rows = [
        la(0, "11358 HS", datetime(2005, 1, 1)),
        la(1, "136.1 PC", datetime(2010, 1, 1), count_order="201001001000"),
        la(2, "186.22(B)(4) PC", datetime(2010, 1, 1), count_order="201001002000"),
    ]
    assert decide(rows) == Decision(D.NOT_ELIGIBLE, "PC 667(e)(2)(c)(iv)")
    infos = classify_subject(build_subject("S", rows), make_flow("los_angeles", LA), T)
    assert infos[0].superstrike_code_sections == ("136.1 PC + 186.22(B)(4) PC",)


def test_superstrike_disqualifies_only_later_convictions() -> None:
    rows = [
        la(0, "11358 HS", datetime(2003, 5, 4)),
        la(1, "187 PC", datetime(2003, 5, 4)),
        la(2, "11358 HS", datetime(2003, 5, 5)),
    ]
    assert decide(rows, 0).reason == "No convictions in past 10 years"
    assert decide(rows, 2).reason == "PC 667(e)(2)(c)(iv)"


def test_registration_without_conviction_disqualifies_everything() -> None:
    rows = [
        la(0, "11358 HS", datetime(2001, 1, 1)),
        la(1, "290 PC", datetime(2015, 1, 1), convicted=False, step="REGISTRATION"),
    ]  # fmt: skip
    assert decide(rows) == Decision(D.NOT_ELIGIBLE, "PC 290")


def test_two_priors_by_five_character_prefix() -> None:
    priors = [
        la(0, "11359(A) HS", datetime(2001, 1, 1), county="SAN JOAQUIN", felony=False),
        la(1, "11359 HS", datetime(2002, 1, 1)),
    ]
    assert decide([*priors, la(2, "11359(B) HS", datetime(2003, 1, 1))], 2).reason == "Two priors"
    same_day = la(2, "11359(B) HS", datetime(2002, 1, 1))
    assert decide([*priors, same_day], 2).reason != "Two priors"  # priors must be strictly earlier
    # quirk 11: the attempt prefix "664" hides the section from the 5-character comparison
    attempts = [la(i, "66411359 HS", datetime(2000 + i, 1, 1)) for i in range(2)]
    assert decide([*attempts, la(2, "11359 HS", datetime(2003, 1, 1))], 2).reason != "Two priors"
    assert decide([*attempts, la(2, "66411359 HS", datetime(2003, 1, 1))], 2).reason == "Two priors"


def test_age_and_youth() -> None:
    old = la(0, "11358 HS", datetime(2015, 1, 1), dob=datetime(1970, 7, 1))
    assert decide([old]).reason == "50 years or older"
    assert decide([old], t=datetime(2020, 6, 30)).reason != "50 years or older"
    assert decide([old], individual_age=45).reason == "45 years or older"
    # "21 or younger" is the age at compute-at: (t - dob) / 365.25 days <= 21
    young = la(0, "11358 HS", datetime(2015, 1, 1), dob=datetime(1999, 7, 2))  # 7670 days: 20.9993
    assert decide([young]).reason == "21 years or younger"
    birthday = la(0, "11358 HS", datetime(2015, 1, 1), dob=datetime(1999, 7, 1))  # 7671 days: 21.0021
    assert decide([birthday]).reason != "21 years or younger"
    assert (
        decide([la(0, "11358 HS", datetime(2015, 1, 1), dob=ZERO_TIME)]).reason == "50 years or older"
    )


def test_only_prop64_needs_every_sentence_completed() -> None:
    done = la(0, "11358 HS", datetime(2015, 1, 1), sentence_days=365)
    assert decide([done]).reason == "Only has 11357-60 charges and completed sentence"
    serving = la(0, "11358 HS", datetime(2015, 1, 1), sentence_days=3650)
    assert decide([serving]) == Decision(D.HAND_REVIEW, "Currently serving sentence")


def test_conviction_free_years_are_inclusive() -> None:
    base = la(0, "11358 HS", datetime(2001, 1, 1))
    assert (
        decide([base, la(1, "459 PC", datetime(2010, 7, 1))]).reason
        == "No convictions in past 10 years"
    )
    later = la(1, "459 PC", datetime(2010, 7, 2))
    assert decide([base, later]) == Decision(D.HAND_REVIEW, "No applicable eligibility criteria")
    assert decide([base, later], years_conviction_free=5).reason == "No convictions in past 5 years"


def test_deceased_after_everything_else() -> None:
    rows = [
        la(0, "11358 HS", datetime(2001, 1, 1)),
        la(1, "459 PC", datetime(2015, 1, 1)),
        la(2, "", ZERO_TIME, convicted=False, step="DECEASED"),
    ]
    assert decide(rows) == Decision(D.DISMISSAL, "Deceased")


def test_settings_are_validated() -> None:
    with pytest.raises(OptionsError, match="LOS ANGELES"):
        make_flow("los_angeles", "ORANGE")
    with pytest.raises(OptionsError, match="individual_age must be a whole number"):
        make_flow("los_angeles", LA, options={"individual_age": "50"})
    with pytest.raises(OptionsError, match="unknown los_angeles option"):
        make_flow("los_angeles", LA, options={"age": 50})
    flow = make_flow("los_angeles", LA, options={"individual_age": 55})
    assert dict(flow.options) == {"individual_age": 55, "years_conviction_free": 10}


# -- messy rows: gogen_pilots' answers (issue #11; spec §10 quirks 15, 17-19, 22) ---------------------------


def test_year_0000_dates_are_earlier_than_the_zero_date() -> None:
    """Quirk 15: Go parses ``0000MMDD`` as a date of year 0, before the zero date of an unparseable one, so both
    year-0 felonies are priors of the undated third (LA's two priors compare with ``Before``)."""
    rows = [la(0, "11360 HS", "00000105"), la(1, "11360 HS", "00000205"), la(2, "11360 HS", "20200001")]
    assert decide(rows, 2) == Decision(D.NOT_ELIGIBLE, "Two priors")
    assert decide(rows, 1).reason != "Two priors"  # one prior only


def test_an_undated_disqualifier_gives_way_to_the_next_one() -> None:
    """Quirk 17: gogen_pilots takes the zero date as "earliest not set yet": after the undated 261(A)(2) (a
    superstrike and a PC 290 section), the 653F superstrike of 2014 becomes the earliest superstrike, which is
    not before the 2011 conviction; the earliest PC 290 date stays the zero date, which is."""
    rows = [
        la(0, "261(A)(2) PC", "20200001"),
        la(1, "11360 HS", datetime(2011, 11, 20)),
        la(2, "653F PC", datetime(2014, 2, 17)),
    ]
    assert decide(rows, 1) == Decision(D.NOT_ELIGIBLE, "PC 290")
    subject = build_subject("S", rows)
    assert subject.facts.earliest_superstrike_date == datetime(2014, 2, 17)
    assert subject.facts.earliest_pc290_date == ZERO_TIME


def test_two_priors_prefix_is_taken_in_runes() -> None:
    """Quirk 18: ``[]rune(codeSection)[0:5]`` turns the byte 0xE9 (read as the surrogate escape U+DCE9) into
    U+FFFD, which no prior's raw byte matches: no two priors."""
    rows = [la(i, "", datetime(year, 1, 1), offense="\udce911360 HS-X") for i, year in enumerate((2000, 2005, 2010))]
    assert decide(rows, 2) == Decision(D.DISMISSAL, "Only has 11357-60 charges and completed sentence")


def test_a_sentence_length_beyond_int64_ends_one_unit_early() -> None:
    """Quirk 19: Atoi clamps 99999999999999999999 to 2^63-1 and gogen ignores the error; times 24 h that wraps to
    -24 h, so the 459's 2-day sentence of 2019-11-10 ends on compute-at itself: completed."""
    rows = [
        la(0, "11358 HS", datetime(2001, 1, 1)),
        la(1, "459 PC", datetime(2019, 11, 10), sentence=("2", "D")),
        la(2, "459 PC", datetime(2019, 11, 10), count_order="002001002000", sentence=("99999999999999999999", "D")),
    ]
    assert decide(rows, t=datetime(2019, 11, 11)) == Decision(D.HAND_REVIEW, "No applicable eligibility criteria")


def test_settings_of_zero_are_the_defaults_and_negative_ones_are_used() -> None:
    """Quirk 22: gogen_pilots turns 0 into 50 and 10 and uses negative values as given."""
    old = la(0, "11358 HS", datetime(2015, 1, 1), dob=datetime(1960, 1, 1))
    assert decide([old], individual_age=0).reason == "50 years or older"
    assert dict(make_flow("los_angeles", LA, options={"individual_age": 0, "years_conviction_free": 0}).options) == {
        "individual_age": 50, "years_conviction_free": 10}
    young = la(0, "11358 HS", datetime(2015, 1, 1))
    assert decide([young], individual_age=-5) == Decision(D.DISMISSAL, "-5 years or older")
    recent = [la(0, "11358 HS", datetime(2001, 1, 1)), la(1, "459 PC", datetime(2019, 1, 1))]
    assert decide(recent, years_conviction_free=0).reason == "No applicable eligibility criteria"
    assert decide(recent, years_conviction_free=-1) == Decision(D.DISMISSAL, "No convictions in past -1 years")
