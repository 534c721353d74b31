"""What the summary report says, as plain data: built only from :mod:`streams.summary`'s figures, for both sources.

The offline run passes its summed :class:`~streams.summary.SummaryCounts` and the :class:`SummaryDocument` it
writes as ``gogen.json``; ``clearance report`` passes the counts of the determinations topic
(:func:`~streams.summary.county_counts`) turned into the same document by :func:`~streams.summary.gogen_summary`.
So the page shows exactly gogen's figures, and no figure is computed here: this module only selects and words.
Pure: the caller passes the time the report was made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.gocompat.dates import ZERO_TIME
from streams.rules.matchers import PROP64_SECTIONS
from streams.summary import SummaryCounts, SummaryDocument, gogen_summary, sections_with_reasons, total

STATEWIDE = "Statewide"


@dataclass(frozen=True, slots=True)
class CountyFigures:
    """One section of the report: gogen's summary object of a county (or of the statewide total) and the extras
    the charts need. ``data_quality`` ``None``: the source records no data-quality flags."""

    county: str
    summary: Mapping[str, Any]
    determinations_by_section: Mapping[str, Mapping[str, int]]
    data_quality: Mapping[str, int] | None = None

    @property
    def place(self) -> str:
        return "California (all counties)" if self.county == STATEWIDE else f"{title_case(self.county)} County"

    @property
    def prop64_convictions(self) -> int:
        return int(self.summary["prop64FelonyConvictionsCountInCounty"]) + int(
            self.summary["prop64NonFelonyConvictionsCountInCounty"]
        )

    @property
    def earliest(self) -> datetime | None:
        """The earliest Prop 64 conviction, ``None`` without one (gogen writes the run's time then)."""
        value = self.summary["earliestConviction"]
        if not self.summary["subjectsWithProp64ConvictionCountInCounty"] or value in (None, ZERO_TIME):
            return None
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class OutputFile:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the template shows. ``source`` is ``"offline"`` (a DOJ file) or ``"live"`` (the topic)."""

    source: str
    generated_at: datetime
    version: str
    ruleset: str
    counties: tuple[CountyFigures, ...]
    statewide: CountyFigures | None = None
    ranking: tuple[tuple[str, int], ...] = ()
    choices: tuple[str, ...] = ()
    files: tuple[OutputFile, ...] = ()
    input_count: int = 0
    provenance: tuple[tuple[str, str], ...] = ()
    inputs: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


def title_case(name: str) -> str:
    """BEAR's ``toTitleCase``: ``SAN LUIS OBISPO`` → ``San Luis Obispo``."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in name.split(" "))


def by_section(counts: SummaryCounts) -> dict[str, dict[str, int]]:
    """``determinations_by_section`` as section → determination → convictions, sections in gogen's order."""
    nested: dict[str, dict[str, int]] = {}
    for section in PROP64_SECTIONS:
        row = {d: n for (s, d), n in counts.determinations_by_section.items() if s == section and n}
        if row:
            nested[section] = dict(sorted(row.items()))
    return nested


def offline_figures(counts: SummaryCounts, document: SummaryDocument) -> CountyFigures:
    """The county section of an offline run: its ``gogen.json`` object and its counts."""
    return CountyFigures(document.county, document.to_json_object(), by_section(counts), None)


def live_figures(county: str, counts: SummaryCounts, data_quality: Mapping[str, int] | None) -> CountyFigures:
    """A county (or the statewide total) of the determinations topic, in gogen's summary shape. The configured
    sections are the ones the determinations' reasons name; there is no line count or processing time."""
    dismissed, reduced = sections_with_reasons(counts)
    earliest = counts.earliest_conviction
    document = gogen_summary(
        counts,
        county=county,
        earliest_conviction=ZERO_TIME if earliest is None else earliest,
        dismiss_sections=dismissed,
        reduce_sections=reduced,
        processing_time_in_seconds=0.0,
    )
    return CountyFigures(county, document.to_json_object(), by_section(counts), dict(data_quality or {}))


def live_report(
    counts: Mapping[str, SummaryCounts],
    data_quality: Mapping[str, Mapping[str, int]],
    *,
    generated_at: datetime,
    version: str,
    ruleset: str,
    provenance: Sequence[tuple[str, str]],
    county: str | None = None,
) -> Report:
    """The live report: one county (``county``), or every county plus the statewide total and the ranking."""
    chosen = {name: c for name, c in counts.items() if county is None or name == county}
    sections = tuple(live_figures(name, c, data_quality.get(name)) for name, c in chosen.items())
    statewide = None
    ranking: tuple[tuple[str, int], ...] = ()
    if county is None:
        summed_quality: dict[str, int] = {}
        for found in data_quality.values():
            for code, n in found.items():
                summed_quality[code] = summed_quality.get(code, 0) + n
        statewide = live_figures(STATEWIDE, total(chosen.values()), dict(sorted(summed_quality.items())))
        ranking = tuple(
            sorted(((name, c.subjects_with_some_relief) for name, c in chosen.items()), key=lambda x: (-x[1], x[0]))
        )
    return Report(
        source="live",
        generated_at=generated_at,
        version=version,
        ruleset=ruleset,
        counties=sections,
        statewide=statewide,
        ranking=ranking,
        provenance=tuple(provenance),
    )


def eligibility_choices(flow: str, options: Mapping[str, Any]) -> tuple[str, ...]:
    """The "You chose the following eligibility determinations" lines of a flow's normalised options."""
    if flow != "configurable":
        if "individual_age" in options or "years_conviction_free" in options:
            return (
                f"Los Angeles flow: dismiss when the person is {options.get('individual_age')} years or older",
                f"Los Angeles flow: dismiss when the person has had no conviction in the past "
                f"{options.get('years_conviction_free')} years",
            )
        return (f"The {flow.replace('_', ' ')} pilot flow (fixed rules, no options)",)
    baseline = options.get("baselineEligibility") or {}
    relief = options.get("additionalRelief") or {}
    lines = []
    dismiss = ", ".join(f"H&S § {s}" for s in baseline.get("dismiss") or ()) or "none"
    reduce = ", ".join(f"H&S § {s}" for s in baseline.get("reduce") or ()) or "none"
    lines.append(f"Dismiss all convictions of: {dismiss}")
    lines.append(f"Reduce all convictions of: {reduce}")
    extra = []
    if relief.get("subjectUnder21AtConviction"):
        extra.append("the person was 21 or younger at conviction")
    if relief.get("subjectAgeThreshold"):
        extra.append(f"the person is {relief['subjectAgeThreshold']} or older")
    if relief.get("yearsSinceConvictionThreshold"):
        extra.append(f"the conviction occurred {relief['yearsSinceConvictionThreshold']} or more years ago")
    if relief.get("yearsCrimeFreeThreshold"):
        extra.append(f"the person has had no conviction in the past {relief['yearsCrimeFreeThreshold']} years")
    if relief.get("subjectHasOnlyProp64Charges"):
        extra.append("the person has only H&S 11357–11360 convictions")
    if relief.get("subjectIsDeceased"):
        extra.append("the person is deceased")
    lines.append("Additional relief — also dismiss a conviction not dismissed above when "
                 + ("; or ".join(extra) if extra else "— (none chosen)"))
    return tuple(lines)


def output_files(names: Mapping[str, str], input_count: int) -> tuple[OutputFile, ...]:
    """BEAR's "Understanding the output files" for the names this run wrote (kind → a name or a pattern)."""
    return (
        OutputFile(names["prop64"], "Only the rows of Prop 64 convictions in the county that received a determination: "
                   "the DOJ columns first, then the columns this tool adds (the last two are the determination and "
                   "its reason)."),
        OutputFile(names["condensed"], "Every row with fewer DOJ columns, to review a person's whole California record "
                   "history."),
        OutputFile(names["all"], "The entire DOJ file plus every column this tool adds."),
        OutputFile(names["summary"], "gogen's summary figures as JSON (the figures of this report)."),
        OutputFile(names["run"], "Provenance: inputs with their SHA-256, options as given and as parsed, compute-at "
                   "date, flow, ruleset and version, start and end time, and the SHA-256 of every output file."),
    )
