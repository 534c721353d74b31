"""gogen_pilots' Los Angeles outputs for users of the LA flow (``classify --flow los_angeles --la-pilot-outputs``):
the text impact report ``gogen_pilots_<i><suf>.out`` per input file (LA:exporter/data_exporter.go,
``PrintAggregateStatistics``) and ``gogen_pilots<suf>.json``, gogen's summary with LA's two extra keys
``individualDismissAge`` and ``yearsConvictionFree`` after ``county``. gogen's own files stay byte-identical:
these are extra files, written only when asked for.

The relief figures ("impact to individuals") go through :mod:`streams.summary` (``subject_counts``); the
tallies only this text report has (totals, sections overall, section × determination, determination × reason,
related charges) are counted here per conviction, as LA's ``DOJInformation`` methods counted them. Deviations:
"last 7 years" uses compute-at (quirk 3), the processing time is this tool's, and a related conviction the LA
flow does not evaluate is listed with an empty determination (gogen_pilots dereferenced a missing entry).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping
from typing import Any

from streams.doj import columns as C
from streams.doj.reader import iter_row_chunks
from streams.gocompat.gojson import GoMap, go_json
from streams.offline.provenance import RunRecord, pilots_paths
from streams.offline.settings import ClassifySettings
from streams.rules.engine import classify_subject
from streams.rules.outcome import Determination
from streams.rules.subject import Subject
from streams.summary import (
    NO_CONVICTION,
    NO_CONVICTION_LAST_7_YEARS,
    NO_FELONY,
    ConvictionOutcome,
    SubjectTotals,
    SummaryCounts,
    offline_outcomes,
    subject_counts,
    total,
)

LA_FLOW = "los_angeles"


def _subjects(path: str, pilot: bool) -> dict[str, Subject]:
    subjects: dict[str, Subject] = {}
    index = 0
    for rows in iter_row_chunks(path):
        for fields in rows:
            subject_id = fields[C.SUBJECT_ID]
            subject = subjects.get(subject_id)
            if subject is None:
                subject = subjects[subject_id] = Subject(subject_id, pilot_code_sections=pilot)
            subject.push(fields, index)
            index += 1
    return subjects


def _and_related(subject: Subject, county: str, compute_at: Any) -> tuple[list[ConvictionOutcome], SubjectTotals]:
    """"Dismiss all Prop 64 and related": every Prop 64 or related conviction of the county dismissed."""
    outcomes, totals = offline_outcomes(subject, county, {}, {}, compute_at)
    dismissed = []
    for conviction in subject.convictions:
        if conviction.county == county and (conviction.prop64_section or conviction.code.related_section):
            dismissed.append(ConvictionOutcome(
                county=conviction.county, prop64_section=conviction.prop64_section, is_felony=conviction.is_felony,
                disposition_date=conviction.disposition_date, recent=conviction.occurred_in_last_7_years(compute_at),
                determination=Determination.DISMISSAL, reason="Dismiss all Prop 64 and related charges",
                what_if_dismissed=False,
            ))
    return dismissed or outcomes, totals


def file_report(path: str, settings: ClassifySettings, seconds: float) -> str:
    """The text of one input file's ``gogen_pilots_<i>.out``."""
    county, t, flow = settings.county, settings.compute_at, settings.flow
    subjects = _subjects(path, flow.pilot_code_sections)
    rows = sum(1 for rows in iter_row_chunks(path) for _ in rows)
    current: list[SummaryCounts] = []
    what_if: list[SummaryCounts] = []
    related_all: list[SummaryCounts] = []
    overall: Counter[str] = Counter()
    in_county: Counter[str] = Counter()
    by_section: dict[str, Counter[str]] = {}
    by_reason: dict[str, Counter[str]] = {}
    related_overall: Counter[str] = Counter()
    related_by_section: dict[str, Counter[str]] = {}
    convictions = convictions_in_county = with_felony = with_conviction = with_recent = 0
    earliest = None
    for subject in subjects.values():
        infos = classify_subject(subject, flow, t)
        dismiss_all = classify_subject(subject, settings.dismiss_all, t)
        current.append(subject_counts(county, *offline_outcomes(subject, county, infos, {}, t)))
        what_if.append(subject_counts(county, *offline_outcomes(subject, county, dismiss_all, {}, t)))
        related_all.append(subject_counts(county, *_and_related(subject, county, t)))
        convictions += len(subject.convictions)
        with_conviction += bool(subject.convictions)
        with_felony += any(c.is_felony for c in subject.convictions)
        with_recent += any(c.occurred_in_last_7_years(t) for c in subject.convictions)
        for conviction in subject.convictions:
            section, related = conviction.prop64_section, conviction.code.related_section
            info = infos.get(conviction.index)
            determination = "" if info is None else info.determination.value
            if section:
                overall[section] += 1
            if related:
                related_overall[related] += 1
            if conviction.county != county:
                continue
            convictions_in_county += 1
            if section:
                in_county[section] += 1
                by_section.setdefault(section, Counter())[determination] += 1
                by_reason.setdefault(determination, Counter())["" if info is None else info.reason] += 1
                if earliest is None or conviction.disposition_date < earliest:
                    earliest = conviction.disposition_date
            if related:
                related_by_section.setdefault(related, Counter())[determination] += 1
    out: list[str] = []
    w = out.append
    w("----------- Overall summary of DOJ file --------------------\n")
    w(f"Found {rows} Total rows in DOJ file\n")
    w(f"Based on your office’s eligibility choices, this application processed the data in {seconds} seconds\n")
    w(f"Found {len(subjects)} Total individuals in DOJ file\n")
    w(f"Found {convictions} Total convictions in DOJ file\n")
    w(f"Found {convictions_in_county} convictions in this county\n")
    w("\n----------- Prop64 Convictions Overall--------------------")
    _by_code(w, "total", overall)
    w("\n----------- Prop64 Convictions In This County --------------------")
    _by_code(w, "in this county", in_county)
    w(f"Date of earliest Prop 64 conviction: {'' if earliest is None else f'{earliest:%B %Y}'}")
    _by_section(w, by_section)
    w("\n----------- Eligibility Reasons --------------------\n")
    for determination in sorted(by_reason):
        w(f"\n{determination}")
        for reason in sorted(by_reason[determination]):
            w(f"\nFound {by_reason[determination][reason]} convictions with eligibility reason {reason}")
        w("\n")
    w("\n\n----------- Prop64 Related Convictions In This County --------------------")
    _by_code(w, "in this county", related_overall)
    w("\n")
    _by_section(w, related_by_section)
    w("\n----------- Impact to individuals --------------------\n")
    w(f"{with_felony} individuals currently have a felony on their record\n")
    w(f"{with_conviction} individuals currently have convictions on their record\n")
    w(f"{with_recent} individuals currently have convictions on their record in the last 7 years\n\n")
    for title, parts in (
        ("Eligibility is run as specified for Prop 64 and Related Charges", current),
        ("If ALL Prop 64 convictions are dismissed and sealed", what_if),
        ("If all Prop 64 AND related convictions are dismissed and sealed", related_all),
    ):
        relief = total(parts).relief_current
        w(f"----------- {title} --------------------\n")
        w(f"{relief.get(NO_FELONY, 0)} individuals who had a felony will no longer have a felony on their record\n")
        w(f"{relief.get(NO_CONVICTION, 0)} individuals who had convictions will no longer have any convictions on "
          "their record\n")
        w(f"{relief.get(NO_CONVICTION_LAST_7_YEARS, 0)} individuals who had convictions in the last 7 years will no "
          "longer have any convictions on their record in the last 7 years\n")
        if title.startswith("If all"):
            break
        w("\n")
    return "".join(out)


def _by_code(w: Any, description: str, counts: Mapping[str, int]) -> None:
    w(f"\nFound {sum(counts.values())} convictions {description}\n")
    for key in sorted(counts):
        w(f"Found {counts[key]} {key} convictions {description}\n")


def _by_section(w: Any, table: Mapping[str, Counter[str]]) -> None:
    for section in sorted(table):
        w(f"\n{section}")
        for determination in sorted(table[section]):
            w(f"\nFound {table[section][determination]} {determination} convictions that are {section}")
        w(f"\nFound {sum(table[section].values())} convictions total that are {section}\n")


def pilots_summary_json(record: RunRecord, settings: ClassifySettings) -> str:
    """gogen's summary object with LA's ``individualDismissAge`` and ``yearsConvictionFree`` after ``county``."""
    assert record.document is not None
    body: dict[str, Any] = {}
    for key, value in record.document.to_json_object().items():
        body[key] = GoMap(value) if isinstance(value, dict) else value
        if key == "county":
            body["individualDismissAge"] = settings.flow.options.get("individual_age")
            body["yearsConvictionFree"] = settings.flow.options.get("years_conviction_free")
    return go_json(body)


def write_pilot_outputs(
    args: argparse.Namespace, settings: ClassifySettings, inputs: list[str], record: RunRecord
) -> int:
    """Write the LA outputs; 1 (with a message) when the flow is not Los Angeles'."""
    if settings.flow.name != LA_FLOW:
        print(f"clearance classify: --la-pilot-outputs is for --flow {LA_FLOW} (this run: {settings.flow.name}); "
              "nothing extra written", file=sys.stderr)
        return 1
    assert record.document is not None
    outs, summary = pilots_paths(args.outputs, len(inputs), args.file_name_suffix or "")
    seconds = record.document.processing_time_in_seconds
    for path, target in zip(inputs, outs, strict=True):
        with open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(file_report(path, settings, seconds))
        record.outputs.append(target)
    with open(summary, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        handle.write(pilots_summary_json(record, settings))
    record.outputs.append(summary)
    return 0


__all__ = ["file_report", "pilots_summary_json", "write_pilot_outputs"]
