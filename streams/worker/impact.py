"""gogen's summary figures from determinations, per county.

Used by the worker for its gauges (each worker counts only the people it holds, so the gauges of all workers add up)
and by ``clearance report`` over the determinations topic. A person counts for county C when the relief granted in
C would clear them (spec §9): every felony conviction dismissed or reduced ("no felony"), every conviction dismissed
("no conviction"), every conviction of the last 7 years before compute-at dismissed. The same figures are given for
the "dismiss all Prop 64" what-if, as gogen's summary does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from streams.events.model import CANDIDATE_DETERMINATIONS as RELIEF
from streams.events.model import ELIGIBLE_FOR_DISMISSAL as DISMISSAL
from streams.rules.matchers import prop64_section

FIGURES = ("no_felony", "no_conviction", "no_conviction_last_7_years")
_GOGEN_KEYS = {
    "no_felony": "CountSubjectsNoFelony",
    "no_conviction": "CountSubjectsNoConviction",
    "no_conviction_last_7_years": "CountSubjectsNoConvictionLast7Years",
}

Det = Mapping[str, Any]


def _active(determinations: Iterable[Det]) -> dict[str, list[Det]]:
    by_county: dict[str, list[Det]] = {}
    for det in determinations:
        if det.get("status", "active") == "active":
            by_county.setdefault(det["county"], []).append(det)
    return by_county


def _figures(dets: list[Det], relieved: Callable[[Det], bool], dismissed: Callable[[Det], bool]) -> set[str]:
    counts = dets[0]["subject"]
    figures: set[str] = set()
    felonies = counts["felony_convictions"]
    if felonies > 0 and sum(1 for d in dets if d["is_felony"] and relieved(d)) == felonies:
        figures.add("no_felony")
    if counts["convictions"] > 0 and sum(1 for d in dets if dismissed(d)) == counts["convictions"]:
        figures.add("no_conviction")
    recent = counts["convictions_last_7_years"]
    if recent > 0 and sum(1 for d in dets if d["in_last_7_years"] and dismissed(d)) == recent:
        figures.add("no_conviction_last_7_years")
    return figures


def _current_relief(d: Det) -> bool:
    return d["determination"] in RELIEF


def _current_dismissal(d: Det) -> bool:
    return d["determination"] == DISMISSAL


def _prop64(d: Det) -> bool:
    """The what-if dismisses every Prop 64 conviction (pilot flows also evaluate related charges: those stay)."""
    return prop64_section(d["code_section"]) is not None


def subject_impact(determinations: Iterable[Det]) -> dict[str, set[str]]:
    """County → the figures this person counts in under the current policies (active determinations only)."""
    return {c: _figures(d, _current_relief, _current_dismissal) for c, d in _active(determinations).items()}


def candidate_counts(determinations: Iterable[Det]) -> Counter[tuple[str, str]]:
    """(county, determination) → number of current candidates (dismissal or reduction) of this person."""
    return Counter(
        (d["county"], d["determination"])
        for d in determinations
        if d.get("status", "active") == "active" and d["determination"] in RELIEF
    )


def _empty_county() -> dict[str, Any]:
    return {
        "subjectsWithProp64ConvictionCountInCounty": 0,
        "prop64ConvictionsCountInCountyByCodeSection": {s: 0 for s in ("11357", "11358", "11359", "11360")},
        "prop64FelonyConvictionsCountInCounty": 0,
        "prop64NonFelonyConvictionsCountInCounty": 0,
        "subjectsWithSomeReliefCount": 0,
        "reliefWithCurrentEligibilityChoices": dict.fromkeys(_GOGEN_KEYS.values(), 0),
        "reliefWithDismissAllProp64": dict.fromkeys(_GOGEN_KEYS.values(), 0),
        "determinations": Counter(),
        "reasons": Counter(),
    }


def county_report(determinations_by_subject: Mapping[str, Iterable[Det]]) -> dict[str, dict[str, Any]]:
    """gogen's summary figures per county from every subject's current determinations."""
    report: dict[str, dict[str, Any]] = {}
    for dets in determinations_by_subject.values():
        for county, active in _active(dets).items():
            row = report.setdefault(county, _empty_county())
            row["subjectsWithProp64ConvictionCountInCounty"] += 1
            for d in active:
                section = prop64_section(d["code_section"])
                if section:
                    row["prop64ConvictionsCountInCountyByCodeSection"][section] += 1
                    felony = "prop64FelonyConvictionsCountInCounty"
                    row[felony if d["is_felony"] else "prop64NonFelonyConvictionsCountInCounty"] += 1
                row["determinations"][d["determination"] or "(none)"] += 1
                row["reasons"][f"{d['determination'] or '(none)'}: {d['reason']}"] += 1
            if any(_current_relief(d) for d in active):
                row["subjectsWithSomeReliefCount"] += 1
            for figure in _figures(active, _current_relief, _current_dismissal):
                row["reliefWithCurrentEligibilityChoices"][_GOGEN_KEYS[figure]] += 1
            for figure in _figures(active, _prop64, _prop64):
                row["reliefWithDismissAllProp64"][_GOGEN_KEYS[figure]] += 1
    for row in report.values():
        row["determinations"] = dict(sorted(row["determinations"].items()))
        row["reasons"] = dict(sorted(row["reasons"].items()))
    return dict(sorted(report.items()))
