"""gogen's summary figures (spec §9; G:exporter/data_exporter.go, G:data/doj_information.go), as sums.

Every figure gogen reports is a sum over subjects, so it is computed here per subject
(:func:`subject_counts`) and summed with ``+`` (and taken back with ``-``, which a streaming service needs
when a person's history changes). The earliest Prop 64 conviction date is kept as a multiset of dates for
the same reason. :class:`SummaryCounts` is pure data: no clock, no I/O. Turning it into gogen's JSON
document needs the few things that are not sums (county, the configured sections, the run's timing and
gogen's "now" for an empty file) and lives in :func:`gogen_summary`.

Deliberate difference: ``CountSubjectsNoConvictionLast7Years`` uses compute-at, not the wall clock (quirk 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from streams.gocompat.dates import ZERO_TIME, add_years
from streams.rules.info import EligibilityInfo
from streams.rules.matchers import prop64_section
from streams.rules.outcome import Determination
from streams.rules.subject import Subject

NO_FELONY = "CountSubjectsNoFelony"
NO_CONVICTION = "CountSubjectsNoConviction"
NO_CONVICTION_LAST_7_YEARS = "CountSubjectsNoConvictionLast7Years"
RELIEF_KEYS = (NO_FELONY, NO_CONVICTION, NO_CONVICTION_LAST_7_YEARS)

# Dismissal reasons that are not "additional relief" (G:exporter/data_exporter.go, getDismissalsBy...).
_BASELINE_PREFIXES = ("Dismiss all HS", "Misdemeanor or Infraction")


def _add(left: Mapping[Any, int], right: Mapping[Any, int], sign: int) -> dict[Any, int]:
    total = dict(left)
    for key, value in right.items():
        total[key] = total.get(key, 0) + sign * value
    return {key: value for key, value in total.items() if value}


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    """The summable part of gogen's summary; the zero value is ``SummaryCounts()``.

    Mappings hold only non-zero entries. ``prop64_dates_in_county`` counts Prop 64 convictions of the county
    by disposition date (its smallest key is gogen's ``earliestConviction``). ``dismissal_reasons`` and
    ``reduction_reasons`` count the county's Prop 64 convictions by the reason of their determination; the
    per-section and additional-relief figures are read from them.
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

    def _combine(self, other: SummaryCounts, sign: int) -> SummaryCounts:
        values: dict[str, Any] = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, Mapping):
                values[item.name] = _add(mine, theirs, sign)
            else:
                values[item.name] = mine + sign * theirs
        return SummaryCounts(**values)

    def __add__(self, other: SummaryCounts) -> SummaryCounts:
        return self._combine(other, 1)

    def __sub__(self, other: SummaryCounts) -> SummaryCounts:
        return self._combine(other, -1)

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
    return SummaryCounts(**ints, **cleaned)


_MAPPING_FIELDS = frozenset(
    {
        "prop64_dates_in_county",
        "relief_current",
        "relief_dismiss_all_prop64",
        "prop64_by_section_in_county",
        "dismissal_reasons",
        "reduction_reasons",
    }
)


_RELIEF = frozenset({Determination.DISMISSAL, Determination.REDUCTION})


def _is_relief(info: EligibilityInfo | None) -> bool:
    return info is not None and info.determination in _RELIEF


def _is_dismissal(info: EligibilityInfo | None) -> bool:
    return info is not None and info.determination is Determination.DISMISSAL


def relief_flags(
    subject: Subject, infos: Mapping[int, EligibilityInfo], compute_at: datetime
) -> dict[str, int]:
    """gogen's three "full relief" tests for one subject (G:data/doj_information.go countIndividualsFiltered-
    ByFullRelief): 1 when at least one conviction is concerned and every concerned one gets the relief.

    No felony: every felony conviction is dismissed or reduced. No conviction: every conviction is dismissed.
    No conviction in the last 7 years: every conviction disposed after compute-at minus 7 years is dismissed.
    """
    if not infos:  # nothing relieved: every test needs a concerned conviction and all of them relieved
        return {}
    seven_years_ago = add_years(compute_at, -7)
    felonies = felonies_relieved = 0
    convictions = convictions_dismissed = 0
    recent = recent_dismissed = 0
    for conviction in subject.convictions:
        info = infos.get(conviction.index)
        dismissed = _is_dismissal(info)
        convictions += 1
        convictions_dismissed += dismissed
        if conviction.is_felony:
            felonies += 1
            felonies_relieved += _is_relief(info)
        if conviction.disposition_date > seven_years_ago:
            recent += 1
            recent_dismissed += dismissed
    flags = {
        NO_FELONY: felonies != 0 and felonies == felonies_relieved,
        NO_CONVICTION: convictions != 0 and convictions == convictions_dismissed,
        NO_CONVICTION_LAST_7_YEARS: recent != 0 and recent == recent_dismissed,
    }
    return {key: 1 for key, value in flags.items() if value}


def subject_counts(
    subject: Subject,
    county: str,
    infos: Mapping[int, EligibilityInfo],
    dismiss_all_infos: Mapping[int, EligibilityInfo],
    compute_at: datetime,
) -> SummaryCounts:
    """One subject's contribution to every figure (``line_count`` stays 0: rows are counted by the reader).

    ``infos`` are the chosen flow's answers for this subject, ``dismiss_all_infos`` the "dismiss all Prop 64"
    what-if's (both keyed by row index, as the engine returns them).
    """
    convictions = subject.convictions
    if not infos and not dismiss_all_infos and not any(
        conviction.county == county and prop64_section(conviction.code_section) is not None
        for conviction in convictions
    ):
        return NOTHING  # most people of a file have no Prop 64 conviction in the county
    dates: dict[datetime, int] = {}
    by_section: dict[str, int] = {}
    dismissals: dict[str, int] = {}
    reductions: dict[str, int] = {}
    felonies = non_felonies = 0
    some_relief = False
    for conviction in convictions:
        info = infos.get(conviction.index)
        if info is not None and info.determination in _RELIEF:
            some_relief = True
        if conviction.county != county:
            continue
        section = prop64_section(conviction.code_section)
        if section is None:
            continue
        date = conviction.disposition_date
        dates[date] = dates.get(date, 0) + 1
        by_section[section] = by_section.get(section, 0) + 1
        if conviction.is_felony:
            felonies += 1
        else:
            non_felonies += 1
        if info is not None and info.determination is Determination.DISMISSAL:
            dismissals[info.reason] = dismissals.get(info.reason, 0) + 1
        elif info is not None and info.determination is Determination.REDUCTION:
            reductions[info.reason] = reductions.get(info.reason, 0) + 1
    current = relief_flags(subject, infos, compute_at)
    what_if = relief_flags(subject, dismiss_all_infos, compute_at)
    if not (dates or current or what_if or some_relief):
        return NOTHING
    return SummaryCounts(
        prop64_dates_in_county=dates,
        relief_current=current,
        relief_dismiss_all_prop64=what_if,
        prop64_by_section_in_county=by_section,
        subjects_with_prop64_in_county=1 if by_section else 0,
        prop64_felonies_in_county=felonies,
        prop64_non_felonies_in_county=non_felonies,
        subjects_with_some_relief=1 if some_relief else 0,
        dismissal_reasons=dismissals,
        reduction_reasons=reductions,
    )


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
            section: dismissals.get(f"Dismiss all HS {section} convictions", 0)
            for section in dismiss_sections
        },
        conviction_reduction_count_by_code_section={
            section: reductions.get(f"Reduce all HS {section} convictions", 0) for section in reduce_sections
        },
        conviction_dismissal_count_by_additional_relief={
            reason: count
            for reason, count in dismissals.items()
            if count and not reason.startswith(_BASELINE_PREFIXES)
        },
    )
