"""The pure step of the streaming worker: apply a subject's record changes, re-classify it under every county
policy that concerns it, and diff against what was last emitted.

Outputs are idempotent by construction: a determination's revision is the previous revision + 1 and its content
depends only on the subject's records, the policies and the triggering event, so processing the same event twice
from the same state yields byte-identical events, and a conviction's revisions only ever grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from streams import RULESET_VERSION
from streams.doj import columns as C
from streams.doj.quality import conviction_flags, flags_of, subject_flags
from streams.doj.record import fields_from_rule_values
from streams.events.builders import candidate_change, determination_event, retracted_determination
from streams.events.model import RETRACTED
from streams.events.timefmt import format_date
from streams.rules.engine import classify_subject, subject_for
from streams.rules.info import EligibilityInfo, possible_other_p64_charges
from streams.rules.outcome import Decision, Determination
from streams.rules.schedule import next_change, next_window_change
from streams.rules.subject import Subject, build_subject
from streams.worker.policies import Policies, Policy
from streams.worker.state import Emitted, Revision, SubjectState

# Fields that do not change what a determination says; a difference in them alone is not a new revision: the
# revision and its cause, the evaluation date of a county evaluated at the processing date, and the years-since
# figures that change every day (reports and `explain` compute them; they never cause a revision).
_VOLATILE = ("revision", "source_event_id", "compute_at")
_VOLATILE_FACTS = ("years_since_this_conviction", "years_since_any_conviction")
_HAND_REVIEW_RULE = "data quality"


@dataclass(slots=True)
class Outputs:
    """Events to send: determinations (key: conviction id) and candidate changes (key: conviction id)."""

    determinations: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.determinations or self.candidates)


def _rows(state: SubjectState) -> list[list[str]]:
    """The subject's records as 95-field rows in the subject's order (a row's index is its position here). The
    person's corrected attributes replace those of the first row, the row gogen reads them from."""
    rows = [fields_from_rule_values(values) for values in state.ordered_records()]
    if rows and state.corrections:
        first = rows[0]
        for name, value in state.corrections.items():
            position = C.INDEX.get(name)
            if position is not None:
                first[position] = value
    return rows


def _subject(subject_id: str, rows: list[list[str]], keep_records: bool) -> Subject:
    """Build the subject the way the offline classifier does; its rows are kept only when a pilot flow may need
    the subject rebuilt under its code-section rule."""
    return build_subject(subject_id, enumerate(rows), keep_rows=keep_records)


def _subject_counts(subject: Subject, compute_at: datetime) -> dict[str, int]:
    convictions = subject.convictions
    return {
        "convictions": len(convictions),
        "felony_convictions": sum(1 for c in convictions if c.is_felony),
        "convictions_last_7_years": subject.number_of_convictions_in_last_7_years(compute_at),
    }


def _facts(info: EligibilityInfo, row: list[str]) -> dict[str, Any]:
    """The §6 facts for the event. The row index is left out: it is a position in the state, not a fact, and
    would change when earlier records arrive."""
    facts = info.facts()
    for key in ("index", "determination", "reason"):
        facts.pop(key, None)
    facts["possible_other_p64_charges"] = possible_other_p64_charges(row[C.OFFENSE_DESCR], row[C.COMMENT_TEXT])
    return facts


@dataclass(slots=True)
class Classified:
    """The current answers of one person: determination content by conviction id (no revision yet), the first
    processing date on which one of them changes with no record change ("" never), and the person's convictions
    in counties without a policy (county as written → count)."""

    determinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: str = ""
    unpoliced: dict[str, int] = field(default_factory=dict)


def _effective(decision: Decision, flags: list[str], hand_review: bool) -> Decision:
    """Under a ``hand_review`` data-quality policy, an eligible answer with flagged inputs goes to a person."""
    if hand_review and flags and decision.determination.is_relief:
        return Decision(Determination.HAND_REVIEW, f"Data quality: {', '.join(flags)}", _HAND_REVIEW_RULE)
    return decision


def _earliest(due: str, day: datetime | None) -> str:
    if day is None:
        return due
    text = format_date(day)
    return text if not due or text < due else due


def _determinations(
    subject: Subject, rows: list[list[str]], policy: Policy, compute_at: datetime, classified: Classified,
    dated: bool,
) -> None:
    infos = classify_subject(subject, policy.flow, compute_at)
    if not infos:
        return
    view = subject_for(subject, policy.flow)
    by_index = {c.index: c for c in view.convictions}
    counts = _subject_counts(subject, compute_at)
    person = subject_flags(subject.id, rows, (c.count_order for c in subject.convictions))
    hand_review = policy.data_quality == "hand_review"
    for index, info in infos.items():
        conv = by_index[index]
        flags = flags_of(person, conviction_flags(rows[index]))
        decision = _effective(Decision(info.determination, info.reason, info.rule), flags, hand_review)
        change = next_change(view, policy.flow, conv, compute_at)
        shown = None
        if change is not None:
            becomes = _effective(change.decision, flags, hand_review)
            if (becomes.determination, becomes.reason) != (decision.determination, decision.reason):
                shown = {"on": format_date(change.on), "determination": becomes.determination.value,
                         "reason": becomes.reason}
        event = determination_event(
            subject_id=subject.id,
            count_order=conv.count_order,
            county=conv.county,
            code_section=info.code_section,
            is_felony=conv.is_felony,
            flow=policy.flow_name,
            policy_id=policy.policy_id,
            policy_version=policy.version,
            compute_at=compute_at,
            determination=decision.determination.value,
            reason=decision.reason,
            rule=decision.rule,
            facts=_facts(info, rows[index]),
            subject=counts,
            in_last_7_years=conv.occurred_in_last_7_years(compute_at),
            revision=1,
            source_event_id=None,
            data_quality=flags,
            next_change=shown,
        )
        classified.determinations[event["conviction_id"]] = event  # type: ignore[index]
        if dated:  # only a county evaluated at the processing date changes with time
            classified.due = _earliest(classified.due, None if change is None else change.on)
    if dated:
        for conviction in subject.convictions:  # the 7-year window moves every person's figures
            classified.due = _earliest(classified.due, next_window_change(conviction, compute_at))


def classify_state(state: SubjectState, policies: Policies, processing_date: date) -> Classified:
    """Current answers of every evaluated conviction of the subject under the county policies."""
    rows = _rows(state)
    subject = _subject(state.subject_id, rows, policies.keeps_records)
    classified = Classified()
    by_county: dict[str, int] = {}
    for conviction in subject.convictions:
        by_county[conviction.county] = by_county.get(conviction.county, 0) + 1
    for county in sorted(by_county):
        policy = policies.get(county)
        if policy is None:
            classified.unpoliced[county] = by_county[county]
            continue
        compute_at = policy.compute_at_for(processing_date)
        _determinations(subject, rows, policy, compute_at, classified, dated=policy.compute_at is None)
    return classified


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two determinations say the same (volatile fields aside)."""
    keys = (old.keys() | new.keys()).difference(_VOLATILE)
    if not all(old.get(k) == new.get(k) for k in keys if k != "facts"):
        return False
    old_facts, new_facts = old.get("facts") or {}, new.get("facts") or {}
    fact_keys = (old_facts.keys() | new_facts.keys()).difference(_VOLATILE_FACTS)
    return all(old_facts.get(k) == new_facts.get(k) for k in fact_keys)


# Why a re-classification ran (``Revision.cause``): a record change, a snapshot's completion, or, with no event,
# other policies, another ruleset, or an answer's due date.
CAUSES = ("event", "extract", "policies", "ruleset", "date")


def diff(
    state: SubjectState, current: dict[str, dict[str, Any]], source_event_id: str | None, cause: str = "event",
    processing_date: str = "",
) -> Outputs:
    """Compare current answers with the last emitted ones, record the new ones (and why: ``cause``) in ``state``
    and return the events."""
    out = Outputs()
    for cid in sorted(current.keys() | state.emitted.keys()):
        old = state.emitted.get(cid)
        old_det = old.determination if old else None
        new = current.get(cid)
        revision = (old.revision if old else 0) + 1
        if new is None:
            if old_det is None or old_det["status"] == RETRACTED:
                continue
            new = retracted_determination(old_det, revision=revision, source_event_id=source_event_id)
        elif old_det is not None and _same(old_det, new):
            continue
        else:
            new = {**new, "revision": revision, "source_event_id": source_event_id}
        out.determinations.append(new)
        candidate = candidate_change(old_det, new)
        if candidate is not None:
            out.candidates.append(candidate)
        state.emitted[cid] = Emitted(new, candidate if candidate is not None else (old.candidate if old else None))
        state.note_revision(cid, Revision(revision, cause, source_event_id, processing_date, str(new["ruleset"]),
                                          str(new["policy_version"]), str(new["determination"]), str(new["status"])))
    return out


def reclassify(
    state: SubjectState, policies: Policies, processing_date: date, source_event_id: str | None,
    cause: str = "event",
) -> Outputs:
    """Re-classify the subject and return what changed since the last emission (and remember it, with ``cause``:
    one of :data:`CAUSES`)."""
    if cause not in CAUSES:
        raise ValueError(f"unknown re-classification cause {cause!r}; one of {', '.join(CAUSES)}")
    classified = classify_state(state, policies, processing_date)
    outputs = diff(state, classified.determinations, source_event_id, cause, processing_date.isoformat())
    state.policies = policies.fingerprint
    state.compute_date = processing_date.isoformat() if policies.uses_processing_date() else ""
    state.ruleset = RULESET_VERSION
    state.due = classified.due
    state.unpoliced = classified.unpoliced
    return outputs


def replay_outputs(state: SubjectState) -> Outputs:
    """Everything last emitted for the subject, verbatim: sent again when an event is re-delivered after a crash,
    because the table may have kept the new state while the output messages were lost."""
    out = Outputs()
    for cid in sorted(state.emitted):
        emitted = state.emitted[cid]
        out.determinations.append(emitted.determination)
        if emitted.candidate is not None:
            out.candidates.append(emitted.candidate)
    return out


def needs_refresh(state: SubjectState, policies: Policies, processing_date: date) -> bool:
    """True when the stored answers were computed under other policies or another ruleset, or one of them is due
    to change by ``processing_date`` (time alone changes an answer only on its due date)."""
    if state.policies != policies.fingerprint or state.ruleset != RULESET_VERSION:
        return True
    return bool(state.due) and state.due <= processing_date.isoformat()
