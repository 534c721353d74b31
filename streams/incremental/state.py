"""Per-subject state held in the worker's table: the subject's records and what was last emitted for each conviction.

Kept as plain JSON-ready dicts so the table value is one orjson blob; the last emitted event of every conviction is
stored verbatim, because re-sending exactly those bytes is how a replay after a crash stays consistent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

STATE_VERSION = 1


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
        return self.determination["status"] == "active"


@dataclass(slots=True)
class SubjectState:
    """Everything the worker knows of one person. ``records``: record_key → (sequence, DOJ column mapping)."""

    subject_id: str
    records: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    emitted: dict[str, Emitted] = field(default_factory=dict)
    last_offset: tuple[int, int] | None = None  # (partition, offset) of the last applied event
    policies: str = ""  # fingerprint of the policy set the emitted answers were computed under
    compute_date: str = ""  # processing date used, when any policy has no fixed compute_at

    def ordered_records(self) -> list[dict[str, Any]]:
        """Records in the subject's order: by sequence, then key (so equal sequences still order deterministically)."""
        return [rec for _, rec in sorted(((seq, key), rec) for key, (seq, rec) in self.records.items())]

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "v": STATE_VERSION,
                "id": self.subject_id,
                "r": {k: [s, r] for k, (s, r) in self.records.items()},
                "e": {cid: [e.determination, e.candidate] for cid, e in self.emitted.items()},
                "o": list(self.last_offset) if self.last_offset else None,
                "p": self.policies,
                "d": self.compute_date,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes | str | Mapping[str, Any]) -> SubjectState:
        doc = raw if isinstance(raw, Mapping) else orjson.loads(raw)
        if doc.get("v") != STATE_VERSION:
            raise ValueError(f"unsupported subject state version {doc.get('v')!r}")
        offset = doc.get("o")
        return cls(
            subject_id=doc["id"],
            records={k: (int(s), r) for k, (s, r) in doc["r"].items()},
            emitted={cid: Emitted(d, c) for cid, (d, c) in doc["e"].items()},
            last_offset=(int(offset[0]), int(offset[1])) if offset else None,
            policies=doc.get("p", ""),
            compute_date=doc.get("d", ""),
        )
