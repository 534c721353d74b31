"""Data problems in a person's rows that can change an answer without anyone noticing: stable codes, pure functions.

gogen reads a curated extract and turns a missing or malformed date into Go's zero date, which the rules then
treat as "very old" (a person without a DOB is "50 years or older"). On a live feed such rows are common, so every
determination says which of these problems touched it; a county's policy decides whether a flagged answer stands
(``flag``, gogen's answer) or goes to a person (``hand_review``). The codes are part of the event contract
(``determination.v1`` ``data_quality``) and of the metric ``clearance_data_quality_total{code}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from streams.doj import columns as C
from streams.gocompat.memo import Memo, memo

DOB_MISSING = "dob_missing"  # the person's PRI_DOB is empty: gogen reads the zero date ("always old enough")
DOB_INVALID = "dob_invalid"  # PRI_DOB is not a YYYYMMDD date (e.g. ISO 1980-03-01): read as the zero date
DATE_MISSING = "date_missing"  # the conviction's STP_EVENT_DATE is empty: a zero-dated conviction
DATE_INVALID = "date_invalid"  # STP_EVENT_DATE is not a YYYYMMDD date: read as the zero date
SUBJECT_ID_MISMATCH = "subject_id_mismatch"  # a row's SUBJECT_ID differs from the person's (event key)
SENTENCE_WITHOUT_CONVICTION = "sentence_without_conviction"  # a sentence on a row whose count has no conviction
CODES: tuple[str, ...] = (
    DOB_MISSING, DOB_INVALID, DATE_MISSING, DATE_INVALID, SUBJECT_ID_MISMATCH, SENTENCE_WITHOUT_CONVICTION,
)

_YYYYMMDD = re.compile(r"[0-9]{8}")


def valid_yyyymmdd(text: str) -> bool:
    """Whether Go's ``time.Parse("20060102", text)`` reads a real date (year 0000 included, as Go does)."""
    if not _YYYYMMDD.fullmatch(text):
        return False
    year, month, day = int(text[0:4]), int(text[4:6]), int(text[6:8])
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return day <= days


# A file repeats a few thousand date texts: their verdicts are remembered (texts of at most 16 characters, 8 MB;
# the booleans are shared).
_VALID: Memo[str, bool] = memo(8 << 20, entry_bytes=0, max_chars=16)


def _date_flags(text: str, missing: str, invalid: str) -> tuple[str, ...]:
    if text == "":
        return (missing,)
    valid = _VALID.get(text)
    if valid is None:
        valid = _VALID.put(text, valid_yyyymmdd(text), text)
    return () if valid else (invalid,)


def date_flags(date_text: str) -> tuple[str, ...]:
    """Problems of a conviction's disposition date (STP_EVENT_DATE)."""
    return _date_flags(date_text, DATE_MISSING, DATE_INVALID)


def person_flags(
    subject_id: str, first_dob: str, mismatched: bool, sentenced_counts: Iterable[str], conviction_counts: Iterable[str]
) -> tuple[str, ...]:
    """Problems that touch every answer of the person: the DOB of the first row (where gogen reads it), rows of
    another SUBJECT_ID (``mismatched``), and sentences on rows whose count order is no conviction of the person."""
    flags = list(_date_flags(first_dob, DOB_MISSING, DOB_INVALID))
    if mismatched:
        flags.append(SUBJECT_ID_MISMATCH)
    if not set(sentenced_counts).issubset(conviction_counts):
        flags.append(SENTENCE_WITHOUT_CONVICTION)
    return tuple(flags)


def subject_flags(subject_id: str, rows: Sequence[Sequence[str]], conviction_counts: Iterable[str]) -> tuple[str, ...]:
    """:func:`person_flags` of a person's rows (in the person's order)."""
    if not rows:
        return ()
    return person_flags(
        subject_id,
        rows[0][C.PRI_DOB],
        any(row[C.SUBJECT_ID] not in ("", subject_id) for row in rows),
        (row[C.CNT_ORDER] for row in rows if row[C.SENT_LENGTH] != ""),
        set(conviction_counts),
    )


def conviction_flags(row: Sequence[str]) -> tuple[str, ...]:
    """Problems of the conviction's own row (its disposition date)."""
    return date_flags(row[C.STP_EVENT_DATE])


def flags_of(subject: tuple[str, ...], conviction: tuple[str, ...]) -> list[str]:
    """A determination's codes, in :data:`CODES` order (stable, so an unchanged answer keeps its bytes)."""
    present = set(subject) | set(conviction)
    return [code for code in CODES if code in present]
