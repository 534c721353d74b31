"""``clearance explain``: one person's answers and why, as a document and as text — the pure seam both the offline
command and a live lookup use.

The input is the person's determinations in the shape of ``determination.v1`` (what the worker emits: conviction,
determination, reason, the deciding ``rule``, ``facts``, ``data_quality``, ``next_change``…), optionally with an
``explain`` object of facts the event does not carry (age at compute-at, sentence end date, date of birth); the
offline command builds those dicts from the engine's answers (``streams/offline/explain.py``), a live lookup
passes the events it holds. Nothing here reads a file, a topic or the clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Det = Mapping[str, Any]


def _conviction(det: Det, history: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    facts = dict(det.get("facts") or {})
    item = {
        "conviction_id": det.get("conviction_id"),
        "count_order": det.get("count_order"),
        "county": det.get("county"),
        "code_section": det.get("code_section"),
        "is_felony": det.get("is_felony"),
        "flow": det.get("flow"),
        "compute_at": det.get("compute_at"),
        "determination": det.get("determination"),
        "reason": det.get("reason"),
        "rule": det.get("rule"),
        "data_quality": list(det.get("data_quality") or ()),
        "next_change": det.get("next_change"),
        "revision": det.get("revision"),
        "facts": facts,
        "explain": dict(det.get("explain") or {}),
    }
    if history is not None:
        item["history"] = [dict(entry) for entry in history]
    return item


def explain_document(
    subject_id: str,
    determinations: Iterable[Det],
    *,
    person: Mapping[str, Any] | None = None,
    other_convictions: Sequence[Mapping[str, Any]] = (),
    source: str = "offline",
    history: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The explain document of one person: their active determinations in count order, what is known of the
    person, (offline) the convictions no flow evaluated, and (live) each conviction's recent revisions with their
    cause, oldest first (``history``: conviction id → revisions as ``streams.worker.state.Revision`` fields)."""
    active = [det for det in determinations if det.get("status", "active") == "active"]
    active.sort(key=lambda det: (str(det.get("county")), str(det.get("count_order"))))
    rulesets = sorted({str(det["ruleset"]) for det in active if det.get("ruleset")})
    return {
        "subject_id": subject_id,
        "source": source,
        "rulesets": rulesets,
        "person": dict(person or {}),
        "convictions": [
            _conviction(det, None if history is None else history.get(str(det.get("conviction_id")), ()))
            for det in active
        ],
        "other_convictions": [dict(item) for item in other_convictions],
    }


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _list(values: Any) -> str:
    return ", ".join(values) if values else "none"


def _years(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}"


_CAUSES = {
    "event": "record change",
    "extract": "a snapshot's extract completed without some records",
    "policies": "policy change",
    "ruleset": "ruleset change",
    "date": "date reached (an answer was due to change)",
}


def _history_lines(history: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["   revisions (oldest first):"]
    first = history[0].get("revision") if history else None
    if isinstance(first, int) and first > 1:
        lines.append(f"     r1–r{first - 1}: not kept here (on the determinations topic)")
    for entry in history:
        cause = _CAUSES.get(str(entry.get("cause")), str(entry.get("cause")))
        event = f", event {entry['event_id']}" if entry.get("event_id") else ""
        status = "" if entry.get("status", "active") == "active" else f" ({entry.get('status')})"
        lines.append(f"     r{entry.get('revision')}  {entry.get('processing_date') or '—'}  {cause}{event} → "
                     f"{entry.get('determination')}{status} (ruleset {entry.get('ruleset')}, policy "
                     f"{entry.get('policy_version')})")
    return lines


def render_text(document: Mapping[str, Any]) -> str:
    """The document for a person reading a terminal."""
    lines = [f"Subject {document['subject_id']}"]
    person = document.get("person") or {}
    if person:
        dob = person.get("dob")
        age = person.get("age_at_compute_at")
        born = f"born {dob}" if dob else "no valid date of birth (gogen: older than any age threshold)"
        at = f", {age} years old at compute-at {person.get('compute_at')}" if age is not None else ""
        lines.append(f"  {born}{at}")
        lines.append(
            f"  {person.get('convictions', 0)} convictions on record ({person.get('felony_convictions', 0)} felonies, "
            f"{person.get('convictions_last_7_years', 0)} in the 7 years before compute-at); most recent "
            f"{person.get('most_recent_conviction_date') or '—'}; latest sentence end "
            f"{person.get('latest_sentence_end_date') or '—'}"
        )
        lines.append(
            f"  superstrike sections: {_list(person.get('superstrike_code_sections'))}; PC 290 sections: "
            f"{_list(person.get('pc290_code_sections'))}; "
            f"PC 290 registration: {_yes(person.get('pc290_registration'))}; deceased: {_yes(person.get('deceased'))}"
        )
    if document.get("rulesets"):
        lines.append(f"  ruleset: {', '.join(document['rulesets'])}")
    convictions = document.get("convictions") or []
    if not convictions:
        lines.append("")
        lines.append("No conviction of this person was evaluated (none is a Prop 64 conviction in the county).")
    for number, item in enumerate(convictions, 1):
        facts, extra = item["facts"], item["explain"]
        kind = "felony" if item.get("is_felony") else "misdemeanor or infraction"
        lines.append("")
        lines.append(
            f"{number}. {str(item.get('code_section')).strip()} — {item.get('county')}, {kind}, convicted "
            f"{facts.get('date_of_conviction') or 'on no valid date'} (count {item.get('count_order')}"
            + (f", case {facts['case_number']}" if facts.get("case_number") else "") + ")"
        )
        lines.append(f"   {item.get('determination') or 'no determination'}"
                     + (f" — {item['reason']}" if item.get("reason") else ""))
        lines.append(f"   decided by rule: {item.get('rule') or '—'} ({item.get('flow')} flow, compute-at "
                     f"{item.get('compute_at')})")
        details = []
        if "age_at_conviction" in extra:
            age_then = extra["age_at_conviction"]
            details.append(f"age at conviction {'—' if age_then is None else age_then}")
        if "sentence_end_date" in extra:
            details.append(f"sentence ends {extra['sentence_end_date'] or '—'}")
        details.append(f"{_years(facts.get('years_since_this_conviction'))} years since this conviction")
        details.append(f"{_years(facts.get('years_since_any_conviction'))} years since any conviction")
        details.append(f"after 11/9/2016: {_yes(facts.get('occurred_after_prop64'))}")
        details.append(f"Prop 64 convictions on record: {facts.get('prop64_convictions', '—')}")
        lines.append("   facts: " + "; ".join(details))
        if item.get("data_quality"):
            lines.append(f"   data quality: {', '.join(item['data_quality'])}")
        change = item.get("next_change")
        if change:
            lines.append(f"   next change: on {change.get('on')} it becomes {change.get('determination')}"
                         + (f" — {change['reason']}" if change.get("reason") else ""))
        if item.get("history"):
            lines.extend(_history_lines(item["history"]))
    others = document.get("other_convictions") or []
    if others:
        lines.append("")
        lines.append("Other convictions on record (not evaluated: another county, or not a Prop 64 conviction):")
        for item in others:
            kind = "felony" if item.get("is_felony") else "misdemeanor or infraction"
            lines.append(f"  - {str(item.get('code_section')).strip() or '(no code section)'} — {item.get('county')}, "
                         f"{kind}, {item.get('date') or 'no valid date'} (count {item.get('count_order')})")
    return "\n".join(lines) + "\n"


def dump(document: Mapping[str, Any], as_json: bool) -> str:
    """The document as the ``explain`` commands print it: indented JSON, or :func:`render_text`."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n" if as_json else render_text(document)
