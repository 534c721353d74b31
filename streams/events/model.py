"""The contract's vocabulary and the decoded record-change event, typed so the worker never reads raw dicts.

Every string here is also an ``enum``/``const`` of a file in ``schemas/``; ``tests/events/test_model.py`` pins
them to those files so code and contract cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from streams.events.timefmt import format_date_time
from streams.rules.outcome import Determination

RECORD_CHANGE_V1 = "record-change.v1"
DETERMINATION_V1 = "determination.v1"
DISMISSAL_CANDIDATE_V1 = "dismissal-candidate.v1"
DEAD_LETTER_V1 = "dead-letter.v1"

RECORD_UPSERTED = "record.upserted"
RECORD_RETRACTED = "record.retracted"
RECORD_CHANGED = "record.changed"
RECORD_SNAPSHOT = "record.snapshot"
EXTRACT_COMPLETED = "extract.completed"
EVENT_TYPES: tuple[str, ...] = (RECORD_UPSERTED, RECORD_RETRACTED, RECORD_CHANGED, RECORD_SNAPSHOT, EXTRACT_COMPLETED)
# The person's own attributes a ``corrected`` change may set (the latest correction wins over the first row).
CORRECTABLE: tuple[str, ...] = ("PRI_DOB", "PRI_NAME", "CII_NUMBER", "GENDER")

MAX_CHANGES = 5000
MAX_EVENT_BYTES = 1_048_576

# Dead-letter kinds (streams.errors.EventError.kind); precedence when several apply: oversized (checked before
# parsing), not_json, unknown_type (schema/type value not known: its shape cannot be judged), then schema.
NOT_JSON = "not_json"
SCHEMA = "schema"
UNKNOWN_TYPE = "unknown_type"
OVERSIZED = "oversized"
PROCESSING = "processing"
ERROR_KINDS: tuple[str, ...] = (NOT_JSON, SCHEMA, UNKNOWN_TYPE, OVERSIZED, PROCESSING)

# gogen's complete catalogue of determination texts (reference §7), "" included (unconfigured configurable
# section): the rules engine's enum, as the contract's strings.
DETERMINATIONS: tuple[str, ...] = tuple(d.value for d in Determination)
CANDIDATE_DETERMINATIONS: frozenset[str] = frozenset(d.value for d in Determination if d.is_relief)

ACTIVE = "active"
RETRACTED = "retracted"

# What happened to a dismissal candidate (dismissal-candidate.v1 ``change``).
CANDIDATE_ADDED = "added"
CANDIDATE_CHANGED = "changed"
CANDIDATE_WITHDRAWN = "withdrawn"
CANDIDATE_CHANGES: tuple[str, ...] = (CANDIDATE_ADDED, CANDIDATE_CHANGED, CANDIDATE_WITHDRAWN)

Scalar = str | int | float | None


@dataclass(frozen=True, slots=True)
class Upsert:
    """Create or replace the subject's record ``record_key``.

    ``record`` is the event's own mapping (DOJ column → value, unknown keys kept), not copied: treat it as
    read-only.
    """

    record_key: str
    sequence: int
    record: Mapping[str, Scalar]
    op: ClassVar[str] = "upserted"

    def to_json_obj(self) -> dict[str, object]:
        return {
            "op": "upserted",
            "record_key": self.record_key,
            "sequence": self.sequence,
            "record": self.record,
        }


@dataclass(frozen=True, slots=True)
class Retract:
    """Remove the subject's record ``record_key``; ``sequence`` is informational and often absent."""

    record_key: str
    sequence: int | None = None
    op: ClassVar[str] = "retracted"

    def to_json_obj(self) -> dict[str, object]:
        obj: dict[str, object] = {"op": "retracted", "record_key": self.record_key}
        if self.sequence is not None:
            obj["sequence"] = self.sequence
        return obj


@dataclass(frozen=True, slots=True)
class Correct:
    """Correct the person's own attributes (:data:`CORRECTABLE`); ``None`` withdraws an earlier correction."""

    attributes: Mapping[str, str | None]
    op: ClassVar[str] = "corrected"

    def to_json_obj(self) -> dict[str, object]:
        return {"op": "corrected", "attributes": dict(self.attributes)}


Change = Upsert | Retract | Correct


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The source a ``record.snapshot`` replaces (part ``part`` of ``parts``), or the extract an
    ``extract.completed`` event completes."""

    source: str
    extract_id: str
    part: int = 1
    parts: int = 1

    @property
    def is_last_part(self) -> bool:
        return self.part >= self.parts

    def to_json_obj(self) -> dict[str, object]:
        obj: dict[str, object] = {"source": self.source, "extract_id": self.extract_id}
        if (self.part, self.parts) != (1, 1):
            obj |= {"part": self.part, "parts": self.parts}
        return obj


@dataclass(frozen=True, slots=True)
class RecordChangeEvent:
    """A validated ``record-change.v1`` event. Top-level properties the contract does not name are dropped.

    ``emitted_at`` is an aware UTC datetime (:func:`~streams.events.timefmt.parse_date_time` explains leap
    seconds and out-of-range years); it serves the event-to-determination latency metric only. An
    ``extract.completed`` event has no subject (``subject_id`` ``""``) and no changes.
    """

    event_id: str
    type: str
    source_agency: str
    emitted_at: datetime
    subject_id: str
    changes: tuple[Change, ...]
    snapshot: Snapshot | None = None

    def to_json_obj(self) -> dict[str, object]:
        """The event as its JSON object (what :func:`streams.events.codec.encode` writes)."""
        obj: dict[str, object] = {
            "schema": RECORD_CHANGE_V1,
            "event_id": self.event_id,
            "type": self.type,
            "source_agency": self.source_agency,
            "emitted_at": format_date_time(self.emitted_at, timespec="microseconds"),
        }
        if self.type != EXTRACT_COMPLETED:
            obj |= {"subject_id": self.subject_id, "changes": [change.to_json_obj() for change in self.changes]}
        if self.snapshot is not None:
            obj["snapshot"] = self.snapshot.to_json_obj()
        return obj
