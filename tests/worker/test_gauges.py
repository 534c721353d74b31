"""gogen's impact figures from one person's determination events: the worker's gauges and `clearance report`
(both through :mod:`streams.summary`, the one implementation of the figures)."""

from __future__ import annotations

from streams.summary import county_report, subject_impact
from streams.worker.gauges import candidate_counts

SUBJECT = {"convictions": 2, "felony_convictions": 1, "convictions_last_7_years": 1}


def det(cid: str, determination: str, *, felony: bool, recent: bool, county: str = "KERN", status: str = "active",
        code: str = "11359 HS") -> dict:
    return {"conviction_id": cid, "county": county, "code_section": code, "determination": determination,
            "reason": "r", "is_felony": felony, "in_last_7_years": recent, "status": status, "subject": SUBJECT,
            "facts": {"date_of_conviction": "2012-03-04" if recent else None}}


def test_all_convictions_dismissed_counts_in_every_figure() -> None:
    dets = [det("a", "Eligible for Dismissal", felony=True, recent=False),
            det("b", "Eligible for Dismissal", felony=False, recent=True, code="11357 HS")]
    assert subject_impact(dets) == {"KERN": {"no_felony", "no_conviction", "no_conviction_last_7_years"}}
    assert candidate_counts(dets) == {("KERN", "Eligible for Dismissal"): 2}


def test_a_reduction_clears_the_felony_but_leaves_a_conviction() -> None:
    dets = [det("a", "Eligible for Reduction", felony=True, recent=False),
            det("b", "Eligible for Dismissal", felony=False, recent=True)]
    assert subject_impact(dets) == {"KERN": {"no_felony", "no_conviction_last_7_years"}}


def test_retracted_and_other_county_determinations_do_not_count_here() -> None:
    dets = [det("a", "Eligible for Dismissal", felony=True, recent=False, status="retracted"),
            det("b", "Eligible for Dismissal", felony=False, recent=True, county="KINGS")]
    assert subject_impact(dets) == {"KINGS": {"no_conviction_last_7_years"}}
    assert candidate_counts(dets) == {("KINGS", "Eligible for Dismissal"): 1}


def test_county_report_sums_people_and_compares_with_dismissing_all_prop64() -> None:
    report = county_report({
        "S1": [det("a", "Hand Review", felony=True, recent=False),
               det("b", "Eligible for Dismissal", felony=False, recent=True, code="11357 HS")],
        "S2": [det("c", "Eligible for Dismissal", felony=True, recent=False)],
    })
    kern = report["KERN"]
    assert kern["subjectsWithProp64ConvictionCountInCounty"] == 2
    assert kern["prop64ConvictionsCountInCountyByCodeSection"] == {"11357": 1, "11358": 0, "11359": 2, "11360": 0}
    assert (kern["prop64FelonyConvictionsCountInCounty"], kern["prop64NonFelonyConvictionsCountInCounty"]) == (2, 1)
    assert kern["subjectsWithSomeReliefCount"] == 2
    assert kern["reliefWithCurrentEligibilityChoices"]["CountSubjectsNoFelony"] == 1  # S2 only
    assert kern["reliefWithDismissAllProp64"]["CountSubjectsNoFelony"] == 2


def test_subject_impact_equals_the_relief_figures_of_the_full_summary() -> None:
    """The gauges' short path (three counts per county) against :func:`subject_counts` over the same outcomes."""
    import random

    from streams.rules.outcome import Determination
    from streams.summary import RELIEF_FIGURES, determination_outcomes, subject_counts

    figures = {key: figure for figure, key in RELIEF_FIGURES.items()}
    rng = random.Random(7)
    texts = [d.value for d in Determination]
    for _ in range(3000):
        subject = {"convictions": rng.randint(0, 4), "felony_convictions": rng.randint(0, 3),
                   "convictions_last_7_years": rng.randint(0, 3)}
        dets = []
        for i in range(rng.randint(0, 5)):
            d = det(f"c{i}", rng.choice(texts), felony=rng.random() < 0.5, recent=rng.random() < 0.5,
                    county=rng.choice(["KERN", "KINGS"]), status=rng.choice(["active", "active", "retracted"]),
                    code=rng.choice(["11357 HS", "11359 HS", "459 PC"]))
            d["subject"] = subject
            dets.append(d)
        expected = {county: {figures[key] for key in subject_counts(county, outcomes, totals).relief_current}
                    for county, (outcomes, totals) in determination_outcomes(dets).items()}
        assert subject_impact(dets) == expected
