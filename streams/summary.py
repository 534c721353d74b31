"""gogen's summary figures (spec §9; G:exporter/data_exporter.go, G:data/doj_information.go): the one
implementation, for ``clearance classify``'s summary file, the worker's impact gauges and ``clearance report``.

Every figure gogen reports is a sum over people, so it is computed here per person (:func:`subject_counts`,
from :class:`ConvictionOutcome` values) and summed with ``+``. Both sources reduce a person to those values: the
offline classifier's subjects and eligibility infos (:func:`offline_outcomes`), and the determination events the
worker emits and ``clearance report`` reads back (:func:`determination_outcomes`). The earliest Prop 64 conviction
date is kept as a multiset of dates so that it sums too. :class:`SummaryCounts` is pure data: no clock, no I/O.
Turning it into gogen's JSON document needs the few things that are not sums (county, the configured sections,
the run's timing and gogen's "now" for an empty file) and lives in :func:`gogen_summary`.

Deliberate difference: ``CountSubjectsNoConvictionLast7Years`` uses compute-at, not the wall clock (quirk 3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from streams.events.model import ACTIVE
from streams.gocompat.dates import ZERO_TIME, add_years, parse_yyyymmdd
from streams.rules.flows.configurable import dismissal_reason, is_baseline_dismissal, reduction_reason
from streams.rules.info import EligibilityInfo
from streams.rules.matchers import PROP64_SECTIONS, prop64_section
from streams.rules.outcome import Determination
from streams.rules.subject import Subject

NO_FELONY = "CountSubjectsNoFelony"
NO_CONVICTION = "CountSubjectsNoConviction"
NO_CONVICTION_LAST_7_YEARS = "CountSubjectsNoConvictionLast7Years"
RELIEF_KEYS = (NO_FELONY, NO_CONVICTION, NO_CONVICTION_LAST_7_YEARS)
# The same three figures as metric label values (``clearance_impact_subjects{figure}``) → gogen's keys.
RELIEF_FIGURES: Mapping[str, str] = MappingProxyType(
    {"no_felony": NO_FELONY, "no_conviction": NO_CONVICTION, "no_conviction_last_7_years": NO_CONVICTION_LAST_7_YEARS}
)


def _add(left: Mapping[Any, int], right: Mapping[Any, int]) -> dict[Any, int]:
    total = dict(left)
    for key, value in right.items():
        total[key] = total.get(key, 0) + value
    return {key: value for key, value in total.items() if value}


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    """The summable part of gogen's summary; the zero value is ``SummaryCounts()``.

    Mappings hold only non-zero entries. ``prop64_dates_in_county`` counts Prop 64 convictions of the county
    by disposition date (its smallest key is gogen's ``earliestConviction``). ``dismissal_reasons`` and
    ``reduction_reasons`` count the county's Prop 64 convictions by the reason of their determination; the
    per-section and additional-relief figures are read from them. ``determinations_by_section`` counts the same
    convictions by (section, determination value), for the report's chart; ``evaluated`` counts every conviction
    the flow evaluated by determination value and ``subjects_evaluated`` the people with one (the closing line of
    ``clearance classify``).
    """

    line_count: int = 0
    prop64_dates_in_county: Mapping[datetime, int] = field(default_factory=dict)
    relief_current: Mapping[str, int] = field(default_factory=dict)
    relief_dismiss_all_prop64: Mapping[str, int] = field(default_factory=dict)
    prop64_by_section_in_county: Mapping[str, int] = field(default_factory=dict)
    subjects_with_prop64_in_county: int = 0
    prop64_felonies_in_county: int = 0
    prop64_non_felonies_in_county: int = 0
    subjects_with_some_relief: int = 0
    dismissal_reasons: Mapping[str, int] = field(default_factory=dict)
    reduction_reasons: Mapping[str, int] = field(default_factory=dict)
    data_quality: Mapping[str, int] = field(default_factory=dict)  # flagged determinations by code (not gogen's)
    determinations_by_section: Mapping[tuple[str, str], int] = field(default_factory=dict)
    evaluated: Mapping[str, int] = field(default_factory=dict)
    subjects_evaluated: int = 0

    def __add__(self, other: SummaryCounts) -> SummaryCounts:
        values: dict[str, Any] = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            values[item.name] = _add(mine, theirs) if isinstance(mine, Mapping) else mine + theirs
        return SummaryCounts(**values)

    @property
    def earliest_conviction(self) -> datetime | None:
        """Earliest disposition date of a Prop 64 conviction in the county, ``None`` without one."""
        dates = [date for date, count in self.prop64_dates_in_county.items() if count > 0]
        return min(dates) if dates else None


NOTHING = SummaryCounts()


def total(counts: Iterable[SummaryCounts]) -> SummaryCounts:
    """Sum of many contributions (one dictionary merge per key instead of one object per addition)."""
    ints: dict[str, int] = {}
    maps: dict[str, dict[Any, int]] = {}
    for item in fields(SummaryCounts):
        if item.name in _MAPPING_FIELDS:
            maps[item.name] = {}
        else:
            ints[item.name] = 0
    for part in counts:
        if part is NOTHING:
            continue
        for name in ints:
            ints[name] += getattr(part, name)
        for name, accumulated in maps.items():
            for key, value in getattr(part, name).items():
                accumulated[key] = accumulated.get(key, 0) + value
    cleaned = {name: {k: v for k, v in values.items() if v} for name, values in maps.items()}
    return SummaryCounts(**ints, **cleaned)  # type: ignore[arg-type]  # field names and types as read above


_MAPPING_FIELDS = frozenset(
    {
        "prop64_dates_in_county",
        "relief_current",
        "relief_dismiss_all_prop64",
        "prop64_by_section_in_county",
        "dismissal_reasons",
        "reduction_reasons",
        "determinations_by_section",
        "evaluated",
        "data_quality",
    }
)


@dataclass(frozen=True, slots=True)
class ConvictionOutcome:
    """What the figures need of one conviction of a person: where it is, what it is, what the chosen flow said of it
    (``determination`` ``None``: not evaluated), and whether the "dismiss all Prop 64" what-if dismisses it.

    Both sources of figures are reduced to this: the offline classifier's subjects and eligibility infos
    (:func:`offline_outcomes`) and the streaming worker's determination events (:func:`determination_outcomes`).
    """

    county: str
    prop64_section: str | None
    is_felony: bool
    disposition_date: datetime
    recent: bool  # disposed after compute-at minus 7 years
    determination: Determination | None
    reason: str
    what_if_dismissed: bool


@dataclass(frozen=True, slots=True)
class SubjectTotals:
    """The person's convictions in every county: the denominators of gogen's three "full relief" tests."""

    convictions: int
    felonies: int
    recent: int


_RELIEF = frozenset(d for d in Determination if d.is_relief)


def _relief_flags(totals: SubjectTotals, felonies: int, dismissed: int, recent: int) -> dict[str, int]:
    """gogen's three "full relief" tests (G:data/doj_information.go countIndividualsFilteredByFullRelief): 1 when
    at least one conviction is concerned and every concerned one gets the relief. No felony: every felony is
    dismissed or reduced. No conviction: every conviction is dismissed. No conviction in the last 7 years: every
    conviction disposed after compute-at minus 7 years is dismissed."""
    flags = {
        NO_FELONY: totals.felonies != 0 and felonies == totals.felonies,
        NO_CONVICTION: totals.convictions != 0 and dismissed == totals.convictions,
        NO_CONVICTION_LAST_7_YEARS: totals.recent != 0 and recent == totals.recent,
    }
    return {key: 1 for key, value in flags.items() if value}


def subject_counts(county: str, outcomes: Iterable[ConvictionOutcome], totals: SubjectTotals) -> SummaryCounts:
    """One person's contribution to every figure of ``county`` (``line_count`` stays 0: the reader counts rows).

    ``outcomes`` must hold every conviction of the person that the flow evaluated, that the what-if dismisses or
    that is a Prop 64 conviction of ``county``; the others only count through ``totals``.
    """
    dates: dict[datetime, int] = {}
    by_section: dict[str, int] = {}
    dismissals: dict[str, int] = {}
    reductions: dict[str, int] = {}
    by_determination: dict[tuple[str, str], int] = {}
    evaluated: dict[str, int] = {}
    felonies = non_felonies = 0
    some_relief = False
    relieved_felonies = dismissed = recent_dismissed = 0
    what_if_felonies = what_if_dismissed = what_if_recent = 0
    relief, dismissal = _RELIEF, Determination.DISMISSAL
    for outcome in outcomes:
        determination = outcome.determination
        is_relief = determination in relief
        is_dismissal = determination is dismissal
        what_if = outcome.what_if_dismissed
        if determination is not None:
            evaluated[determination.value] = evaluated.get(determination.value, 0) + 1
        some_relief = some_relief or is_relief
        dismissed += is_dismissal
        what_if_dismissed += what_if
        if outcome.is_felony:
            relieved_felonies += is_relief
            what_if_felonies += what_if
        if outcome.recent:
            recent_dismissed += is_dismissal
            what_if_recent += what_if
        section = outcome.prop64_section
        if section is None or outcome.county != county:
            continue
        date = outcome.disposition_date
        dates[date] = dates.get(date, 0) + 1
        by_section[section] = by_section.get(section, 0) + 1
        shown = (section, "" if determination is None else determination.value)
        by_determination[shown] = by_determination.get(shown, 0) + 1
        if outcome.is_felony:
            felonies += 1
        else:
            non_felonies += 1
        if is_dismissal:
            dismissals[outcome.reason] = dismissals.get(outcome.reason, 0) + 1
        elif determination is Determination.REDUCTION:
            reductions[outcome.reason] = reductions.get(outcome.reason, 0) + 1
    current = _relief_flags(totals, relieved_felonies, dismissed, recent_dismissed)
    what_if_flags = _relief_flags(totals, what_if_felonies, what_if_dismissed, what_if_recent)
    if not (dates or current or what_if_flags or some_relief or evaluated):
        return NOTHING
    return SummaryCounts(
        prop64_dates_in_county=dates,
        relief_current=current,
        relief_dismiss_all_prop64=what_if_flags,
        prop64_by_section_in_county=by_section,
        subjects_with_prop64_in_county=1 if by_section else 0,
        prop64_felonies_in_county=felonies,
        prop64_non_felonies_in_county=non_felonies,
        subjects_with_some_relief=1 if some_relief else 0,
        dismissal_reasons=dismissals,
        reduction_reasons=reductions,
        determinations_by_section=by_determination,
        evaluated=evaluated,
        subjects_evaluated=1 if evaluated else 0,
    )


def offline_outcomes(
    subject: Subject,
    county: str,
    infos: Mapping[int, EligibilityInfo],
    dismiss_all_infos: Mapping[int, EligibilityInfo],
    compute_at: datetime,
) -> tuple[list[ConvictionOutcome], SubjectTotals]:
    """A classified person of a DOJ file as :func:`subject_counts` reads it. ``infos`` are the chosen flow's
    answers, ``dismiss_all_infos`` the what-if's (both keyed by row index, as the engine returns them)."""
    seven_years_ago = add_years(compute_at, -7)
    outcomes: list[ConvictionOutcome] = []
    felonies = recent = 0
    for conviction in subject.convictions:
        is_recent = conviction.disposition_date > seven_years_ago
        felonies += conviction.is_felony
        recent += is_recent
        info = infos.get(conviction.index)
        section = conviction.prop64_section
        what_if = conviction.index in dismiss_all_infos
        if info is None and not what_if and (section is None or conviction.county != county):
            continue  # counts only in the totals
        outcomes.append(
            ConvictionOutcome(
                county=conviction.county,
                prop64_section=section,
                is_felony=conviction.is_felony,
                disposition_date=conviction.disposition_date,
                recent=is_recent,
                determination=None if info is None else info.determination,
                reason="" if info is None else info.reason,
                what_if_dismissed=what_if,
            )
        )
    return outcomes, SubjectTotals(len(subject.convictions), felonies, recent)


def file_earliest(counts: SummaryCounts, now: datetime) -> datetime:
    """A file's ``earliestConviction``: gogen falls back to the time of the run when there is none."""
    earliest = counts.earliest_conviction
    return now if earliest is None else earliest


def run_earliest(run: datetime | None, file: datetime) -> datetime:
    """gogen's ``findEarliest`` when adding a file to the run: the run's value is kept only if it is not the
    zero date and is before the file's (so a zero date from one file gives way to the next file's date)."""
    if run is not None and run != ZERO_TIME and run < file:
        return run
    return file


@dataclass(frozen=True, slots=True)
class SummaryDocument:
    """Everything gogen's JSON summary holds, in its field order (values already in gogen's shapes)."""

    county: str
    earliest_conviction: datetime
    line_count: int
    processing_time_in_seconds: float
    relief_with_current_eligibility_choices: dict[str, int]
    relief_with_dismiss_all_prop64: dict[str, int]
    prop64_convictions_count_in_county_by_code_section: dict[str, int]
    subjects_with_prop64_conviction_count_in_county: int
    prop64_felony_convictions_count_in_county: int
    prop64_non_felony_convictions_count_in_county: int
    subjects_with_some_relief_count: int
    conviction_dismissal_count_by_code_section: dict[str, int]
    conviction_reduction_count_by_code_section: dict[str, int]
    conviction_dismissal_count_by_additional_relief: dict[str, int]

    def to_json_object(self) -> dict[str, Any]:
        """camelCase keys in gogen's order (``encoding/json`` sorts the keys of the inner maps itself)."""
        return {_camel(item.name): getattr(self, item.name) for item in fields(self)}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def gogen_summary(
    counts: SummaryCounts,
    *,
    county: str,
    earliest_conviction: datetime,
    dismiss_sections: Sequence[str],
    reduce_sections: Sequence[str],
    processing_time_in_seconds: float,
) -> SummaryDocument:
    """gogen's summary from summed counts. Configured sections are listed even when nothing matched (gogen
    writes ``0`` for them); the other maps list only what occurred."""

    def relief(flags: Mapping[str, int]) -> dict[str, int]:
        return {key: flags.get(key, 0) for key in RELIEF_KEYS}

    dismissals = counts.dismissal_reasons
    reductions = counts.reduction_reasons
    return SummaryDocument(
        county=county,
        earliest_conviction=earliest_conviction,
        line_count=counts.line_count,
        processing_time_in_seconds=processing_time_in_seconds,
        relief_with_current_eligibility_choices=relief(counts.relief_current),
        relief_with_dismiss_all_prop64=relief(counts.relief_dismiss_all_prop64),
        prop64_convictions_count_in_county_by_code_section=dict(counts.prop64_by_section_in_county),
        subjects_with_prop64_conviction_count_in_county=counts.subjects_with_prop64_in_county,
        prop64_felony_convictions_count_in_county=counts.prop64_felonies_in_county,
        prop64_non_felony_convictions_count_in_county=counts.prop64_non_felonies_in_county,
        subjects_with_some_relief_count=counts.subjects_with_some_relief,
        conviction_dismissal_count_by_code_section={
            section: dismissals.get(dismissal_reason(section), 0) for section in dismiss_sections
        },
        conviction_reduction_count_by_code_section={
            section: reductions.get(reduction_reason(section), 0) for section in reduce_sections
        },
        conviction_dismissal_count_by_additional_relief={
            reason: count
            for reason, count in dismissals.items()
            if count and not is_baseline_dismissal(reason)
        },
    )


# -- the streaming side: determination events ---------------------------------------------------------------------

Det = Mapping[str, Any]
"""A ``determination.v1`` event as a decoded JSON object (what the worker emits and ``clearance report`` reads)."""


@lru_cache(maxsize=1 << 14)
def _event_date(text: str | None) -> datetime:
    """A determination's ``facts.date_of_conviction`` (ISO ``YYYY-MM-DD``, ``None`` for the zero date).

    Read back with the parser of the file's own dates, which also holds year 0000 (``datetime.fromisoformat``
    refuses it; gogen's ``earliestConviction`` is then ``0000-…``)."""
    return ZERO_TIME if text is None else parse_yyyymmdd(text[0:4] + text[5:7] + text[8:10])


def _outcome(det: Det) -> ConvictionOutcome:
    section = prop64_section(det["code_section"])
    return ConvictionOutcome(
        county=det["county"],
        prop64_section=section,
        is_felony=det["is_felony"],
        disposition_date=_event_date(det["facts"]["date_of_conviction"]),
        recent=det["in_last_7_years"],
        determination=Determination(det["determination"]),
        reason=det["reason"],
        # the what-if dismisses every Prop 64 conviction (pilot flows also evaluate related charges: those stay)
        what_if_dismissed=section is not None,
    )


def determination_outcomes(determinations: Iterable[Det]) -> dict[str, tuple[list[ConvictionOutcome], SubjectTotals]]:
    """County → one person's active determinations there as :func:`subject_counts` reads them.

    A determination carries the person's totals over every county (its ``subject`` object), so the counties of
    one person need no other input.
    """
    by_county: dict[str, tuple[list[ConvictionOutcome], SubjectTotals]] = {}
    for det in determinations:
        if det.get("status", ACTIVE) != ACTIVE:
            continue
        entry = by_county.get(det["county"])
        if entry is None:
            counts = det["subject"]
            totals = SubjectTotals(
                counts["convictions"], counts["felony_convictions"], counts["convictions_last_7_years"]
            )
            entry = by_county[det["county"]] = ([], totals)
        entry[0].append(_outcome(det))
    return by_county


_RELIEF_TEXTS = frozenset(d.value for d in _RELIEF)
_DISMISSAL_TEXT = Determination.DISMISSAL.value


def subject_impact(determinations: Iterable[Det]) -> dict[str, set[str]]:
    """County → the :data:`RELIEF_FIGURES` this person counts in under the current policies (the worker's gauges).

    The ``relief_current`` of :func:`subject_counts` for each county of :func:`determination_outcomes`, computed
    from the three counts its tests read (relieved felonies, dismissals, recent dismissals) instead of the whole
    summary: the worker's gauges ask this for every event (``tests/worker/test_gauges.py`` pins the two equal).
    """
    figures = _FIGURE_BY_KEY
    counted: dict[str, list[Any]] = {}  # county → [totals, relieved felonies, dismissed, recent dismissed]
    for det in determinations:
        if det.get("status", ACTIVE) != ACTIVE:
            continue
        entry = counted.get(det["county"])
        if entry is None:
            entry = counted[det["county"]] = [det["subject"], 0, 0, 0]
        determination = det["determination"]
        if determination in _RELIEF_TEXTS:
            if det["is_felony"]:
                entry[1] += 1
            if determination == _DISMISSAL_TEXT:
                entry[2] += 1
                if det["in_last_7_years"]:
                    entry[3] += 1
    impact: dict[str, set[str]] = {}
    for county, (counts, felonies, dismissed, recent) in counted.items():
        totals = SubjectTotals(counts["convictions"], counts["felony_convictions"], counts["convictions_last_7_years"])
        impact[county] = {figures[key] for key in _relief_flags(totals, felonies, dismissed, recent)}
    return impact


_FIGURE_BY_KEY = {key: figure for figure, key in RELIEF_FIGURES.items()}


def county_report(determinations_by_subject: Mapping[str, Iterable[Det]]) -> dict[str, dict[str, Any]]:
    """gogen's summary figures per county from every person's current determinations (``clearance report``):
    gogen's key names, plus the determinations and reasons of the county's evaluated convictions."""
    counts: dict[str, list[SummaryCounts]] = {}
    determinations: dict[str, Counter[str]] = {}
    reasons: dict[str, Counter[str]] = {}
    for dets in determinations_by_subject.values():
        for county, (outcomes, totals) in determination_outcomes(dets).items():
            counts.setdefault(county, []).append(subject_counts(county, outcomes, totals))
            shown = determinations.setdefault(county, Counter())
            explained = reasons.setdefault(county, Counter())
            for outcome in outcomes:
                name = outcome.determination.value if outcome.determination else ""
                shown[name or "(none)"] += 1
                explained[f"{name or '(none)'}: {outcome.reason}"] += 1
    report: dict[str, dict[str, Any]] = {}
    for county in sorted(counts):
        summed = total(counts[county])
        report[county] = {
            "subjectsWithProp64ConvictionCountInCounty": summed.subjects_with_prop64_in_county,
            "prop64ConvictionsCountInCountyByCodeSection": {
                section: summed.prop64_by_section_in_county.get(section, 0) for section in PROP64_SECTIONS
            },
            "prop64FelonyConvictionsCountInCounty": summed.prop64_felonies_in_county,
            "prop64NonFelonyConvictionsCountInCounty": summed.prop64_non_felonies_in_county,
            "subjectsWithSomeReliefCount": summed.subjects_with_some_relief,
            "reliefWithCurrentEligibilityChoices": {key: summed.relief_current.get(key, 0) for key in RELIEF_KEYS},
            "reliefWithDismissAllProp64": {key: summed.relief_dismiss_all_prop64.get(key, 0) for key in RELIEF_KEYS},
            "determinations": dict(sorted(determinations[county].items())),
            "reasons": dict(sorted(reasons[county].items())),
        }
    return report


def county_counts(determinations_by_subject: Mapping[str, Iterable[Det]]) -> dict[str, SummaryCounts]:
    """County → the summed figures of every person's current determinations there (the live summary report)."""
    parts: dict[str, list[SummaryCounts]] = {}
    for dets in determinations_by_subject.values():
        for county, (outcomes, totals) in determination_outcomes(dets).items():
            parts.setdefault(county, []).append(subject_counts(county, outcomes, totals))
    return {county: total(parts[county]) for county in sorted(parts)}


def data_quality_counts(determinations: Iterable[Det]) -> dict[str, dict[str, int]]:
    """County → data-quality flag code → active determinations carrying it (``data_quality``, absent: none)."""
    counts: dict[str, Counter[str]] = {}
    for det in determinations:
        if det.get("status", ACTIVE) != ACTIVE:
            continue
        codes = det.get("data_quality") or ()
        if codes:
            counts.setdefault(det["county"], Counter()).update(codes)
    return {county: dict(sorted(found.items())) for county, found in sorted(counts.items())}


def sections_with_reasons(counts: SummaryCounts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dismissed and the reduced sections the counts' reasons name, for a gogen summary of determinations
    whose policies' configured sections are not at hand (the live report): a section appears once it decided."""
    dismissed = tuple(s for s in PROP64_SECTIONS if dismissal_reason(s) in counts.dismissal_reasons)
    reduced = tuple(s for s in PROP64_SECTIONS if reduction_reason(s) in counts.reduction_reasons)
    return dismissed, reduced
