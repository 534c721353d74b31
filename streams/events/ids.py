"""Deterministic ids, so that redelivered or replayed messages de-duplicate.

Determinations are keyed by conviction id on a compacted topic, candidates carry
``<conviction_id>#<revision>``, and a replayed DOJ file produces the same event ids and record keys every time
it is replayed.
"""

from __future__ import annotations

import hashlib

MAX_ID_LENGTH = 200


def conviction_id(subject_id: str, count_order: str) -> str:
    """``<subject_id>:<count_order>``: gogen identifies a person's conviction by its CNT_ORDER."""
    return f"{subject_id}:{count_order}"


def candidate_id(conviction_id: str, revision: int) -> str:
    """``<conviction_id>#<revision>``: one id per determination revision that changed the candidate set."""
    if revision < 1:
        raise ValueError("revision starts at 1")
    return f"{conviction_id}#{revision}"


def replay_event_id(file_digest: str, first_row_index: int) -> str:
    """Event id of the replay event whose first row is ``first_row_index`` (0-based data row) of the file."""
    event_id = f"replay:{file_digest}:{first_row_index}"
    if not file_digest or len(event_id) > MAX_ID_LENGTH:
        raise ValueError("file_digest must be a non-empty digest (e.g. a SHA-256 hex string)")
    return event_id


def replay_record_key(file_digest: str, row_index: int) -> str:
    """Record key of a replayed row: ``<first 16 digest characters>:<row index>``.

    Replaying the same file again replaces its records instead of adding copies, while the rows of another
    file stay distinct records (a later extract must retract the earlier one's keys to replace them).
    """
    if not file_digest:
        raise ValueError("file_digest must be a non-empty digest")
    return f"{file_digest[:16]}:{row_index}"


def natural_record_key(cycle_order: str, step_order: str, count_order: str, ordinal: int) -> str:
    """A DOJ row's record key from what identifies it in the person's history, not from where it sits in a file:
    ``<CYC_ORDER>/<STP_ORDER>/<CNT_ORDER>/<n>``, ``n`` counting the person's earlier rows with the same three
    orders (a count's sentence rows). Next month's extract gives an unchanged row the same key, so a snapshot
    replaces it instead of adding a copy."""
    key = f"{cycle_order}/{step_order}/{count_order}/{ordinal}"
    if len(key) > MAX_ID_LENGTH:
        raise ValueError("the row's cycle, step and count orders are too long for a record key")
    return key


def snapshot_event_id(source: str, extract_id: str, subject_id: str, part: int) -> str:
    """Event id of part ``part`` of a person's snapshot in an extract (the same every time it is replayed)."""
    person = hashlib.sha256(f"{source}\x1f{subject_id}".encode()).hexdigest()[:24]
    return f"snapshot:{extract_id[:64]}:{person}:{part}"
