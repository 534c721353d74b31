"""One DOJ row reduced to the facts the rules need (spec §3.2), so a reader never has to hold 95 raw columns.

A ``Record`` is built from the 95 fields of a file row, or from a mapping of DOJ column names (the ``record`` of a
record-change event); both paths go through :func:`derive` so the offline and streaming engines see the same facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from streams.doj import columns as C
from streams.rules.dates import NANOS_PER_DAY, add_duration, parse_yyyymmdd, wrap_int64
from streams.rules.gotext import go_trim_space

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


def sentence_part_nanos(length: str, unit: str) -> int:
    """SENT_LENGTH × unit as a Go Duration (int64 nanoseconds, wrapping like Go's multiplication)."""
    unit_nanos = UNIT_NANOS.get(unit)
    if unit_nanos is None:
        return 0
    n = go_atoi(length)
    return 0 if n is None else wrap_int64(n * unit_nanos)


def derive(fields: Sequence[str], index: int) -> Record:
    """Derive a record from the 95 fields of one row."""
    offense_descr = fields[C.OFFENSE_DESCR]
    comment_text = fields[C.COMMENT_TEXT]
    conv_stat = fields[C.CONV_STAT_DESCR]
    step_type = fields[C.STP_TYPE_DESCR]
    return Record(
        index=index,
        subject_id=fields[C.SUBJECT_ID],
        dob=parse_yyyymmdd(fields[C.PRI_DOB]),
        was_convicted=fields[C.DISP_DESCR].startswith("CONVICTED"),
        code_section=code_section_of(offense_descr, comment_text),
        disposition_date=parse_yyyymmdd(fields[C.STP_EVENT_DATE]),
        is_felony=conv_stat == "FELONY" or (conv_stat == "" and fields[C.OFFENSE_TOC] == "F"),
        county=fields[C.STP_ORI_CNTY_NAME],
        type=step_type,
        ofn=fields[C.OFN],
        count_order=fields[C.CNT_ORDER],
        sentence_part_nanos=sentence_part_nanos(fields[C.SENT_LENGTH], fields[C.SENT_TIME_CODE]),
        is_pc290_registration=step_type == "REGISTRATION" and offense_descr.startswith("290"),
        offense_descr=offense_descr,
        comment_text=comment_text,
    )


# The columns :func:`derive` reads: the only ones the rules can ever see. The streaming state keeps just these.
RULE_COLUMNS: tuple[str, ...] = (
    "SUBJECT_ID", "PRI_DOB", "STP_EVENT_DATE", "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "OFN",
    "OFFENSE_DESCR", "OFFENSE_TOC", "DISP_DESCR", "CONV_STAT_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "COMMENT_TEXT",
)
_RULE_POSITIONS = tuple((name, C.INDEX[name]) for name in RULE_COLUMNS)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def rule_fields(record: Mapping[str, object]) -> dict[str, str]:
    """The part of a column mapping the rules read (as text); what the worker keeps per record."""
    return {name: _text(value) for name in RULE_COLUMNS if (value := record.get(name)) is not None}


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
    """Derive a record from a mapping of DOJ column names (a record-change event's ``record``).

    Only the rule columns are looked up: the hot path of the streaming worker, where a mapping has ~50 keys.
    """
    fields = [""] * C.NUM_COLUMNS
    get = record.get
    for name, pos in _RULE_POSITIONS:
        value = get(name)
        if value is not None:
            fields[pos] = _text(value)
    return derive(fields, index)
