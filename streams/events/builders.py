"""Builders of outgoing events and of replayed record changes: plain JSON-ready dicts, pure and clock-free.

Each returns exactly the object its schema in ``schemas/`` describes; callers pass timestamps in, and
serialise with :func:`streams.events.codec.encode`. Arguments that would make an invalid event are programming
errors and raise ``ValueError``, except a replayed row that the contract cannot carry (an input problem:
``EventError``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson

from streams import RULESET_VERSION
from streams.doj.columns import COLUMNS, NUM_COLUMNS
from streams.errors import EventError
from streams.events.ids import candidate_id, conviction_id, replay_event_id, replay_record_key, snapshot_event_id
from streams.events.model import (
    ACTIVE,
    CANDIDATE_ADDED,
    CANDIDATE_CHANGED,
    CANDIDATE_DETERMINATIONS,
    CANDIDATE_WITHDRAWN,
    DEAD_LETTER_V1,
    DETERMINATION_V1,
    DETERMINATIONS,
    DISMISSAL_CANDIDATE_V1,
    ERROR_KINDS,
    EXTRACT_COMPLETED,
    MAX_CHANGES,
    RECORD_CHANGE_V1,
    RECORD_SNAPSHOT,
    RECORD_UPSERTED,
    RETRACTED,
    SCHEMA,
)
from streams.events.timefmt import format_date, format_date_time

# A dead letter as encoded JSON stays under this (the worker passes its own message limit minus the key); Kafka's
# default limit is 1 MiB, and a dead letter over it could not be written at all.
MAX_DEAD_LETTER_BYTES = 990_000
# A longer original key is cut to this (with its size and SHA-256): keys are subject ids of at most 64 characters,
# so a longer one is garbage, and the dead letter is keyed by the kept prefix (a Kafka key counts toward the limit).
MAX_DEAD_LETTER_KEY_BYTES = 1024
MAX_ERROR_MESSAGE = 2000


def record_change_event(
    *,
    subject_id: str,
    rows: Iterable[tuple[int, Sequence[str]]],
    file_digest: str,
    source_agency: str,
    emitted_at: datetime | str,
) -> dict[str, object]:
    """A ``record.upserted`` event replaying DOJ ``rows`` of one subject: (0-based data row index, 95 fields).

    Each row becomes an upsert keyed by :func:`replay_record_key` with ``sequence`` = row index (file order is
    what gogen's subject building depends on); empty fields are left out (an absent column reads as empty).
    The event id comes from the first row, so a replay is idempotent. Callers split large subjects: at most
    5000 rows, and the worker's default 1 MiB event limit fits roughly 700 typical rows.
    """
    if not 0 < len(subject_id) <= 64:
        raise EventError(SCHEMA, "$.subject_id: a replayed subject id must be 1 to 64 characters long")
    changes: list[dict[str, object]] = []
    first_index = -1
    for index, fields in rows:
        if len(fields) != NUM_COLUMNS:
            raise ValueError(f"row {index} has {len(fields)} fields, expected {NUM_COLUMNS}")
        if not changes:
            first_index = index
        record = {name: value for name, value in zip(COLUMNS, fields, strict=True) if value}
        key = replay_record_key(file_digest, index)
        changes.append({"op": "upserted", "record_key": key, "sequence": index, "record": record})
    if not 0 < len(changes) <= MAX_CHANGES:
        raise ValueError(f"a record-change event holds 1 to {MAX_CHANGES} rows, got {len(changes)}")
    return {
        "schema": RECORD_CHANGE_V1,
        "event_id": replay_event_id(file_digest, first_index),
        "type": RECORD_UPSERTED,
        "source_agency": source_agency,
        "emitted_at": format_date_time(emitted_at),
        "subject_id": subject_id,
        "changes": changes,
    }


def snapshot_event(
    *,
    subject_id: str,
    rows: Sequence[tuple[int, str, Sequence[str]]],
    source: str,
    extract_id: str,
    part: int,
    parts: int,
    emitted_at: datetime | str,
) -> dict[str, object]:
    """Part ``part`` of ``parts`` of a ``record.snapshot`` of one person: ``rows`` are (sequence, record key,
    95 fields); empty fields are left out (an absent column reads as empty)."""
    if not 0 < len(subject_id) <= 64:
        raise EventError(SCHEMA, "$.subject_id: a replayed subject id must be 1 to 64 characters long")
    if not 0 < len(rows) <= MAX_CHANGES:
        raise ValueError(f"a record-change event holds 1 to {MAX_CHANGES} rows, got {len(rows)}")
    changes: list[dict[str, object]] = []
    for sequence, key, fields in rows:
        if len(fields) != NUM_COLUMNS:
            raise ValueError(f"a row has {len(fields)} fields, expected {NUM_COLUMNS}")
        record = {name: value for name, value in zip(COLUMNS, fields, strict=True) if value}
        changes.append({"op": "upserted", "record_key": key, "sequence": sequence, "record": record})
    return {
        "schema": RECORD_CHANGE_V1,
        "event_id": snapshot_event_id(source, extract_id, subject_id, part),
        "type": RECORD_SNAPSHOT,
        "source_agency": source,
        "emitted_at": format_date_time(emitted_at),
        "subject_id": subject_id,
        "changes": changes,
        "snapshot": {"source": source, "extract_id": extract_id, "part": part, "parts": parts},
    }


def extract_completed_event(*, source: str, extract_id: str, partition: int, emitted_at: datetime | str) -> dict[
        str, object]:
    """The control event that closes extract ``extract_id`` of ``source`` on one partition of the input topic."""
    return {
        "schema": RECORD_CHANGE_V1,
        "event_id": f"extract-completed:{extract_id[:64]}:{partition}",
        "type": EXTRACT_COMPLETED,
        "source_agency": source,
        "emitted_at": format_date_time(emitted_at),
        "snapshot": {"source": source, "extract_id": extract_id},
    }


def determination_event(
    *,
    subject_id: str,
    count_order: str,
    county: str,
    code_section: str,
    is_felony: bool,
    flow: str,
    policy_id: str,
    policy_version: str | int,
    compute_at: date | datetime,
    determination: str,
    reason: str,
    rule: str,
    facts: Mapping[str, object],
    subject: Mapping[str, int],
    in_last_7_years: bool,
    revision: int,
    source_event_id: str | None,
    ruleset: str = RULESET_VERSION,
    data_quality: Sequence[str] = (),
    next_change: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """An ``active`` determination of conviction ``<subject_id>:<count_order>``.

    ``rule`` names the flow's rule that decided. ``facts`` is the rules engine's per-conviction facts
    (``EligibilityInfo.facts()``), ``subject`` the person's felony_convictions / convictions /
    convictions_last_7_years; both are copied shallowly.
    """
    if determination not in DETERMINATIONS:
        raise ValueError("determination is not one of gogen's determination texts")
    if revision < 1:
        raise ValueError("revision starts at 1")
    return {
        "schema": DETERMINATION_V1,
        "conviction_id": conviction_id(subject_id, count_order),
        "subject_id": subject_id,
        "count_order": count_order,
        "county": county,
        "code_section": code_section,
        "is_felony": is_felony,
        "flow": flow,
        "policy_id": policy_id,
        "policy_version": str(policy_version),
        "compute_at": format_date(compute_at),
        "status": ACTIVE,
        "determination": determination,
        "reason": reason,
        "rule": rule,
        "facts": dict(facts),
        "subject": dict(subject),
        "in_last_7_years": in_last_7_years,
        "revision": revision,
        "source_event_id": source_event_id,
        "ruleset": ruleset,
        "data_quality": list(data_quality),
        "next_change": None if next_change is None else dict(next_change),
    }


def retracted_determination(
    previous: Mapping[str, object], *, revision: int, source_event_id: str | None
) -> dict[str, object]:
    """The retraction of a conviction that disappeared, built from its last determination event.

    Status ``retracted``, null determination, reason, rule and next change, the new revision and cause; every
    other field keeps its last known value so consumers still know which county, flow and candidate it was.
    """
    if revision < 1:
        raise ValueError("revision starts at 1")
    return {
        **previous,
        "status": RETRACTED,
        "determination": None,
        "reason": None,
        "rule": None,
        "next_change": None,
        "revision": revision,
        "source_event_id": source_event_id,
    }


def candidate_event(
    *,
    change: str,
    conviction_id: str,
    subject_id: str,
    count_order: str,
    county: str,
    code_section: str,
    flow: str,
    policy_id: str,
    determination: str | None,
    reason: str | None,
    previous_determination: str | None,
    previous_reason: str | None,
    revision: int,
    source_event_id: str | None,
) -> dict[str, object]:
    """A ``dismissal-candidate.v1`` change; :func:`candidate_change` builds it from two determinations."""
    return {
        "schema": DISMISSAL_CANDIDATE_V1,
        "candidate_id": candidate_id(conviction_id, revision),
        "change": change,
        "conviction_id": conviction_id,
        "subject_id": subject_id,
        "count_order": count_order,
        "county": county,
        "code_section": code_section,
        "flow": flow,
        "policy_id": policy_id,
        "determination": determination,
        "reason": reason,
        "previous_determination": previous_determination,
        "previous_reason": previous_reason,
        "revision": revision,
        "source_event_id": source_event_id,
    }


def _is_candidate(event: Mapping[str, Any]) -> bool:
    return event["status"] == ACTIVE and event["determination"] in CANDIDATE_DETERMINATIONS


def candidate_change(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> dict[str, object] | None:
    """The candidate change from a conviction's previous determination event to its current one, if any.

    ``previous`` is None for a conviction's first determination; the result is None when the candidate set is
    unaffected.

    added: not a candidate before, one now; changed: a candidate before and now, with another determination or
    reason (a new policy id or new facts alone do not change a candidate); withdrawn: a candidate before, not
    now (determination/reason are the new ones, null when the conviction was retracted).
    """
    now = _is_candidate(current)
    if previous is None or not _is_candidate(previous):
        if not now:
            return None
        change, previous_determination, previous_reason = CANDIDATE_ADDED, None, None
    else:
        previous_determination, previous_reason = previous["determination"], previous["reason"]
        if not now:
            change = CANDIDATE_WITHDRAWN
        elif (previous_determination, previous_reason) != (current["determination"], current["reason"]):
            change = CANDIDATE_CHANGED
        else:
            return None
    return candidate_event(
        change=change,
        conviction_id=current["conviction_id"],
        subject_id=current["subject_id"],
        count_order=current["count_order"],
        county=current["county"],
        code_section=current["code_section"],
        flow=current["flow"],
        policy_id=current["policy_id"],
        determination=current["determination"],
        reason=current["reason"],
        previous_determination=previous_determination,
        previous_reason=previous_reason,
        revision=current["revision"],
        source_event_id=current["source_event_id"],
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dead_letter_key(key: bytes | None) -> bytes | None:
    """The key a dead letter is sent with: the original's, cut to :data:`MAX_DEAD_LETTER_KEY_BYTES`."""
    return None if key is None else key[:MAX_DEAD_LETTER_KEY_BYTES]


def dead_letter_event(
    error_kind: str,
    message: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    failed_at: datetime | str,
    *,
    max_bytes: int = MAX_DEAD_LETTER_BYTES,
    max_original_bytes: int | None = None,
) -> dict[str, object]:
    """A ``dead-letter.v1`` for a rejected message; ``value`` None is a tombstone (kept as an empty original).

    Bounded, because a dead letter too large to send would leave the failure unrecorded: its JSON encoding
    (:func:`streams.events.codec.encode`) is at most ``max_bytes``. The key is cut to
    :data:`MAX_DEAD_LETTER_KEY_BYTES` and the original value to what still fits (and to ``max_original_bytes``
    if given), each flagged, with its size and SHA-256, so the copy can be matched with its source. ``message``
    must not quote personal data and is cut to 2000 characters.
    """
    if error_kind not in ERROR_KINDS:
        raise ValueError(f"unknown dead-letter kind {error_kind!r}")
    original = value or b""
    if len(message) > MAX_ERROR_MESSAGE:
        message = message[: MAX_ERROR_MESSAGE - 3] + "..."
    kept_key = dead_letter_key(key)
    letter: dict[str, object] = {
        "schema": DEAD_LETTER_V1,
        "error_kind": error_kind,
        "error_message": message,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "key": None if kept_key is None else kept_key.decode("utf-8", errors="replace"),
        "key_base64": None if kept_key is None else _b64(kept_key),
        "key_size": 0 if key is None else len(key),
        "key_sha256": hashlib.sha256(key or b"").hexdigest(),
        "key_truncated": key is not None and len(key) > MAX_DEAD_LETTER_KEY_BYTES,
        "original_base64": "",
        "original_size": len(original),
        "original_sha256": hashlib.sha256(original).hexdigest(),
        "original_truncated": False,  # the longer spelling: the measured frame below is never short
        "failed_at": format_date_time(failed_at),
    }
    # base64 of n bytes is 4 * ceil(n / 3) ASCII characters, written as they are: whole 3-byte groups that fit
    frame = len(orjson.dumps(letter))
    room = (max_bytes - frame) // 4 * 3
    if room < 0:
        raise ValueError(f"a dead letter needs at least {frame} bytes, max_bytes is {max_bytes}")
    limit = room if max_original_bytes is None else min(room, max_original_bytes)
    kept = original[:limit]
    letter["original_base64"] = _b64(kept)
    letter["original_truncated"] = len(kept) < len(original)
    return letter
