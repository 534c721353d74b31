"""RFC 3339 dates and date-times, checked by hand so the codec, the schemas' formats and the tests agree.

Python's ``datetime.fromisoformat`` accepts more than RFC 3339 (no offset, a space separator, week dates) and
less (leap second ``:60``, year 0000), and jsonschema only asserts ``format`` when an optional extra is
installed; one definition used everywhere removes both disagreements.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
# The form nearly every producer writes (upper-case T and Z, at most microseconds, seconds up to 59), which
# ``datetime.fromisoformat`` reads exactly and ~30x faster; anything else takes the general path.
_COMMON = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return day <= 29
    return day <= _MONTH_DAYS[month - 1]


def is_date(text: object) -> bool:
    """RFC 3339 ``full-date``: YYYY-MM-DD of a real calendar day. Non-strings pass (JSON Schema rule)."""
    if not isinstance(text, str):
        return True
    m = _DATE.fullmatch(text)
    return m is not None and _valid_date(int(m[1]), int(m[2]), int(m[3]))


def _date_time_parts(text: str) -> re.Match[str] | None:
    m = _DATE_TIME.fullmatch(text)
    if m is None or not _valid_date(int(m[1]), int(m[2]), int(m[3])):
        return None
    # Seconds may be 60 (a leap second); offsets are hours 00-23 and minutes 00-59 like the time itself.
    if int(m[4]) > 23 or int(m[5]) > 59 or int(m[6]) > 60:
        return None
    if m[8] is not None and (int(m[9]) > 23 or int(m[10]) > 59):
        return None
    return m


def is_date_time(text: object) -> bool:
    """RFC 3339 ``date-time`` with an explicit offset. Non-strings pass, as JSON Schema formats require."""
    return not isinstance(text, str) or _date_time_parts(text) is not None


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01, proleptic Gregorian (works for year 0000, which ``datetime`` rejects)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _instant(text: str) -> tuple[int, str]:
    """(whole seconds since the Unix epoch, fraction digits) of an RFC 3339 date-time, exact."""
    m = _date_time_parts(text)
    if m is None:
        raise ValueError("not an RFC 3339 date-time")
    seconds = _days_from_civil(int(m[1]), int(m[2]), int(m[3])) * 86_400
    seconds += int(m[4]) * 3600 + int(m[5]) * 60 + int(m[6])
    if m[8] is not None:
        offset = int(m[9]) * 3600 + int(m[10]) * 60
        seconds += -offset if m[8] == "+" else offset
    return seconds, (m[7] or ".")[1:]


def parse_date_time(text: str) -> datetime:
    """An RFC 3339 date-time as an aware UTC ``datetime``, to the nearest microsecond.

    A leap second reads as the next second's start; instants outside ``datetime``'s range (year 0000, or 9999
    pushed past its end by an offset) clamp to ``datetime.min``/``datetime.max``. Raises ``ValueError`` when
    ``text`` is not an RFC 3339 date-time.
    """
    if _COMMON.fullmatch(text):
        try:  # fromisoformat checks the calendar day, hour and minute
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError):
            pass  # not a real date, or out of range: the general path says which
    return _parse_general(text)


def _parse_general(text: str) -> datetime:
    seconds, fraction = _instant(text)
    micros = round(int(fraction[:7].ljust(7, "0")) / 10) if fraction else 0
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=micros)
    except OverflowError:
        return (datetime.min if seconds < 0 else datetime.max).replace(tzinfo=UTC)


def format_date_time(moment: datetime | str, *, timespec: str = "milliseconds") -> str:
    """An RFC 3339 UTC date-time (``...T12:00:00.000Z`` with the default ``timespec``); naive means UTC.

    A string passes through after a check, so callers may hand over a producer's timestamp unchanged.
    """
    if isinstance(moment, str):
        if _date_time_parts(moment) is None:
            raise ValueError("not an RFC 3339 date-time")
        return moment
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec=timespec).replace("+00:00", "Z")


def format_date(day: date | datetime) -> str:
    """YYYY-MM-DD of a date, or of a datetime's calendar day (compute-at values are naive UTC midnights)."""
    return (day.date() if isinstance(day, datetime) else day).isoformat()
