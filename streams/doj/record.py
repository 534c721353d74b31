"""One DOJ row reduced to the facts the rules need (spec §3.2), so a reader never has to hold 95 raw columns.

A ``Record`` is built from the 95 fields of a file row, or from a mapping of DOJ column names (the ``record`` of a
record-change event); both paths go through :func:`derive` so the offline and streaming engines see the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from streams.doj import columns as C
from streams.gocompat.dates import _DATE_CACHE, NANOS_PER_DAY, add_duration, parse_yyyymmdd, wrap_int64
from streams.gocompat.gotext import go_trim_space

# SENT_TIME_CODE → nanoseconds (gogen: D = 24h, Y = 2012-03-04 minus 2011-03-04 = 366 days, M = Y/12 = 30.5 days).
UNIT_NANOS: dict[str, int] = {"D": NANOS_PER_DAY, "Y": 366 * NANOS_PER_DAY, "M": 366 * NANOS_PER_DAY // 12}
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
SEE_COMMENT = "SEE COMMENT FOR CHARGE"
_SECTION_CACHE_LIMIT = 1 << 16  # entries per cache of derived values (they stop growing there)


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
    """``strconv.Atoi``: optional sign and digits only, int64 range, else an error (``None``)."""
    if not _GO_ATOI.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def code_section_of(offense_descr: str, comment_text: str) -> str:
    """Text before the first ``-`` of OFFENSE_DESCR, or of COMMENT_TEXT when the offense is blank or deferred to it.

    Not trimmed: gogen keeps surrounding spaces (``"4149 BP - X"`` → ``"4149 BP "``), and the matchers see them.
    """
    stripped = go_trim_space(offense_descr)  # Go's TrimSpace: str.strip() would also drop U+001C..U+001F
    source = comment_text if stripped in ("", SEE_COMMENT) else offense_descr
    return source.split("-", 1)[0]


# (SENT_LENGTH, SENT_TIME_CODE) → nanoseconds; a file repeats a few hundred pairs.
_SENTENCE_NANOS: dict[tuple[str, str], int] = {}


def sentence_part_nanos(length: str, unit: str) -> int:
    """SENT_LENGTH × unit as a Go Duration (int64 nanoseconds, wrapping like Go's multiplication)."""
    unit_nanos = UNIT_NANOS.get(unit)
    if unit_nanos is None:
        return 0
    key = (length, unit)
    nanos = _SENTENCE_NANOS.get(key)
    if nanos is None:
        n = go_atoi(length)
        nanos = 0 if n is None else wrap_int64(n * unit_nanos)
        if len(_SENTENCE_NANOS) < _SECTION_CACHE_LIMIT:
            _SENTENCE_NANOS[key] = nanos
    return nanos


# OFFENSE_DESCR → code section, for offenses that do not defer to COMMENT_TEXT (then the comment is not read).
# A file repeats a few thousand offense texts; the cache stops growing at _SECTION_CACHE_LIMIT entries.
_SECTION_BY_OFFENSE: dict[str, str] = {}


def _code_section(offense_descr: str, comment_text: str) -> str:
    """:func:`code_section_of`, remembering the answer of an offense that does not defer to the comment."""
    stripped = go_trim_space(offense_descr)
    if stripped in ("", SEE_COMMENT):
        return comment_text.split("-", 1)[0]
    section = offense_descr.split("-", 1)[0]
    if len(_SECTION_BY_OFFENSE) < _SECTION_CACHE_LIMIT:
        _SECTION_BY_OFFENSE[offense_descr] = section
    return section


def derive(
    fields: Sequence[str],
    index: int,
    *,
    _record: type[Record] = Record,
    _cached_date: Callable[[str], datetime | None] = _DATE_CACHE.get,
    _date: Callable[[str], datetime] = parse_yyyymmdd,
    _cached_section: Callable[[str], str | None] = _SECTION_BY_OFFENSE.get,
    _section: Callable[[str, str], str] = _code_section,
    _units: frozenset[str] = frozenset(UNIT_NANOS),
    _sentence: Callable[[str, str], int] = sentence_part_nanos,
) -> Record:
    """Derive a record from the 95 fields of one row.

    Called once per row of a million-row file: positions are literals checked against ``columns`` at import,
    helpers and caches are bound as defaults, the cached dates and code sections are looked up inline and the
    record is built positionally.
    """
    offense_descr = fields[54]  # OFFENSE_DESCR
    comment_text = fields[93]  # COMMENT_TEXT
    conv_stat = fields[82]  # CONV_STAT_DESCR
    step_type = fields[42]  # STP_TYPE_DESCR
    dob = fields[14]  # PRI_DOB
    event_date = fields[40]  # STP_EVENT_DATE
    unit = fields[88]  # SENT_TIME_CODE
    return _record(
        index,
        fields[2],  # SUBJECT_ID
        _cached_date(dob) or _date(dob),
        fields[80].startswith("CONVICTED"),  # DISP_DESCR
        _cached_section(offense_descr) or _section(offense_descr, comment_text),
        _cached_date(event_date) or _date(event_date),
        conv_stat == "FELONY" or (conv_stat == "" and fields[55] == "F"),  # OFFENSE_TOC
        fields[48],  # STP_ORI_CNTY_NAME
        step_type,
        fields[52],  # OFN
        fields[50],  # CNT_ORDER
        _sentence(fields[87], unit) if unit in _units else 0,  # SENT_LENGTH
        step_type == "REGISTRATION" and offense_descr.startswith("290"),
        offense_descr,
        comment_text,
    )


# derive() indexes rows by literal positions for speed; they must be the columns' real positions.
assert (C.SUBJECT_ID, C.PRI_DOB, C.STP_EVENT_DATE, C.STP_TYPE_DESCR, C.STP_ORI_CNTY_NAME, C.CNT_ORDER, C.OFN) == (
    2, 14, 40, 42, 48, 50, 52)
assert (C.OFFENSE_DESCR, C.OFFENSE_TOC, C.DISP_DESCR, C.CONV_STAT_DESCR, C.SENT_LENGTH, C.SENT_TIME_CODE) == (
    54, 55, 80, 82, 87, 88)
assert C.COMMENT_TEXT == 93


# The columns :func:`derive` reads: the only ones the rules can ever see. The streaming state keeps just these.
RULE_COLUMNS: tuple[str, ...] = (
    "SUBJECT_ID", "PRI_DOB", "STP_EVENT_DATE", "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "OFN",
    "OFFENSE_DESCR", "OFFENSE_TOC", "DISP_DESCR", "CONV_STAT_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "COMMENT_TEXT",
)
_RULE_AT = tuple(C.INDEX[name] for name in RULE_COLUMNS)
assert _RULE_AT == (2, 14, 40, 42, 48, 50, 52, 54, 55, 80, 82, 87, 88, 93)  # fields_from_rule_values spells them out
_NO_FIELDS = [""] * C.NUM_COLUMNS


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def rule_values(record: Mapping[str, object]) -> list[str]:
    """The rule columns of a column mapping as text, in ``RULE_COLUMNS`` order, ``""`` where absent or null.

    What the worker keeps per record: a list, not a mapping, because the column names would double the size
    of a person's state (and of every changelog write)."""
    get = record.get
    return [v if type(v) is str else ("" if v is None else str(v)) for v in [get(name, "") for name in RULE_COLUMNS]]


def fields_from_rule_values(values: Sequence[str]) -> list[str]:
    """Lay :func:`rule_values` out as the 95 fields :func:`derive` and ``Subject.push_fields`` read."""
    fields = _NO_FIELDS.copy()
    # one unpacking assignment: 5x faster than a loop over the positions, and raises unless there are 14 values
    fields[2], fields[14], fields[40], fields[42], fields[48], fields[50], fields[52], fields[54], fields[55], \
        fields[80], fields[82], fields[87], fields[88], fields[93] = values
    return fields


def fields_from_mapping(record: Mapping[str, object]) -> list[str]:
    """Lay a column-name mapping out as 95 fields; absent columns are empty, unknown keys are ignored here."""
    fields = [""] * C.NUM_COLUMNS
    index = C.INDEX
    for name, value in record.items():
        pos = index.get(name)
        if pos is not None and value is not None:
            fields[pos] = _text(value)
    return fields


def derive_mapping(record: Mapping[str, object], index: int) -> Record:
    """Derive a record from a mapping of DOJ column names (a record-change event's ``record``); only the rule
    columns are looked up."""
    return derive(fields_from_rule_values(rule_values(record)), index)
