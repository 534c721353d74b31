"""One DOJ row reduced to the facts the rules need (spec §3.2), so a reader never has to hold 95 raw columns.

A ``Record`` is derived from the 95 fields of a file row. A mapping of DOJ column names (the ``record`` of a
record-change event) is first laid out as such fields (:func:`rule_values`, :func:`fields_from_rule_values`), so
the offline and streaming engines see the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from streams.doj import columns as C
from streams.doj.columns import (
    CNT_ORDER,
    COMMENT_TEXT,
    CONV_STAT_DESCR,
    DISP_DESCR,
    OFFENSE_DESCR,
    OFFENSE_TOC,
    OFN,
    PRI_DOB,
    SENT_LENGTH,
    SENT_TIME_CODE,
    STP_EVENT_DATE,
    STP_ORI_CNTY_NAME,
    STP_TYPE_DESCR,
    SUBJECT_ID,
)
from streams.gocompat.dates import NANOS_PER_DAY, add_duration, cached_date, parse_yyyymmdd, wrap_int64
from streams.gocompat.gotext import go_trim_space
from streams.gocompat.memo import Memo, memo

# SENT_TIME_CODE → nanoseconds (gogen: D = 24h, Y = 2012-03-04 minus 2011-03-04 = 366 days, M = Y/12 = 30.5 days).
UNIT_NANOS: dict[str, int] = {"D": NANOS_PER_DAY, "Y": 366 * NANOS_PER_DAY, "M": 366 * NANOS_PER_DAY // 12}
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
SEE_COMMENT = "SEE COMMENT FOR CHARGE"


@dataclass(slots=True)
class Record:
    """Derived facts of one row. ``index`` is the row's position among data rows (its key in every result)."""

    index: int
    subject_id: str
    dob: datetime
    was_convicted: bool
    code_section: str
    disposition_date: datetime
    is_felony: bool
    county: str
    type: str
    ofn: str
    count_order: str
    sentence_part_nanos: int
    is_pc290_registration: bool
    offense_descr: str
    comment_text: str

    @property
    def sentence_end_date(self) -> datetime:
        """End of this row's own sentence part (disposition date + duration)."""
        return add_duration(self.disposition_date, self.sentence_part_nanos)


def go_atoi(text: str) -> int | None:
    """``strconv.Atoi``'s value: ``None`` for a syntax error (Go returns 0 with it); an optional sign and ASCII
    digits are a number, and one beyond int64 is clamped to its limit, which Go returns with ``ErrRange``.

    gogen ignores the error and uses the value (G:data/doj_row.go ``getSentencePartDuration``), so a SENT_LENGTH
    of ``99999999999999999999`` is 9223372036854775807 there, not 0 (quirk 19).
    """
    if not _GO_ATOI.fullmatch(text):
        return None
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 19:  # beyond int64 (and maybe past the digits int() converts)
        return _INT64_MIN if negative else _INT64_MAX
    value = -int(digits) if negative else int(digits)
    return min(max(value, _INT64_MIN), _INT64_MAX)


def code_section_of(offense_descr: str, comment_text: str) -> str:
    """Text before the first ``-`` of OFFENSE_DESCR, or of COMMENT_TEXT when the offense is blank or deferred to it.

    Not trimmed: gogen keeps surrounding spaces (``"4149 BP - X"`` → ``"4149 BP "``), and the matchers see them.
    """
    stripped = go_trim_space(offense_descr)  # Go's TrimSpace: str.strip() would also drop U+001C..U+001F
    source = comment_text if stripped in ("", SEE_COMMENT) else offense_descr
    return source.split("-", 1)[0]


# (SENT_LENGTH, SENT_TIME_CODE) → nanoseconds; a file repeats a few hundred pairs. An entry keeps its key tuple
# (56 bytes; the unit is one of three interned letters) and an int (36 at most) alive besides the length's text.
_SENTENCE_NANOS: Memo[tuple[str, str], int] = memo(1 << 20, entry_bytes=92, max_chars=32)


def sentence_part_nanos(length: str, unit: str) -> int:
    """SENT_LENGTH × unit as a Go Duration (int64 nanoseconds, wrapping like Go's multiplication): a length
    clamped at int64's maximum is -1 unit, at its minimum 0 (every unit is an even number of nanoseconds)."""
    unit_nanos = UNIT_NANOS.get(unit)
    if unit_nanos is None:
        return 0
    key = (length, unit)
    nanos = _SENTENCE_NANOS.get(key)
    if nanos is None:
        n = go_atoi(length)
        nanos = _SENTENCE_NANOS.put(key, 0 if n is None else wrap_int64(n * unit_nanos), length)
    return nanos


# OFFENSE_DESCR → code section, for offenses that do not defer to COMMENT_TEXT (then the comment is not read).
# A file repeats a few thousand offense texts; an entry keeps the offense text and its section (a new string)
# alive, so both count towards the budget.
_SECTION_BY_OFFENSE: Memo[str, str] = memo(4 << 20, entry_bytes=0, max_chars=512)

cached_code_section: Callable[[str], str | None] = _SECTION_BY_OFFENSE.get
"""``cached_code_section(offense_descr)``: the code section :func:`code_section` derived for this OFFENSE_DESCR
before, or ``None`` (never for an offense that defers to COMMENT_TEXT).

A dict look-up (no Python frame): the per-row paths try ``cached_code_section(offense_descr) or
code_section(offense_descr, comment_text)``."""


def code_section(offense_descr: str, comment_text: str) -> str:
    """:func:`code_section_of`, remembering the answer of an offense that does not defer to the comment."""
    section = _SECTION_BY_OFFENSE.get(offense_descr)
    if section is not None:
        return section
    stripped = go_trim_space(offense_descr)
    if stripped in ("", SEE_COMMENT):
        return comment_text.split("-", 1)[0]
    section = offense_descr.split("-", 1)[0]
    return _SECTION_BY_OFFENSE.put(offense_descr, section, offense_descr, section)


_UNITS = frozenset(UNIT_NANOS)


def derive(fields: Sequence[str], index: int) -> Record:
    """Derive a record from the 95 fields of one row.

    Called for every conviction of a million-row file: the cached dates and code sections are looked up inline
    and the record is built positionally.
    """
    offense_descr = fields[OFFENSE_DESCR]
    comment_text = fields[COMMENT_TEXT]
    conv_stat = fields[CONV_STAT_DESCR]
    step_type = fields[STP_TYPE_DESCR]
    dob = fields[PRI_DOB]
    event_date = fields[STP_EVENT_DATE]
    unit = fields[SENT_TIME_CODE]
    return Record(
        index,
        fields[SUBJECT_ID],
        cached_date(dob) or parse_yyyymmdd(dob),
        fields[DISP_DESCR].startswith("CONVICTED"),
        cached_code_section(offense_descr) or code_section(offense_descr, comment_text),
        cached_date(event_date) or parse_yyyymmdd(event_date),
        conv_stat == "FELONY" or (conv_stat == "" and fields[OFFENSE_TOC] == "F"),
        fields[STP_ORI_CNTY_NAME],
        step_type,
        fields[OFN],
        fields[CNT_ORDER],
        sentence_part_nanos(fields[SENT_LENGTH], unit) if unit in _UNITS else 0,
        step_type == "REGISTRATION" and offense_descr.startswith("290"),
        offense_descr,
        comment_text,
    )


# The columns :func:`derive` (and ``Subject.push``) reads: the only ones the rules can ever see. The streaming
# state keeps just these.
RULE_COLUMNS: tuple[str, ...] = (
    "SUBJECT_ID", "PRI_DOB", "STP_EVENT_DATE", "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "OFN",
    "OFFENSE_DESCR", "OFFENSE_TOC", "DISP_DESCR", "CONV_STAT_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "COMMENT_TEXT",
)
# fields_from_rule_values spells the positions out, in this order
assert tuple(C.INDEX[name] for name in RULE_COLUMNS) == (
    SUBJECT_ID, PRI_DOB, STP_EVENT_DATE, STP_TYPE_DESCR, STP_ORI_CNTY_NAME, CNT_ORDER, OFN,
    OFFENSE_DESCR, OFFENSE_TOC, DISP_DESCR, CONV_STAT_DESCR, SENT_LENGTH, SENT_TIME_CODE, COMMENT_TEXT,
)
_NO_FIELDS = [""] * C.NUM_COLUMNS

row_rule_values: Callable[[Sequence[str]], tuple[str, ...]] = itemgetter(*(C.INDEX[name] for name in RULE_COLUMNS))
"""``row_rule_values(fields)``: the rule columns of a 95-field row, in ``RULE_COLUMNS`` order (what
:func:`fields_from_rule_values` lays out again): a subject that may be rebuilt keeps only these of its rows."""


def rule_values(record: Mapping[str, object]) -> list[str]:
    """The rule columns of a column mapping as text, in ``RULE_COLUMNS`` order, ``""`` where absent or null.

    What the worker keeps per record: a list, not a mapping, because the column names would double the size
    of a person's state (and of every changelog write)."""
    get = record.get
    return [v if type(v) is str else ("" if v is None else str(v)) for v in [get(name, "") for name in RULE_COLUMNS]]


def fields_from_rule_values(values: Sequence[str]) -> list[str]:
    """Lay :func:`rule_values` out as the 95 fields :func:`derive` and ``Subject.push`` read."""
    fields = _NO_FIELDS.copy()
    # one unpacking assignment: 5x faster than a loop over the positions, and raises unless there are 14 values
    fields[SUBJECT_ID], fields[PRI_DOB], fields[STP_EVENT_DATE], fields[STP_TYPE_DESCR], fields[STP_ORI_CNTY_NAME], \
        fields[CNT_ORDER], fields[OFN], fields[OFFENSE_DESCR], fields[OFFENSE_TOC], fields[DISP_DESCR], \
        fields[CONV_STAT_DESCR], fields[SENT_LENGTH], fields[SENT_TIME_CODE], fields[COMMENT_TEXT] = values
    return fields
