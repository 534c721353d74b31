"""The pure step of the streaming worker: apply a subject's record changes, re-classify it under every county
policy that concerns it, and diff against what was last emitted.

Outputs are idempotent by construction: a determination's revision is the previous revision + 1 and its content
depends only on the subject's records, the policies and the triggering event, so processing the same event twice
from the same state yields byte-identical events, and a conviction's revisions only ever grow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from streams.doj import columns as C
from streams.doj.record import fields_from_rule_values, rule_values
from streams.events.builders import candidate_change, determination_event, retracted_determination
from streams.events.model import RETRACTED, Retract, Upsert
from streams.rules.engine import classify_subject
from streams.rules.info import EligibilityInfo, possible_other_p64_charges
from streams.rules.subject import Subject, build_subject
from streams.worker.policies import Policies, Policy
from streams.worker.state import Emitted, SubjectState

# Fields that do not change what a determination says; a difference in them alone is not a new revision.
_VOLATILE = ("revision", "source_event_id")


@dataclass(slots=True)
class Outputs:
    """Events to send: determinations (key: conviction id) and candidate changes (key: conviction id)."""

    determinations: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.determinations or self.candidates)



def apply_changes(state: SubjectState, changes: Iterable[Upsert | Retract]) -> tuple[int, int]:
    """Apply upserts and retractions in event order; returns (upserted, retracted) counts."""
    upserted = retracted = 0
    for change in changes:
        if isinstance(change, Upsert):
            # only what the rules read: the full record stays in the input topic
            state.records[change.record_key] = (change.sequence, rule_values(change.record))
            upserted += 1
        else:
            state.records.pop(change.record_key, None)
            retracted += 1
    return upserted, retracted


def _rows(state: SubjectState) -> list[list[str]]:
    """The subject's records as 95-field rows in the subject's order (a row's index is its position here)."""
    return [fields_from_rule_values(values) for values in state.ordered_records()]


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


def _determinations(
    subject: Subject, rows: list[list[str]], policy: Policy, compute_at: datetime
) -> dict[str, dict[str, Any]]:
    infos = classify_subject(subject, policy.flow, compute_at)
    if not infos:
        return {}
    by_index = {c.index: c for c in subject.convictions}
    counts = _subject_counts(subject, compute_at)
    out: dict[str, dict[str, Any]] = {}
    for index, info in infos.items():
        conv = by_index[index]
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
            determination=info.determination.value,
            reason=info.reason,
            rule=info.rule,
            facts=_facts(info, rows[index]),
            subject=counts,
            in_last_7_years=conv.occurred_in_last_7_years(compute_at),
            revision=1,
            source_event_id=None,
        )
        out[event["conviction_id"]] = event  # type: ignore[index]
    return out


def classify_state(state: SubjectState, policies: Policies, processing_date: date) -> dict[str, dict[str, Any]]:
    """Current determination content of every evaluated conviction of the subject (no revision yet)."""
    rows = _rows(state)
    subject = _subject(state.subject_id, rows, policies.keeps_records)
    counties = {c.county for c in subject.convictions}
    current: dict[str, dict[str, Any]] = {}
    for county in sorted(counties):
        policy = policies.get(county)
        if policy is not None:
            current.update(_determinations(subject, rows, policy, policy.compute_at_for(processing_date)))
    return current


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = (old.keys() | new.keys()).difference(_VOLATILE)
    return all(old.get(k) == new.get(k) for k in keys)


def diff(state: SubjectState, current: dict[str, dict[str, Any]], source_event_id: str | None) -> Outputs:
    """Compare current answers with the last emitted ones, record the new ones in ``state`` and return the events."""
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
    return out


def reclassify(
    state: SubjectState, policies: Policies, processing_date: date, source_event_id: str | None
) -> Outputs:
    """Re-classify the subject and return what changed since the last emission (and remember it)."""
    outputs = diff(state, classify_state(state, policies, processing_date), source_event_id)
    state.policies = policies.fingerprint
    state.compute_date = processing_date.isoformat() if policies.uses_processing_date() else ""
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
    """True when the stored answers were computed under other policies or another processing date."""
    if state.policies != policies.fingerprint:
        return True
    return policies.uses_processing_date() and state.compute_date != processing_date.isoformat()
