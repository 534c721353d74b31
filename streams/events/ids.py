"""Deterministic ids, so that redelivered or replayed messages de-duplicate.

Determinations are keyed by conviction id on a compacted topic, candidates carry
``<conviction_id>#<revision>``, and a replayed DOJ file produces the same event ids and record keys every time
it is replayed.
"""

from __future__ import annotations

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
