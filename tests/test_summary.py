"""Summary figures as per-subject sums (spec §9), and their rendering in gogen's shape."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from factories import doj_row, laid_out

from streams.gocompat.dates import ZERO_TIME
from streams.rules.engine import classify_subject
from streams.rules.flows.registry import make_flow
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.subject import build_subject
from streams.summary import (
    NO_CONVICTION,
    NO_CONVICTION_LAST_7_YEARS,
    NO_FELONY,
    SummaryCounts,
    file_earliest,
    gogen_summary,
    offline_outcomes,
    run_earliest,
    subject_counts,
    total,
)

COUNTY = "SACRAMENTO"
COMPUTE_AT = datetime(2020, 7, 1)
OPTIONS = {"baselineEligibility": {"dismiss": ["11357"], "reduce": ["11359"]}, "additionalRelief": {}}


# a felony conviction of person "S" (born 1970) in the county
conviction = partial(doj_row, subject="S", dob="19700101", county=COUNTY)


def subject(*rows: dict[str, Any]):  # type: ignore[no-untyped-def]
    return build_subject("S", enumerate(map(laid_out, rows)))


def counts_for(*rows: dict[str, Any]) -> SummaryCounts:
    person = subject(*rows)
    flow = make_flow("configurable", COUNTY, options=OPTIONS)
    infos = classify_subject(person, flow, COMPUTE_AT)
    what_if = classify_subject(person, dismiss_all_prop64(COUNTY), COMPUTE_AT)
    return subject_counts(COUNTY, *offline_outcomes(person, COUNTY, infos, what_if, COMPUTE_AT))


def relief_flags(person, infos, compute_at: datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """gogen's three full-relief tests of one person with ``infos`` as the chosen flow's answers."""
    return dict(subject_counts(COUNTY, *offline_outcomes(person, COUNTY, infos, {}, compute_at)).relief_current)


def test_one_subject_contribution() -> None:
    """Rows: a dismissed 11357 felony, a reduced 11359 felony, an 11358 felony nothing covers (no
    determination), an 11357 misdemeanor, a Prop 64 felony in another county and a burglary."""
    counts = counts_for(
        conviction(count_order="001001001000", offense="11357 HS-POSSESS", date="20150505"),
        conviction(count_order="002001001000", offense="11359 HS-SALE", date="20140404"),
        conviction(count_order="003001001000", offense="11358 HS-CULTIVATE", date="20100101"),
        conviction(count_order="004001001000", offense="11357(C)HS-POSSESS", date="20190101", felony=False),
        conviction(count_order="005001001000", offense="11360 HS-TRANSPORT", date="20120101", county="YOLO"),
        conviction(count_order="006001001000", offense="459 PC-BURGLARY", date="20180101"),
    )
    assert counts.prop64_by_section_in_county == {"11357": 2, "11359": 1, "11358": 1}
    assert counts.prop64_felonies_in_county == 3
    assert counts.prop64_non_felonies_in_county == 1
    assert counts.subjects_with_prop64_in_county == 1
    assert counts.subjects_with_some_relief == 1
    assert counts.dismissal_reasons == {"Dismiss all HS 11357 convictions": 1, "Misdemeanor or Infraction": 1}
    assert counts.reduction_reasons == {"Reduce all HS 11359 convictions": 1}
    assert counts.earliest_conviction == datetime(2010, 1, 1)
    assert counts.relief_current == {}  # the burglary and the Yolo felony stay
    assert counts.relief_dismiss_all_prop64 == {}


def test_relief_flags() -> None:
    person = subject(
        conviction(count_order="001001001000", offense="11357 HS", date="20150505"),
        conviction(count_order="002001001000", offense="11358 HS", date="20000101", felony=False),
    )
    infos = classify_subject(person, dismiss_all_prop64(COUNTY), COMPUTE_AT)
    assert relief_flags(person, infos, COMPUTE_AT) == {NO_FELONY: 1, NO_CONVICTION: 1, NO_CONVICTION_LAST_7_YEARS: 1}
    only_old = subject(conviction(count_order="001001001000", offense="11357 HS", date="20000101"))
    infos = classify_subject(only_old, dismiss_all_prop64(COUNTY), COMPUTE_AT)
    # nothing in the last 7 years before compute-at: that figure needs at least one recent conviction
    assert relief_flags(only_old, infos, COMPUTE_AT) == {NO_FELONY: 1, NO_CONVICTION: 1}
    assert relief_flags(only_old, {}, COMPUTE_AT) == {}


def test_last_7_years_uses_compute_at() -> None:
    person = subject(conviction(count_order="001001001000", offense="11357 HS", date="20130702"))
    infos = classify_subject(person, dismiss_all_prop64(COUNTY), COMPUTE_AT)
    assert NO_CONVICTION_LAST_7_YEARS in relief_flags(person, infos, datetime(2020, 7, 1))
    assert NO_CONVICTION_LAST_7_YEARS not in relief_flags(person, infos, datetime(2020, 7, 2))


def test_counts_add_and_total() -> None:
    a = counts_for(conviction(count_order="001001001000", offense="11357 HS", date="20150505"))
    b = counts_for(
        conviction(count_order="001001001000", offense="11359 HS", date="20100101"),
        conviction(count_order="002001001000", offense="187 PC", date="2011"),
    )
    both = a + b
    assert both.prop64_by_section_in_county == {"11357": 1, "11359": 1}
    assert both.subjects_with_prop64_in_county == 2
    assert both.earliest_conviction == datetime(2010, 1, 1)
    assert total([a, b, SummaryCounts(line_count=7)]) == both + SummaryCounts(line_count=7)
    assert SummaryCounts().earliest_conviction is None


def test_earliest_conviction_across_files() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5)
    assert file_earliest(SummaryCounts(), now) == now
    assert run_earliest(None, datetime(1990, 1, 1)) == datetime(1990, 1, 1)
    assert run_earliest(datetime(1980, 1, 1), datetime(1990, 1, 1)) == datetime(1980, 1, 1)
    assert run_earliest(datetime(1995, 1, 1), datetime(1990, 1, 1)) == datetime(1990, 1, 1)
    # gogen's findEarliest: a zero date collected from one file gives way to the next file's date
    assert run_earliest(ZERO_TIME, datetime(1990, 1, 1)) == datetime(1990, 1, 1)


def test_gogen_summary_shape() -> None:
    counts = SummaryCounts(
        line_count=10,
        relief_current={NO_FELONY: 2},
        dismissal_reasons={
            "Dismiss all HS 11357 convictions": 4,
            "Misdemeanor or Infraction": 3,
            "57 years or older": 2,
        },
        reduction_reasons={"Reduce all HS 11359 convictions": 1},
    )
    document = gogen_summary(
        counts,
        county=COUNTY,
        earliest_conviction=datetime(1979, 6, 1),
        dismiss_sections=("11357", "11358"),
        reduce_sections=("11359", "11360"),
        processing_time_in_seconds=1.5,
    )
    data = document.to_json_object()
    assert list(data) == [
        "county",
        "earliestConviction",
        "lineCount",
        "processingTimeInSeconds",
        "reliefWithCurrentEligibilityChoices",
        "reliefWithDismissAllProp64",
        "prop64ConvictionsCountInCountyByCodeSection",
        "subjectsWithProp64ConvictionCountInCounty",
        "prop64FelonyConvictionsCountInCounty",
        "prop64NonFelonyConvictionsCountInCounty",
        "subjectsWithSomeReliefCount",
        "convictionDismissalCountByCodeSection",
        "convictionReductionCountByCodeSection",
        "convictionDismissalCountByAdditionalRelief",
    ]
    assert data["reliefWithCurrentEligibilityChoices"] == {
        "CountSubjectsNoFelony": 2,
        "CountSubjectsNoConviction": 0,
        "CountSubjectsNoConvictionLast7Years": 0,
    }
    assert data["convictionDismissalCountByCodeSection"] == {"11357": 4, "11358": 0}
    assert data["convictionReductionCountByCodeSection"] == {"11359": 1, "11360": 0}
    assert data["convictionDismissalCountByAdditionalRelief"] == {"57 years or older": 2}
