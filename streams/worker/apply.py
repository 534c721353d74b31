"""How a record-change event changes a person's state: upserts, retractions, corrections, source snapshots.

Pure: the shell passes the decoded event in and gets counts back. Rules of the contract (``record-change.v1``):

* every record remembers its source (the event's ``source_agency``, or the snapshot's ``source``);
* a ``record.snapshot`` of source S holds all of the person's records from S: with its last part, every record of
  S that the snapshot did not carry is removed (records of other sources stay), so replaying next month's extract
  leaves the state exactly as if only that extract had been replayed;
* ``extract.completed`` for (S, extract E): a person whose records from S did not come with E loses them (people
  dropped from the extract) — see :func:`sweep_extract`;
* a ``corrected`` change sets or withdraws the person's attributes; the latest correction of an attribute wins over
  the value of the first row (the row gogen reads the DOB from).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.doj.record import rule_values
from streams.events.model import RECORD_SNAPSHOT, Change, Correct, RecordChangeEvent, Upsert
from streams.worker.state import StoredRecord, SubjectState


@dataclass(frozen=True, slots=True)
class Applied:
    """What one event did to the state; ``complete`` is False for a snapshot part before its last one (the person
    is not re-classified then, so no half-replaced history is ever answered for)."""

    upserted: int = 0
    retracted: int = 0
    corrected: int = 0
    complete: bool = True


def apply_changes(state: SubjectState, changes: Iterable[Change], *, source: str = "", extract: str = "") -> Applied:
    """Apply changes in order; upserted records are tagged with ``source`` and ``extract``."""
    upserted = retracted = corrected = 0
    records = state.records
    for change in changes:
        if isinstance(change, Upsert):
            # only what the rules read: the full record stays in the input topic
            records[change.record_key] = StoredRecord(change.sequence, rule_values(change.record), source, extract)
            upserted += 1
        elif isinstance(change, Correct):
            for name, value in change.attributes.items():
                if value is None:
                    state.corrections.pop(name, None)
                else:
                    state.corrections[name] = value
            corrected += 1
        else:
            records.pop(change.record_key, None)
            retracted += 1
    return Applied(upserted, retracted, corrected)


def apply_event(state: SubjectState, event: RecordChangeEvent) -> Applied:
    """Apply the event's changes in order (and a snapshot's replacement with its last part)."""
    snapshot = event.snapshot if event.type == RECORD_SNAPSHOT else None
    if snapshot is None:
        return apply_changes(state, event.changes, source=event.source_agency)
    applied = apply_changes(state, event.changes, source=snapshot.source, extract=snapshot.extract_id)
    if not snapshot.is_last_part:
        return Applied(applied.upserted, applied.retracted, applied.corrected, complete=False)
    removed = _drop_stale(state, snapshot.source, snapshot.extract_id)
    state.extracts[snapshot.source] = snapshot.extract_id
    return Applied(applied.upserted, applied.retracted + removed, applied.corrected)


def _drop_stale(state: SubjectState, source: str, extract_id: str) -> int:
    stale = [key for key, rec in state.records.items() if rec.source == source and rec.extract != extract_id]
    for key in stale:
        del state.records[key]
    return len(stale)


def sweep_extract(state: SubjectState, source: str, extract_id: str) -> int:
    """The person's records from ``source`` that did not come with extract ``extract_id`` are removed (the person
    is not in that extract any more). Returns how many were removed."""
    if state.extracts.get(source) == extract_id:
        return 0
    removed = _drop_stale(state, source, extract_id)
    if removed or source in state.extracts:
        state.extracts.pop(source, None)
    return removed
