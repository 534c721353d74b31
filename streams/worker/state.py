"""Per-subject state held in the worker's table: the subject's records and what was last emitted for each conviction.

Kept as plain JSON-ready values so the table value is one orjson blob; the last emitted event of every conviction is
stored verbatim, because re-sending exactly those bytes is how a replay after a crash stays consistent. A record is
its rule columns as a list (``streams.doj.record.rule_values``), with the source that sent it and, for records of a
source snapshot, the extract it came in. Version 3 added sources, extracts, corrections of the person's attributes,
the ruleset and the due date; version 2 (no sources) and 1 (records as column-name mappings) are still read, their
records as of an unknown source (``""``, which no snapshot replaces), and rewritten as version 3. A version 3 state
may carry each conviction's recent revisions with their cause (``history``, key ``"h"``); a state written before
that reads with none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from streams.doj.record import rule_values
from streams.events.model import ACTIVE

STATE_VERSION = 3
# Revisions kept per conviction for ``explain`` (the oldest are dropped; the determinations topic has them all).
HISTORY_LIMIT = 8


class StoredRecord(NamedTuple):
    """One record of the person: its order, the rule columns, who sent it and in which extract (snapshots)."""

    sequence: int
    values: list[str]
    source: str = ""
    extract: str = ""


class Revision(NamedTuple):
    """Why one revision of a conviction's determination was emitted: ``cause`` is ``event`` (a record change),
    ``extract`` (a snapshot's completion removed records), ``policies`` (another policy set), ``ruleset`` (another
    rules version) or ``date`` (time alone: an answer's due date); ``event_id`` is the triggering event's, if any;
    ``processing_date`` the worker's date then; the rest is what the revision said and under what."""

    revision: int
    cause: str
    event_id: str | None
    processing_date: str
    ruleset: str
    policy_version: str
    determination: str
    status: str


@dataclass(slots=True)
class Emitted:
    """Last determination event (and last candidate event, if any) emitted for one conviction."""

    determination: dict[str, Any]
    candidate: dict[str, Any] | None = None

    @property
    def revision(self) -> int:
        return int(self.determination["revision"])

    @property
    def is_active(self) -> bool:
        return self.determination["status"] == ACTIVE


@dataclass(slots=True)
class SubjectState:
    """Everything the worker knows of one person.

    ``records``: record_key → :class:`StoredRecord`. ``corrections``: the person's corrected attributes (DOJ column
    → value; the latest correction of an attribute wins over the first row). ``extracts``: source → the extract id
    of the last complete snapshot from that source. ``ruleset`` and ``policies``: what the emitted answers were
    computed under. ``due``: the first day (ISO) on which an answer changes with no record change ("" never).
    """

    subject_id: str
    records: dict[str, StoredRecord] = field(default_factory=dict)
    emitted: dict[str, Emitted] = field(default_factory=dict)
    last_offset: tuple[int, int] | None = None  # (partition, offset) of the last applied event
    policies: str = ""  # fingerprint of the policy set the emitted answers were computed under
    compute_date: str = ""  # processing date used, when any policy has no fixed compute_at
    corrections: dict[str, str] = field(default_factory=dict)
    extracts: dict[str, str] = field(default_factory=dict)
    ruleset: str = ""
    due: str = ""
    unpoliced: dict[str, int] = field(default_factory=dict)  # county as written (no policy) → convictions
    history: dict[str, list[Revision]] = field(default_factory=dict)  # conviction id → its last revisions

    def note_revision(self, conviction_id: str, revision: Revision) -> None:
        """Remember why a revision was emitted, keeping the last :data:`HISTORY_LIMIT` of the conviction."""
        kept = self.history.setdefault(conviction_id, [])
        kept.append(revision)
        if len(kept) > HISTORY_LIMIT:
            del kept[: len(kept) - HISTORY_LIMIT]

    def ordered_records(self) -> list[list[str]]:
        """Records in the subject's order: by sequence, then key (so equal sequences still order deterministically)."""
        return [rec.values for _, rec in sorted(((rec.sequence, key), rec) for key, rec in self.records.items())]

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "v": STATE_VERSION,
                "id": self.subject_id,
                "r": {k: list(r) for k, r in self.records.items()},
                "e": {cid: [e.determination, e.candidate] for cid, e in self.emitted.items()},
                "o": list(self.last_offset) if self.last_offset else None,
                "p": self.policies,
                "d": self.compute_date,
                "c": self.corrections,
                "x": self.extracts,
                "s": self.ruleset,
                "u": self.due,
                "n": self.unpoliced,
                "h": {cid: [list(r) for r in revisions] for cid, revisions in self.history.items()},
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes | str | Mapping[str, Any]) -> SubjectState:
        doc = raw if isinstance(raw, Mapping) else orjson.loads(raw)
        version = doc.get("v")
        if version == STATE_VERSION:
            records = {k: StoredRecord(int(s), r, source, extract) for k, (s, r, source, extract) in doc["r"].items()}
        elif version == 2:
            records = {k: StoredRecord(int(s), r) for k, (s, r) in doc["r"].items()}
        elif version == 1:
            records = {k: StoredRecord(int(s), rule_values(r)) for k, (s, r) in doc["r"].items()}
        else:
            raise ValueError(f"unsupported subject state version {version!r}")
        offset = doc.get("o")
        return cls(
            subject_id=doc["id"],
            records=records,
            emitted={cid: Emitted(d, c) for cid, (d, c) in doc["e"].items()},
            last_offset=(int(offset[0]), int(offset[1])) if offset else None,
            policies=doc.get("p", ""),
            compute_date=doc.get("d", ""),
            corrections=doc.get("c") or {},
            extracts=doc.get("x") or {},
            ruleset=doc.get("s", ""),
            due=doc.get("u", ""),
            unpoliced=doc.get("n") or {},
            history={cid: [Revision(*r) for r in revisions] for cid, revisions in (doc.get("h") or {}).items()},
        )
