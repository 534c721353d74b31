"""The schedule against brute force: ``next_change`` is the first day on which evaluating the flow day by day gives
another determination or reason, for every flow and random people and dates; ``next_window_change`` likewise for
the 7-year window. And each rule's declaration is checked on its own: a timeless rule never changes with the
date, a timed one changes only on a day it declared."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from factories import numbered
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.gocompat.dates import ZERO_TIME, add_years
from streams.rules.engine import subject_for
from streams.rules.flips import midnight_on_or_after
from streams.rules.flows.base import Rule, RuleFlow
from streams.rules.flows.registry import FLOWS, make_flow
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.outcome import Decision, Determination
from streams.rules.schedule import NextChange, next_change, next_changes, next_window_change
from streams.rules.subject import Conviction, Subject, build_subject

DAY = timedelta(days=1)
SCAN_YEARS = 15
SAC = "SACRAMENTO"
LA = "LOS ANGELES"


def _options(dismiss=(), reduce=(), **relief) -> dict:
    return {"baselineEligibility": {"dismiss": list(dismiss), "reduce": list(reduce)}, "additionalRelief": relief}


ALL = ["11357", "11358", "11359", "11360"]
CASES: list[tuple[str, RuleFlow]] = [
    ("configurable: every option", make_flow("configurable", SAC, options=_options(
        ["11357", "11358"], ["11359"], subjectUnder21AtConviction=True, subjectAgeThreshold=50,
        yearsSinceConvictionThreshold=10, yearsCrimeFreeThreshold=5, subjectHasOnlyProp64Charges=True,
        subjectIsDeceased=True))),
    ("configurable: BEAR defaults", make_flow("configurable", SAC, options=_options(
        ALL, yearsSinceConvictionThreshold=5, yearsCrimeFreeThreshold=5, subjectHasOnlyProp64Charges=True))),
    ("configurable: reduce all, age 40, 3 since, 7 crime free", make_flow("configurable", SAC, options=_options(
        reduce=ALL, subjectAgeThreshold=40, yearsSinceConvictionThreshold=3, yearsCrimeFreeThreshold=7))),
    ("configurable: age 65, 15 since, 1 crime free, under 21", make_flow("configurable", SAC, options=_options(
        ["11358"], ["11357", "11360"], subjectUnder21AtConviction=True, subjectAgeThreshold=65,
        yearsSinceConvictionThreshold=15, yearsCrimeFreeThreshold=1))),
    ("configurable: crime free 15 only", make_flow("configurable", SAC, options=_options(
        yearsCrimeFreeThreshold=15))),
    ("configurable: no options", make_flow("configurable", SAC, options={})),
    ("los_angeles: 50 / 10", make_flow("los_angeles", "LOS ANGELES")),
    ("los_angeles: 65 / 3", make_flow("los_angeles", "LOS ANGELES",
                                      options={"individual_age": 65, "years_conviction_free": 3})),
    ("los_angeles: 40 / 15", make_flow("los_angeles", "LOS ANGELES",
                                       options={"individual_age": 40, "years_conviction_free": 15})),
    ("sacramento", make_flow("sacramento", SAC)),
    ("san_joaquin", make_flow("san_joaquin", "SAN JOAQUIN")),
    ("contra_costa", make_flow("contra_costa", "CONTRA COSTA")),
    ("dismiss all Prop 64", dismiss_all_prop64(SAC)),
]  # fmt: skip
# far dates every timeless predicate must answer alike on
FAR = [datetime(1, 1, 2), datetime(1900, 1, 1), datetime(1990, 6, 15), datetime(2016, 11, 9),
       datetime(2040, 2, 29), datetime(2200, 3, 1), datetime(9999, 12, 31)]  # fmt: skip

LEAP_DAYS = [datetime(year, 2, 29) for year in (1944, 1960, 1972, 1988, 1996, 2000, 2004, 2008, 2012, 2020)]
MARCH_FIRSTS = [datetime(year, 3, 1) for year in (1950, 1970, 1985, 1999, 2001, 2011, 2015, 2019)]
CODES = [
    "11357 HS", "11357(A) HS", "11357(b) HS", "11357(C) HS", "11358 HS", "11358(C) HS", "11359 HS",
    "11359(B) HS", "11360(A) HS", "664-11359 HS", "4060 BP", "148 PC", "187 PC", "288 PC", "459 PC",
]  # fmt: skip
PROP64 = CODES[:10]
NOT_11357 = ["11358 HS", "11358(C) HS", "11359 HS", "11359(B) HS", "11360(A) HS", "664-11359 HS"]


def _days(low: datetime, high: datetime) -> st.SearchStrategy[datetime]:
    return st.dates(low.date(), high.date()).map(lambda d: datetime(d.year, d.month, d.day))


def _weighted(*choices: tuple[int, st.SearchStrategy[datetime]]) -> st.SearchStrategy[datetime]:
    return st.one_of([strategy for weight, strategy in choices for _ in range(weight)])


dobs = _weighted(
    (6, _days(datetime(1940, 1, 1), datetime(2008, 12, 31))),
    (2, st.sampled_from(LEAP_DAYS[:-1] + MARCH_FIRSTS[:-1])),
    (1, st.just(ZERO_TIME)),
)
BOUNDARY_DISPOSITIONS = [datetime(2016, 11, 8), datetime(2016, 11, 9), datetime(2016, 11, 10), *LEAP_DAYS[3:],
                         *MARCH_FIRSTS[2:]]  # fmt: skip


def dispositions(dob: datetime) -> st.SearchStrategy[datetime]:
    """Mostly at 15-55 years of age, before Prop 64 took effect; some on boundary days, some zero."""
    if dob == ZERO_TIME:
        usual = _days(datetime(1985, 1, 1), datetime(2016, 11, 8))
    else:
        usual = st.integers(15 * 365, 55 * 365).map(lambda days: dob + DAY * days)
    return _weighted(
        (6, usual),
        (1, _days(datetime(1985, 1, 1), datetime(2024, 12, 31))),
        (2, st.sampled_from(BOUNDARY_DISPOSITIONS)),
        (1, st.just(ZERO_TIME)),
    )
sentences = st.one_of(
    st.just(("", "")),
    st.tuples(st.integers(-3, 40).map(str), st.sampled_from(["D", "M", "Y"])),
)
YEAR_0 = ["00000101", "00000229", "00001231"]  # Go reads year 0 (a leap year); before the zero time


@st.composite
def people(draw: st.DrawFn, county: str) -> list[tuple[int, list[str]]]:
    """One person's rows: 1-4 convictions, sentence rows, maybe DECEASED or a 290 registration."""
    dob = draw(dobs)
    rows: list[tuple[int, list[str]]] = []
    year_0 = draw(st.integers(0, 15)) == 0
    common: dict[str, object] = {"subject": "S", "dob": draw(st.sampled_from(YEAR_0)) if year_0 else dob}
    for number in range(draw(st.integers(1, 4))):
        code = draw(st.one_of(st.sampled_from(NOT_11357), st.sampled_from(PROP64), st.sampled_from(CODES)))
        date: datetime | str = draw(dispositions(dob))
        if year_0 and draw(st.booleans()):
            date = draw(st.sampled_from(YEAR_0))
        count_order = f"{draw(st.sampled_from(['001', '002', '003']))}001{number + 1:03d}000"
        facts = {
            **common,
            "county": draw(st.sampled_from([county, county, county, "ALAMEDA"])),
            "count_order": count_order,
            "felony": draw(st.sampled_from([True] * 7 + [False])),
        }
        rows.append(numbered(len(rows), code, date, sentence=draw(sentences), **facts))
        if draw(st.integers(0, 3)) == 0:  # a sentence row of the same count
            rows.append(numbered(len(rows), code, date, sentence=draw(sentences), **facts))
    if draw(st.integers(0, 7)) == 0:
        rows.append(numbered(len(rows), "", datetime(2019, 1, 1), step="DECEASED", convicted=False, **common))
    if draw(st.integers(0, 7)) == 0:
        rows.append(numbered(len(rows), "290 PC", datetime(2000, 1, 1), step="REGISTRATION", convicted=False,
                             **common))  # fmt: skip
    return rows


@st.composite
def compute_ats(draw: st.DrawFn, subject: Subject) -> datetime:
    """Mostly a day up to a year before a threshold of one of the person's dates (an age, years since a
    conviction, a sentence end), where the changes are; else a day from 2 years before the latest conviction to
    23 years after it."""
    ages, years_since = [21, 40, 50, 65], [1, 3, 5, 7, 10, 15]
    anchors = [(subject.dob, ages), (subject.facts.most_recent_conviction_date, years_since)]
    for conviction in subject.convictions:
        anchors += [(conviction.disposition_date, years_since), (conviction.sentence_end_date, [0])]
    if draw(st.integers(0, 3)):
        anchor, choices = draw(st.sampled_from(anchors))
        years = draw(st.sampled_from(choices))
        if datetime(1900, 1, 1) < anchor < datetime(2100, 1, 1):
            anchor = anchor.replace(hour=0, minute=0, second=0, microsecond=0)
            day = add_years(anchor, years) + DAY * draw(st.integers(-400, 3))
            if datetime(1990, 1, 1) <= day <= datetime(2060, 1, 1):
                return day
    latest = subject.facts.most_recent_conviction_date
    if latest.year < 1990:
        return draw(_days(datetime(1995, 1, 1), datetime(2035, 12, 31)))
    return add_years(latest, -2) + DAY * draw(st.integers(0, 25 * 365))


@st.composite
def situations(draw: st.DrawFn, flow: RuleFlow) -> tuple[Subject, datetime]:
    """A person as ``flow`` sees them (its county, its code-section rule) and a compute-at."""
    subject = build_subject("S", draw(people(flow.county)), pilot_code_sections=flow.pilot_code_sections)
    return subject, draw(compute_ats(subject))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, RuleFlow, Subject, datetime]:
    label, flow = draw(st.sampled_from(CASES))
    return (label, flow, *draw(situations(flow)))


def _answer(decision: Decision) -> tuple[str, str, str]:
    return decision.determination.value, decision.reason, decision.rule


def brute_force(flow: RuleFlow, subject: Subject, conviction: Conviction, compute_at: datetime,
                years: int) -> tuple[datetime, tuple[str, str, str]] | None:  # fmt: skip
    """The first day after compute-at, up to ``years`` later, on which the answer differs: every day evaluated."""
    start = flow.decide(subject, conviction, compute_at)
    end = add_years(compute_at, years)
    day = compute_at + DAY
    while day <= end:
        decision = flow.decide(subject, conviction, day)
        if decision != start:
            return day, _answer(decision)
        day += DAY
    return None


def _scheduled(change: NextChange | None) -> tuple[datetime, tuple[str, str, str]] | None:
    return None if change is None else (change.on, _answer(change.decision))


@pytest.mark.parametrize(("label", "flow"), CASES, ids=[label for label, _ in CASES])
@settings(max_examples=40)
@given(data=st.data())
def test_next_change_is_the_first_change_found_day_by_day(label: str, flow: RuleFlow, data: st.DataObject) -> None:
    subject, compute_at = data.draw(situations(flow))
    for conviction in subject.convictions:
        if flow.evaluates(subject, conviction):
            expected = brute_force(flow, subject, conviction, compute_at, SCAN_YEARS)
            found = next_change(subject, flow, conviction, compute_at, horizon_years=SCAN_YEARS)
            assert _scheduled(found) == expected, (label, conviction.index)


AGE_CASES = [case for case in CASES if "age" in case[0] or case[0].startswith("los_angeles")]


@settings(max_examples=20)
@given(data=st.data())
def test_far_changes_such_as_an_age_threshold_decades_ahead(data: st.DataObject) -> None:
    """Compute-at decades before the person turns 50 or 65: day by day over 70 years."""
    label, flow = data.draw(st.sampled_from(AGE_CASES))
    subject = build_subject("S", data.draw(people(flow.county)), pilot_code_sections=flow.pilot_code_sections)
    if subject.dob == ZERO_TIME:
        return
    compute_at = add_years(subject.dob, data.draw(st.integers(22, 45))) + DAY * data.draw(st.integers(0, 365))
    for conviction in subject.convictions:
        if flow.evaluates(subject, conviction):
            expected = brute_force(flow, subject, conviction, compute_at, 70)
            found = next_change(subject, flow, conviction, compute_at, horizon_years=70)
            assert _scheduled(found) == expected, (label, conviction.index)


@settings(max_examples=150)
@given(case=cases())
def test_next_window_change_is_the_day_the_7_year_window_lets_go(case: tuple[str, RuleFlow, Subject, datetime]) -> None:
    _, _, subject, compute_at = case
    for conviction in subject.convictions:
        inside = conviction.occurred_in_last_7_years(compute_at)
        end = add_years(max(compute_at, conviction.disposition_date), 8)
        day, expected = compute_at + DAY, None
        while day <= end:
            if conviction.occurred_in_last_7_years(day) != inside:
                expected = day
                break
            day += DAY
        assert next_window_change(conviction, compute_at) == expected


# -- each rule's declaration, on its own -------------------------------------------------------------------


def undeclared_changes(rule: Rule, subject: Subject, conviction: Conviction, start: datetime,
                       years: int) -> list[datetime]:  # fmt: skip
    """Days on which the rule's predicate changes value without having declared it may (timeless: any far date
    that answers differently from ``start``)."""
    applies = rule.applies
    if rule.flips is None:
        value = applies(subject, conviction, start)
        return [day for day in FAR if applies(subject, conviction, day) != value]
    declared = {midnight_on_or_after(instant) for instant in rule.flips(subject, conviction)}
    wrong = []
    value = applies(subject, conviction, start)
    day, end = start + DAY, add_years(start, years)
    while day <= end:
        now = applies(subject, conviction, day)
        if now != value and day not in declared:
            wrong.append(day)
        value, day = now, day + DAY
    return wrong


@settings(max_examples=120)
@given(case=cases())
def test_every_rule_changes_only_on_a_day_it_declared(case: tuple[str, RuleFlow, Subject, datetime]) -> None:
    """Also rules no decision reaches for this person, and convictions the flow does not evaluate."""
    label, flow, subject, compute_at = case
    for conviction in subject.convictions:
        for rule in flow.rules:
            assert undeclared_changes(rule, subject, conviction, compute_at, SCAN_YEARS) == [], (label, rule.name)


def test_the_declaration_check_catches_a_rule_that_lies() -> None:
    subject = build_subject("S", [numbered(0, "11359 HS", datetime(2010, 1, 1), dob=datetime(1970, 6, 1))])
    conviction = subject.convictions[0]
    age = next(rule for rule in make_flow("los_angeles", "LOS ANGELES").rules if rule.name == "age")
    assert undeclared_changes(age, subject, conviction, datetime(2015, 1, 1), 10) == []
    as_timeless = Rule("age", age.applies, Decision(Determination.DISMISSAL, "x"), timeless=True)
    assert undeclared_changes(as_timeless, subject, conviction, datetime(2015, 1, 1), 10) != []
    wrong_day = Rule("age", age.applies, Decision(Determination.DISMISSAL, "x"), flips=lambda s, c: [s.dob])
    assert undeclared_changes(wrong_day, subject, conviction, datetime(2015, 1, 1), 10) == [datetime(2020, 6, 1)]


def test_a_rule_must_say_how_it_depends_on_compute_at() -> None:
    def applies(subject: Subject, conviction: Conviction, t: datetime) -> bool:
        return True

    decision = Decision(Determination.DISMISSAL, "x")
    with pytest.raises(TypeError, match="declare when its predicate can change"):
        Rule("undeclared", applies, decision)
    with pytest.raises(TypeError, match="not both"):
        Rule("both", applies, decision, flips=lambda s, c: (), timeless=True)


def test_every_registered_flow_is_in_the_catalogue() -> None:
    assert {flow.name for _, flow in CASES} >= set(FLOWS)
    timed = {(flow.name, rule.name) for _, flow in CASES for rule in flow.rules if rule.flips is not None}
    assert timed == {
        ("configurable", "age threshold"), ("configurable", "years since conviction"),
        ("configurable", "years crime free"),
        ("los_angeles", "age"), ("los_angeles", "21 or younger"), ("los_angeles", "only Prop 64, sentences completed"),
        ("los_angeles", "conviction free"), ("los_angeles", "serving sentence"),
        ("sacramento", "several convictions, none in 10 years"), ("sacramento", "sentence completed"),
        ("san_joaquin", "several convictions, none in 5 years"), ("san_joaquin", "sentence completed"),
        ("contra_costa", "several convictions, none in 5 years"), ("contra_costa", "sentence completed"),
    }  # fmt: skip


# -- worked examples ----------------------------------------------------------------------------------------

D = Determination


def _person(flow: RuleFlow, *convictions: tuple[str, datetime], dob: datetime = datetime(1980, 1, 1),
            **first: object) -> tuple[Subject, Conviction]:  # fmt: skip
    """A person with these ``(code, date)`` felonies in the flow's county (``first``: more columns of the first);
    the first conviction."""
    rows = [
        numbered(index, code, date, county=flow.county, dob=dob, **(first if index == 0 else {}))
        for index, (code, date) in enumerate(convictions)
    ]
    subject = build_subject("S", rows, pilot_code_sections=flow.pilot_code_sections)
    return subject, subject.convictions[0]


def _change(on: datetime, determination: Determination, reason: str) -> NextChange:
    return NextChange(on, Decision(determination, reason))


def test_a_birthday_decades_ahead_on_a_leap_day() -> None:
    flow = make_flow("configurable", SAC, options=_options(reduce=ALL, subjectAgeThreshold=65))
    subject, conviction = _person(flow, ("11359 HS", datetime(2010, 1, 1)), dob=datetime(1972, 2, 29))
    change = next_change(subject, flow, conviction, datetime(2000, 1, 1))
    assert change == _change(datetime(2037, 3, 1), D.DISMISSAL, "65 years or older")  # Go: Feb 29 + 65 y
    assert change is not None and change.decision.rule == "age threshold"
    assert next_change(subject, flow, conviction, datetime(2000, 1, 1), horizon_years=37) is None  # to 2037-01-01


def test_years_since_conviction_on_mar_1_flips_on_feb_29() -> None:
    flow = make_flow("configurable", SAC, options=_options(reduce=ALL, yearsSinceConvictionThreshold=5))
    subject, conviction = _person(flow, ("11359 HS", datetime(2015, 3, 1)))
    change = next_change(subject, flow, conviction, datetime(2020, 1, 1))
    # Go: 2020-02-29 minus 5 years is 2015-03-01, so the anniversary's eve already qualifies
    assert change == _change(datetime(2020, 2, 29), D.DISMISSAL, "Conviction occurred 5 or more years ago")


def test_sentence_ends_are_not_midnights() -> None:
    sac = make_flow("sacramento", SAC)
    # 1 month = 30.5 days: the sentence ends 2016-01-31 12:00; completed (strictly before t) from 2016-02-01
    subject, conviction = _person(sac, ("11359 HS", datetime(2016, 1, 1)), sentence=("1", "M"))
    assert conviction.sentence_end_date == datetime(2016, 1, 31, 12)
    change = next_change(subject, sac, conviction, datetime(2016, 1, 15))
    assert change == _change(datetime(2016, 2, 1), D.DISMISSAL, "Sentence Completed")
    # 30 days end at midnight: the pilots' strict comparison waits a day ...
    subject, conviction = _person(sac, ("11359 HS", datetime(2016, 1, 1)), sentence=("30", "D"))
    assert conviction.sentence_end_date == datetime(2016, 1, 31)
    assert next_change(subject, sac, conviction, datetime(2016, 1, 15)) == change
    # ... LA's "serving sentence" (end <= t) ends on the day itself
    la = make_flow("los_angeles", LA)
    subject, conviction = _person(la, ("11359 HS", datetime(2010, 1, 1)), ("459 PC", datetime(2010, 1, 1)),
                                  sentence=("3650", "D"))  # fmt: skip
    assert conviction.sentence_end_date == datetime(2019, 12, 30)
    assert la.decide(subject, conviction, datetime(2019, 12, 28)).reason == "Currently serving sentence"
    change = next_change(subject, la, conviction, datetime(2019, 12, 28))
    assert change == _change(datetime(2019, 12, 30), D.HAND_REVIEW, "No applicable eligibility criteria")
    then = next_change(subject, la, conviction, datetime(2019, 12, 30))  # ten years conviction free, inclusive
    assert then == _change(datetime(2020, 1, 1), D.DISMISSAL, "No convictions in past 10 years")


def test_gogens_float_years_flip_on_the_anniversary_or_the_day_after() -> None:
    sac = make_flow("sacramento", SAC)
    for latest, flips_on in [(datetime(2010, 1, 1), datetime(2020, 1, 2)),  # 2 leap days: 3,652 days is 9.9986 y
                             (datetime(2011, 6, 1), datetime(2021, 6, 1))]:  # 3 leap days: 3,653 days, 10.0014 y
        subject, conviction = _person(sac, ("11359 HS", datetime(2005, 1, 1)), ("459 PC", latest))
        change = next_change(subject, sac, conviction, datetime(2019, 6, 1))
        assert change == _change(flips_on, D.DISMISSAL, "No convictions in past 10 years")


def test_la_21_or_younger_can_end_on_the_21st_birthday() -> None:
    la = make_flow("los_angeles", LA)
    for dob, ends in [(datetime(1995, 6, 1), datetime(2016, 6, 1)),  # 6 leap days: 7,671 days on the birthday
                      (datetime(1996, 6, 1), datetime(2017, 6, 2))]:  # 5 leap days: the day after
        subject, conviction = _person(la, ("11359 HS", datetime(2014, 1, 1)), ("459 PC", datetime(2014, 1, 1)),
                                      dob=dob)  # fmt: skip
        assert la.decide(subject, conviction, datetime(2016, 1, 1)).reason == "21 years or younger"
        change = next_change(subject, la, conviction, datetime(2016, 1, 1))
        assert change == _change(ends, D.HAND_REVIEW, "No applicable eligibility criteria"), dob


def test_decided_by_a_timeless_rule_nothing_changes() -> None:
    la = make_flow("los_angeles", LA)
    subject, conviction = _person(la, ("11359 HS", datetime(2010, 1, 1)), felony=False)
    assert next_change(subject, la, conviction, datetime(2020, 1, 1)) is None  # a misdemeanour stays one
    flow = make_flow("configurable", SAC, options=_options(ALL, yearsSinceConvictionThreshold=5))
    subject, conviction = _person(flow, ("11359 HS", datetime(2019, 1, 1)))
    assert next_change(subject, flow, conviction, datetime(2020, 1, 1)) is None  # dismissed by its section


def test_once_a_rule_that_comes_first_holds_for_good_nothing_changes() -> None:
    """Turning 50 dismisses; 15 years since the conviction would dismiss too, with another reason, but the age
    rule comes first and stays true."""
    options = _options(reduce=ALL, subjectAgeThreshold=50, yearsSinceConvictionThreshold=15)
    flow = make_flow("configurable", SAC, options=options)
    subject, conviction = _person(flow, ("11359 HS", datetime(2010, 1, 1)), dob=datetime(1975, 1, 1))
    change = next_change(subject, flow, conviction, datetime(2020, 1, 1))
    assert change == _change(datetime(2025, 1, 1), D.DISMISSAL, "50 years or older")
    assert next_change(subject, flow, conviction, datetime(2025, 1, 1), horizon_years=50) is None


def test_next_changes_sees_the_subject_as_the_flow_does() -> None:
    """A blank offense with the charge in the comment is Prop 64 under the final rule, not under the pilots'."""
    rows = [
        numbered(0, "11359 HS", datetime(2012, 1, 1), county=SAC),
        numbered(1, "", datetime(2008, 1, 1), county=SAC, offense=" ", comment="11358 HS"),
    ]
    subject = build_subject("S", rows)
    sac = make_flow("sacramento", SAC)
    view = subject_for(subject, sac)
    assert view is not subject and len(view.convictions) == 2
    changes = next_changes(subject, sac, datetime(2021, 1, 1))
    assert list(changes) == [0]  # the blank-offense row is no Prop 64 conviction for the pilots
    assert changes[0] == next_change(view, sac, view.convictions[0], datetime(2021, 1, 1))
    # 2012-01-01 + 3,653 days (3 leap days) = 2022-01-01
    assert changes[0] == _change(datetime(2022, 1, 1), D.DISMISSAL, "No convictions in past 10 years")


def test_the_same_answer_from_the_next_rule_keeps_looking_further() -> None:
    """Two rules with one answer: when the first stops holding the second answers the same, so the change is
    when the second stops too (the schedule follows the deciding rule, not only the first one)."""

    def until(day: datetime) -> Rule:
        return Rule(f"until {day:%Y}", lambda s, c, t: t < day, Decision(D.DISMISSAL, "early"),
                    flips=lambda s, c: [day])  # fmt: skip

    later = Rule("later", lambda s, c, t: True, Decision(D.REDUCTION, "late"), timeless=True)
    rules = (until(datetime(2021, 1, 1)), until(datetime(2023, 1, 1)), later)
    flow = RuleFlow("t", SAC, rules, Decision(D.NONE, ""))
    subject, conviction = _person(flow, ("11359 HS", datetime(2010, 1, 1)))
    change = next_change(subject, flow, conviction, datetime(2020, 1, 1))
    assert change == _change(datetime(2023, 1, 1), D.REDUCTION, "late")
