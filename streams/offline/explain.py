"""``clearance explain SUBJECT_ID --input-doj F --county C``: one person's answers and why, from a DOJ file.

The person's rows are read from the file (Go's CSV rules), pushed into a subject and classified by the engine
with the flow and compute-at ``classify`` would use; the answers become determination-shaped dicts
(:func:`offline_determinations`) and the pure :mod:`streams.explain` turns them into the document.
"""

from __future__ import annotations

import argparse
import copy
import sys
from datetime import datetime
from typing import Any

from streams import RULESET_VERSION
from streams.doj import columns as C
from streams.doj.reader import FieldCountError, iter_row_chunks
from streams.errors import ClearanceError
from streams.explain import dump, explain_document
from streams.gocompat.dates import ZERO_TIME, add_years
from streams.offline.guide import county_not_found, county_rows
from streams.offline.settings import ClassifySettings, settings_from_args
from streams.rules.engine import classify_subject, subject_for
from streams.rules.flows.base import Flow
from streams.rules.subject import Subject


def _day(value: datetime) -> str | None:
    return None if value == ZERO_TIME else value.date().isoformat()


def age_at(dob: datetime, t: datetime) -> int | None:
    """Whole years from ``dob`` to ``t`` with Go's ``AddDate`` (what the age rules compare); ``None`` without a DOB."""
    if dob == ZERO_TIME:
        return None
    years = t.year - dob.year
    while years > 0 and add_years(dob, years) > t:
        years -= 1
    return years


def read_subject(paths: list[str], subject_id: str, flow: Flow) -> tuple[Subject | None, int]:
    """The person's subject from the files' rows (file-local row indexes as ``classify`` numbers them; several
    files: the rows of the first file that has the person), and how many data rows were read."""
    read = 0
    for path in paths:
        subject: Subject | None = None
        index = 0
        for rows in iter_row_chunks(path):
            for fields in rows:
                if fields[C.SUBJECT_ID] == subject_id:
                    if subject is None:
                        subject = Subject(subject_id, pilot_code_sections=flow.pilot_code_sections, keep_rows=True)
                    subject.push(fields, index)
                index += 1
        read += index
        if subject is not None:
            return subject, read
    return None, read


def person_facts(subject: Subject, compute_at: datetime) -> dict[str, Any]:
    facts = subject.facts
    return {
        "dob": _day(subject.dob),
        "compute_at": compute_at.date().isoformat(),
        "age_at_compute_at": age_at(subject.dob, compute_at),
        "convictions": len(subject.convictions),
        "felony_convictions": facts.number_of_felonies,
        "convictions_last_7_years": subject.number_of_convictions_in_last_7_years(compute_at),
        "most_recent_conviction_date": _day(facts.most_recent_conviction_date),
        "latest_sentence_end_date": _day(facts.latest_sentence_end_date),
        "superstrike_code_sections": list(facts.superstrike_code_sections),
        "pc290_code_sections": list(facts.pc290_code_sections),
        "pc290_registration": subject.pc290_registration,
        "deceased": subject.is_deceased,
    }


def offline_determinations(subject: Subject, settings: ClassifySettings) -> list[dict[str, Any]]:
    """The engine's answers for the person as ``determination.v1``-shaped dicts (with an ``explain`` object of
    the facts an event does not carry). ``clearance report``'s live figures read the same shape."""
    flow, t = settings.flow, settings.compute_at
    subject = subject_for(subject, flow)
    infos = classify_subject(subject, flow, t)
    by_index = {conviction.index: conviction for conviction in subject.convictions}
    totals = {
        "convictions": len(subject.convictions),
        "felony_convictions": subject.facts.number_of_felonies,
        "convictions_last_7_years": subject.number_of_convictions_in_last_7_years(t),
    }
    dets: list[dict[str, Any]] = []
    for index, info in infos.items():
        conviction = by_index[index]
        facts = info.facts()
        for key in ("index", "determination", "reason", "code_section"):
            facts.pop(key, None)
        dets.append({
            "schema": "determination.v1",
            "conviction_id": f"{subject.id}:{conviction.count_order}",
            "subject_id": subject.id,
            "count_order": conviction.count_order,
            "county": conviction.county,
            "code_section": conviction.code_section,
            "is_felony": conviction.is_felony,
            "flow": flow.name,
            "compute_at": t.date().isoformat(),
            "status": "active",
            "determination": info.determination.value,
            "reason": info.reason,
            "rule": info.rule,
            "data_quality": [],
            "next_change": None,
            "facts": facts,
            "subject": totals,
            "in_last_7_years": conviction.occurred_in_last_7_years(t),
            "ruleset": RULESET_VERSION,
            "explain": {
                "disposition_date": _day(conviction.disposition_date),
                "age_at_conviction": age_at(subject.dob, conviction.disposition_date)
                if conviction.disposition_date != ZERO_TIME else None,
                "sentence_end_date": _day(conviction.sentence_end_date),
            },
        })
    return dets


def other_convictions(subject: Subject, evaluated: set[str]) -> list[dict[str, Any]]:
    return [
        {"count_order": c.count_order, "code_section": c.code_section, "county": c.county, "is_felony": c.is_felony,
         "date": _day(c.disposition_date)}
        for c in subject.convictions
        if c.count_order not in evaluated
    ]


def explain_subject(paths: list[str], subject_id: str, settings: ClassifySettings) -> dict[str, Any] | None:
    subject, _ = read_subject(paths, subject_id, settings.flow)
    if subject is None:
        return None
    dets = offline_determinations(subject, settings)
    return explain_document(
        subject_id,
        dets,
        person=person_facts(subject, settings.compute_at),
        other_convictions=other_convictions(subject, {d["count_order"] for d in dets}),
    )


def run_cli(args: argparse.Namespace) -> int:
    if getattr(args, "live", False):
        from streams.explain_live import run_cli as run_live

        return run_live(args)
    missing = [flag for flag, value in (("--input-doj", args.input_doj), ("--county", args.county)) if not value]
    if missing:
        print(f"clearance explain: {' and '.join(missing)} required (or --live to ask the running workers)",
              file=sys.stderr)
        return 1
    paths = args.input_doj.split(",")
    checked = copy.copy(args)
    checked.outputs = checked.outputs if getattr(checked, "outputs", None) else "-"  # explain writes no file
    try:
        settings = settings_from_args(checked)
        document = explain_subject(paths, args.subject_id, settings)
    except FieldCountError as exc:
        print(f"clearance explain: {exc.guidance()}", file=sys.stderr)
        return 1
    except ClearanceError as exc:
        print(f"clearance explain: {exc}", file=sys.stderr)
        return 1
    if document is None:
        rows = county_rows(paths)
        known = "" if rows.get(settings.county) else f"; also: {county_not_found(settings.county, rows)}"
        print(f"clearance explain: no rows for subject {args.subject_id!r} in {args.input_doj}{known}", file=sys.stderr)
        return 1
    sys.stdout.write(dump(document, args.json))
    return 0
