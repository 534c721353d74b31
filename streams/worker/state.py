"""Per-subject state held in the worker's table: the subject's records and what was last emitted for each conviction.

Kept as plain JSON-ready values so the table value is one orjson blob; the last emitted event of every conviction is
stored verbatim, because re-sending exactly those bytes is how a replay after a crash stays consistent. A record is
its rule columns as a list (``streams.doj.record.rule_values``), with the source that sent it and, for records of a
source snapshot, the extract it came in. Version 3 added sources, extracts, corrections of the person's attributes,
the ruleset and the due date; version 2 (no sources) and 1 (records as column-name mappings) are still read, their
records as of an unknown source (``""``, which no snapshot replaces), and rewritten as version 3. A version 3 state
may carry each conviction's recent revisions with their cause (``history``, key ``"h"``); a state written before
that reads with none. ``held`` (key ``"k"``) marks a person held for hand review (an event of theirs did not fit a
size limit: :mod:`streams.worker.handler`).

A state whose JSON is over :data:`COMPACT_ABOVE` is stored compact (:func:`compact`): its changelog message must fit
the broker's limit, or the table would run ahead of its durable copy. Everything stays verbatim in memory (a replay
re-sends the same bytes); only the stored form shares long strings and is deflated.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from streams.doj.record import rule_values
from streams.events.model import ACTIVE

STATE_VERSION = 3
# A state whose JSON is larger than this is stored compact (:func:`compact`): most people's states are a few KB
# and keep the plain JSON (no cost on the hot path); a person with hundreds of convictions repeats the same county,
# flow, policy and facts in every determination, and a long value (a 300 KB offense description) appears in the
# record and twice in its determination, so the compact form is a fraction of the plain one.
COMPACT_ABOVE = 64 * 1024
# Strings at least this long are stored once in a compact state (deflate alone only finds repeats 32 KB apart).
SHARED_STRING = 1024
_COMPACT = b"\x00c1"  # a compact state starts with this (a plain one with "{")
_SHARED = "\x00"  # {"\x00": index} stands for a shared string (no builder makes an object with that key)

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
    # (cause, limit in bytes): an event of the person could not be applied within that limit, so the person is held
    # for hand review and its later events are dead-lettered in order until the worker runs with a larger limit
    held: tuple[str, int] | None = None

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
        """The stored form: plain JSON, or :func:`compact` when that is larger than :data:`COMPACT_ABOVE`. The
        table's changelog carries these bytes, so their length is what the state budget measures."""
        doc = self.to_json_obj()
        raw = orjson.dumps(doc)
        return raw if len(raw) <= COMPACT_ABOVE else compact(doc)

    def to_json_obj(self) -> dict[str, Any]:
        """The state as one JSON-ready document (short keys: it is stored for every person)."""
        return {
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
            "k": list(self.held) if self.held else None,
        }

    @classmethod
    def from_bytes(cls, raw: bytes | str | Mapping[str, Any]) -> SubjectState:
        if isinstance(raw, Mapping):
            doc = raw
        elif isinstance(raw, bytes) and raw.startswith(_COMPACT):
            doc = expand(raw)
        else:
            doc = orjson.loads(raw)
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
            held=(str(held[0]), int(held[1])) if (held := doc.get("k")) else None,
        )


def _share(value: Any, index: dict[str, int]) -> Any:
    """``value`` with every string of :data:`SHARED_STRING` characters or more replaced by its index in ``index``."""
    if type(value) is str:
        if len(value) < SHARED_STRING:
            return value
        return {_SHARED: index.setdefault(value, len(index))}
    if type(value) is dict:
        return {k: _share(v, index) for k, v in value.items()}
    if type(value) is list:
        return [_share(v, index) for v in value]
    return value


def _unshare(value: Any, strings: list[str]) -> Any:
    if type(value) is dict:
        if len(value) == 1 and _SHARED in value:
            return strings[value[_SHARED]]
        return {k: _unshare(v, strings) for k, v in value.items()}
    if type(value) is list:
        return [_unshare(v, strings) for v in value]
    return value


def compact(doc: Mapping[str, Any]) -> bytes:
    """A large state document in its compact form: long strings stored once, then deflated. Costs a few ms for
    a state of a MB, and only such states pay it."""
    index: dict[str, int] = {}
    shared = _share(dict(doc), index)
    return _COMPACT + zlib.compress(orjson.dumps([list(index), shared]), 1)


def expand(stored: bytes) -> dict[str, Any]:
    """The state document of a :func:`compact` form."""
    strings, shared = orjson.loads(zlib.decompress(stored[len(_COMPACT):]))
    doc: dict[str, Any] = _unshare(shared, strings)
    return doc
