"""Per-subject state held in the worker's table: the subject's records and what was last emitted for each conviction.

Kept as plain JSON-ready values so the table value is one orjson blob; the last emitted event of every conviction is
stored verbatim, because re-sending exactly those bytes is how a replay after a crash stays consistent. A record is
its rule columns as a list (``streams.doj.record.rule_values``). Version 1 kept them as a column-name mapping; such
values, still in a changelog or RocksDB after an upgrade, are read and rewritten as version 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.doj.record import rule_values
from streams.events.model import ACTIVE

STATE_VERSION = 2


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
    """Everything the worker knows of one person. ``records``: record_key → (sequence, rule column values)."""

    subject_id: str
    records: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    emitted: dict[str, Emitted] = field(default_factory=dict)
    last_offset: tuple[int, int] | None = None  # (partition, offset) of the last applied event
    policies: str = ""  # fingerprint of the policy set the emitted answers were computed under
    compute_date: str = ""  # processing date used, when any policy has no fixed compute_at

    def ordered_records(self) -> list[list[str]]:
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
        version = doc.get("v")
        if version == STATE_VERSION:
            records = {k: (int(s), r) for k, (s, r) in doc["r"].items()}
        elif version == 1:
            records = {k: (int(s), rule_values(r)) for k, (s, r) in doc["r"].items()}
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
        )
