"""One builder of DOJ rows for every test (fake people only), and the shapes the code under test reads.

:func:`doj_row` builds one row: a felony conviction in a Sacramento court by default, changed by keyword arguments
named like DOJ columns (``OFFENSE_TOC="F"``) or friendly (see ``COLUMN_OF`` and the derived ones below). Its
shapes:

* :func:`doj_row` itself: ``{column: text}`` of the non-empty columns, as a record-change event carries a record;
* :func:`fields`: the 95 fields of a file row (what ``Subject.push`` and ``derive`` read);
* :func:`numbered`: ``(index, fields)``, a row with its position among the file's data rows, for
  ``build_subject`` (the rules tests);
* :func:`laid_out`: the 95 fields of any column mapping, laid out like the worker lays out an event's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streams.doj import columns as C
from streams.events.model import Retract, Upsert
from streams.gocompat.dates import ZERO_TIME

LA = "LOS ANGELES"

# Friendly names of the columns a test usually sets.
COLUMN_OF: dict[str, str] = {
    "subject": "SUBJECT_ID",
    "name": "PRI_NAME",
    "dob": "PRI_DOB",
    "date": "STP_EVENT_DATE",
    "step": "STP_TYPE_DESCR",
    "county": "STP_ORI_CNTY_NAME",
    "count_order": "CNT_ORDER",
    "ofn": "OFN",
    "offense": "OFFENSE_DESCR",
    "toc": "OFFENSE_TOC",
    "disposition": "DISP_DESCR",
    "conv_stat": "CONV_STAT_DESCR",
    "comment": "COMMENT_TEXT",
}

# A felony conviction in court; every other column is empty.
CONVICTION: dict[str, str] = {
    "SUBJECT_ID": "S1",
    "PRI_DOB": "19800101",
    "STP_EVENT_DATE": "20100101",
    "STP_TYPE_DESCR": "COURT ACTION",
    "STP_ORI_CNTY_NAME": "SACRAMENTO",
    "CNT_ORDER": "001001001000",
    "OFFENSE_DESCR": "11357 HS-SOME OFFENSE",
    "DISP_DESCR": "CONVICTED-JAIL",
    "CONV_STAT_DESCR": "FELONY",
}


def yyyymmdd(day: datetime) -> str:
    """A date as DOJ files write it (Go's zero time is ``00010101``, which reads back as the zero time)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def parse_date(text: str | None) -> datetime:
    """``"YYYY-MM-DD"`` → naive midnight; ``None`` → Go's zero time."""
    return ZERO_TIME if text is None else datetime.strptime(text, "%Y-%m-%d")


def doj_row(*, fill: str | None = None, **values: Any) -> dict[str, str]:
    """One DOJ row as ``{column: text}``, only its non-empty columns, in file order.

    Starts from :data:`CONVICTION`, or with ``fill`` from a row whose every column is ``fill`` (``fill=""``: a
    blank row). Then each keyword sets a column, by DOJ name or friendly name (``COLUMN_OF``; a ``datetime``
    is written ``YYYYMMDD``; ``""`` empties the column), or one of:

    * ``code``: OFFENSE_DESCR ``"<code>-SOME OFFENSE"`` (applied first: ``offense`` still wins);
    * ``felony``: CONV_STAT_DESCR FELONY / MISDEMEANOR;
    * ``convicted``: DISP_DESCR CONVICTED-JAIL / empty;
    * ``sentence``: ``(SENT_LENGTH, SENT_TIME_CODE)``; ``sentence_days``: that many days.
    """
    row = dict(CONVICTION) if fill is None else dict.fromkeys(C.COLUMNS, fill)
    if "code" in values:
        row["OFFENSE_DESCR"] = f"{values.pop('code')}-SOME OFFENSE"
    for key, value in values.items():
        if key == "felony":
            row["CONV_STAT_DESCR"] = "FELONY" if value else "MISDEMEANOR"
        elif key == "convicted":
            row["DISP_DESCR"] = "CONVICTED-JAIL" if value else ""
        elif key == "sentence":
            row["SENT_LENGTH"], row["SENT_TIME_CODE"] = value
        elif key == "sentence_days":
            row["SENT_LENGTH"], row["SENT_TIME_CODE"] = str(value), "D"
        else:
            column = COLUMN_OF.get(key, key)
            if column not in C.INDEX:
                raise TypeError(f"doj_row() got an unknown column {key!r}")
            row[column] = yyyymmdd(value) if isinstance(value, datetime) else value
    return {name: row[name] for name in C.COLUMNS if row.get(name)}


def laid_out(record: Mapping[str, object]) -> list[str]:
    """The 95 fields of a column mapping: absent or null columns are empty, other values their text, unknown keys
    ignored."""
    fields = [""] * C.NUM_COLUMNS
    for name, value in record.items():
        position = C.INDEX.get(name)
        if position is not None and value is not None:
            fields[position] = value if isinstance(value, str) else str(value)
    return fields


def fields(**values: Any) -> list[str]:
    """The 95 fields of :func:`doj_row` ``(**values)``."""
    return laid_out(doj_row(**values))


def numbered(
    index: int, code: str = "11357 HS", date: datetime | str = datetime(2010, 1, 1), **values: Any
) -> tuple[int, list[str]]:
    """``(index, fields)`` of a conviction of ``code`` disposed on ``date``, for ``build_subject``; CNT_ORDER
    defaults to a cycle and count of its own per index."""
    values.setdefault("count_order", f"{index + 1:03d}001{index + 1:03d}000")
    return index, fields(code=code, date=date, **values)


# -- record-change events (the streaming side) -------------------------------------------------------------------


def conviction(count_order: str, code: str, date: str, *, county: str = LA, **values: Any) -> dict[str, str]:
    """A convicted count in Los Angeles as a record-change event carries it, with a name and a case number."""
    return doj_row(
        name="DOE,JANE", count_order=count_order, ofn=f"CASE{count_order[:6]}", code=code, date=date, county=county,
        **values,
    )


def deceased(subject: str = "S1", date: str = "20190101") -> dict[str, str]:
    return doj_row(fill="", subject=subject, date=date, step="DECEASED")


def upsert(key: str, sequence: int, record: dict[str, Any]) -> Upsert:
    return Upsert(record_key=key, sequence=sequence, record=record)


def retract(key: str) -> Retract:
    return Retract(record_key=key, sequence=None)
