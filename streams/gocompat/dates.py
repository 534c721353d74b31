"""Date arithmetic with Go's semantics, because gogen's answers depend on them (§3.2, §10 quirks 2, 4, 6).

Times are naive ``datetime`` values read as UTC. Go's zero time (0001-01-01) stands for "no date"; the flows
compare against it exactly as gogen does, so it is a real value here, never ``None``.

Go's ``time.Time`` also holds instants before the zero time, which Python's ``datetime`` cannot: a DOJ date
``0000MMDD`` is a valid date to ``time.Parse("20060102", …)`` (year 0, a leap year; quirk 15), and a negative
sentence can end before year 1. Such an instant is a :class:`BeforeYearOne`, a ``datetime`` subclass that
compares, adds and subtracts exactly against plain datetimes, so the rules need no special case: it sorts before
the zero time, is never equal to it (Go's ``IsZero`` is false for it) and prints as year ``0000``. Plain dates
never pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from streams.gocompat.memo import Memo, memo

ZERO_TIME = datetime(1, 1, 1)
MAX_TIME = datetime.max
NANOS_PER_DAY = 86_400 * 10**9
_INT64 = 1 << 64
_INT64_MAX = (1 << 63) - 1
_MICROSECOND = timedelta(microseconds=1)
_CYCLE_DAYS = 146_097  # days in 400 Gregorian years: shifting a date by them keeps month, day and leap years
_CYCLE_MICROS = _CYCLE_DAYS * 86_400 * 10**6


def _micros(value: datetime) -> int:
    """Microseconds from the zero time (negative before it): one total order for both kinds of instant."""
    if isinstance(value, BeforeYearOne):
        return value.micros
    return (value - ZERO_TIME) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The instant ``micros`` microseconds after the zero time: a plain ``datetime`` from year 1 on."""
    if micros >= 0:
        return ZERO_TIME + timedelta(microseconds=micros)
    return BeforeYearOne(micros)


def from_fields(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> datetime:
    """A proleptic Gregorian instant of any year up to 9999 (``ValueError`` for a day that does not exist)."""
    if year >= 1:
        return datetime(year, month, day, hour, minute, second, microsecond)
    cycles = (400 - year) // 400  # enough 400-year cycles to bring the year to 1 or later
    shifted = datetime(year + 400 * cycles, month, day, hour, minute, second, microsecond)
    return from_micros(_micros(shifted) - cycles * _CYCLE_MICROS)


class BeforeYearOne(datetime):
    """An instant before Go's zero time (0001-01-01), which ``datetime`` cannot hold but Go's ``time.Time`` can.

    ``micros`` counts microseconds from the zero time (always negative). The fields (``year`` 0 or less,
    ``month`` …) are computed from it; comparisons, ``+``/``-`` with a ``timedelta`` and ``-`` between instants
    are exact against plain datetimes (Python tries a subclass's reflected operator first). The ``datetime``
    value underneath is the zero time and is never read.
    """

    __slots__ = ("micros",)
    micros: int

    def __new__(cls, micros: int) -> BeforeYearOne:
        if micros >= 0:
            raise ValueError("BeforeYearOne holds instants before 0001-01-01 only")
        self = super().__new__(cls, 1, 1, 1)
        self.micros = micros
        return self

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:  # datetime's own would rebuild the zero time
        return (BeforeYearOne, (self.micros,))

    def _fields(self) -> tuple[int, datetime]:
        cycles = -(self.micros // _CYCLE_MICROS)
        return cycles, ZERO_TIME + timedelta(microseconds=self.micros + cycles * _CYCLE_MICROS)

    @property
    def year(self) -> int:
        cycles, shifted = self._fields()
        return shifted.year - 400 * cycles

    @property
    def month(self) -> int:
        return self._fields()[1].month

    @property
    def day(self) -> int:
        return self._fields()[1].day

    @property
    def hour(self) -> int:
        return self._fields()[1].hour

    @property
    def minute(self) -> int:
        return self._fields()[1].minute

    @property
    def second(self) -> int:
        return self._fields()[1].second

    @property
    def microsecond(self) -> int:
        return self._fields()[1].microsecond

    def replace(self, **changes: Any) -> datetime:  # type: ignore[override]
        """``datetime.replace`` of the date and time fields (there is no time zone before year 1 here)."""
        if set(changes) - {"year", "month", "day", "hour", "minute", "second", "microsecond"}:
            raise TypeError(f"BeforeYearOne.replace() takes date and time fields only, got {sorted(changes)}")
        current = {
            "year": self.year, "month": self.month, "day": self.day, "hour": self.hour, "minute": self.minute,
            "second": self.second, "microsecond": self.microsecond,
        }
        return from_fields(**{**current, **changes})

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        _, shifted = self._fields()
        text = f"{self.year:04d}-{shifted.isoformat(sep)[5:]}"
        return text

    def __str__(self) -> str:
        return self.isoformat(" ")

    def __repr__(self) -> str:
        return f"BeforeYearOne({self.isoformat()})"

    def __hash__(self) -> int:
        return hash(("BeforeYearOne", self.micros))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime):
            return isinstance(other, BeforeYearOne) and other.micros == self.micros
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, datetime):
            return not self.__eq__(other)
        return NotImplemented

    def __lt__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.micros < _micros(other) if isinstance(other, datetime) else NotImplemented

    def __le__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.micros <= _micros(other) if isinstance(other, datetime) else NotImplemented

    def __gt__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.micros > _micros(other) if isinstance(other, datetime) else NotImplemented

    def __ge__(self, other: datetime) -> bool:  # type: ignore[override]
        return self.micros >= _micros(other) if isinstance(other, datetime) else NotImplemented

    def __add__(self, other: timedelta) -> datetime:  # type: ignore[override]
        if isinstance(other, timedelta):
            return from_micros(self.micros + other // _MICROSECOND)
        return NotImplemented

    def __radd__(self, other: timedelta) -> datetime:  # type: ignore[override]
        return self.__add__(other)

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, timedelta):
            return from_micros(self.micros - other // _MICROSECOND)
        if isinstance(other, datetime):
            return timedelta(microseconds=self.micros - _micros(other))
        return NotImplemented

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, datetime):
            return timedelta(microseconds=_micros(other) - self.micros)
        return NotImplemented


# Go's time.Duration saturates at ~292 years: t.Sub(u) never exceeds it. Years-since figures of zero dates
# rely on it.
MAX_DURATION = timedelta(microseconds=_INT64_MAX // 1000)

# Texts of at most 16 characters (a date is 8; blank and short malformed dates repeat too), 16 MB: the ~60,000
# distinct dates a statewide file holds (DOBs over a century, events over decades) at ~220 bytes each, with room.
# An entry keeps its text and a datetime (a BeforeYearOne with its int: 104 bytes at most) alive.
_DATES: Memo[str, datetime] = memo(16 << 20, entry_bytes=104, max_chars=16)
_YYYYMMDD = re.compile(r"[0-9]{8}")

cached_date: Callable[[str], datetime | None] = _DATES.get
"""``cached_date(text)``: what :func:`parse_yyyymmdd` answered for ``text`` before, or ``None``.

A dict look-up (no Python frame): the per-row paths try ``cached_date(text) or parse_yyyymmdd(text)``."""


def parse_yyyymmdd(text: str) -> datetime:
    """Parse like Go's ``time.Parse("20060102", text)``; a rejected text is ``ZERO_TIME`` (errors ignored, as
    gogen's ``parseDate`` does).

    Year ``0000`` is a real date to Go (a :class:`BeforeYearOne`, before the zero time: gogen writes it as
    ``01/05/0000`` and its years-since saturate at 292.3). Cached (short texts, within a byte budget: see
    :mod:`streams.gocompat.memo`) because a DOJ file repeats the same few thousand dates millions of times.
    """
    cached = _DATES.get(text)
    if cached is not None:
        return cached
    value = ZERO_TIME
    if len(text) == 8 and _YYYYMMDD.fullmatch(text):
        year = int(text[0:4])
        try:
            value = (datetime if year else from_fields)(year, int(text[4:6]), int(text[6:8]))
        except ValueError:  # month or day out of range
            value = ZERO_TIME
    return _DATES.put(text, value, text)


def go_sub(a: datetime, b: datetime) -> timedelta:
    """``a.Sub(b)`` in Go: the difference, saturated to Go's Duration range."""
    diff = a - b
    if diff > MAX_DURATION:
        return MAX_DURATION
    if diff < -MAX_DURATION:
        return -MAX_DURATION
    return diff


def add_duration(t: datetime, nanos: int) -> datetime:
    """``t.Add(d)`` for a Duration given in nanoseconds.

    Integer arithmetic: a float quotient loses microseconds for durations near Go's int64 limit (wrapped
    sentence lengths). A sub-microsecond remainder is rounded away from ``t`` so that comparing the result
    with a date at midnight (compute-at) gives Go's answer for ``After``/``Before``.

    Past year 9999 it clamps at ``MAX_TIME`` (every compute-at is before it); before year 1 the result is exact
    (:class:`BeforeYearOne`), as Go's.
    """
    micros = -(-nanos // 1000) if nanos > 0 else nanos // 1000
    try:
        return t + timedelta(microseconds=micros)
    except OverflowError:
        return MAX_TIME if nanos > 0 else from_micros(_micros(t) + micros)


def wrap_int64(value: int) -> int:
    """Go's int64 multiplication wraps around; sentence durations are computed that way."""
    value &= _INT64 - 1
    return value - _INT64 if value > _INT64_MAX else value


def add_years(t: datetime, years: int) -> datetime:
    """``t.AddDate(years, 0, 0)``: Feb 29 in a non-leap target year becomes Mar 1 (Go normalises, quirk 6).

    Exact before year 1 (:class:`BeforeYearOne`, e.g. a year-0000 birth date plus 21 years is year 21); clamped
    at ``MAX_TIME`` after year 9999.
    """
    year = t.year + years
    if year > 9999:
        return MAX_TIME
    if year < 1 or isinstance(t, BeforeYearOne):
        fields = (t.hour, t.minute, t.second, t.microsecond)
        try:
            return from_fields(year, t.month, t.day, *fields)
        except ValueError:  # Feb 29 -> Mar 1
            return from_fields(year, 3, 1, *fields)
    try:
        return t.replace(year=year)
    except ValueError:  # Feb 29 -> Mar 1
        return t.replace(year=year, month=3, day=1)


_NANOS_PER_HOUR = 3600 * 10**9


def hours(delta: timedelta) -> float:
    """Go's ``Duration.Hours()``: whole hours plus the remainder's fraction, converted like Go does."""
    nanos = ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
    if delta == MAX_DURATION:
        nanos = _INT64_MAX  # the saturated Duration keeps its nanoseconds in Go
    elif delta == -MAX_DURATION:
        nanos = -_INT64_MAX - 1
    whole = abs(nanos) // _NANOS_PER_HOUR
    rest = abs(nanos) - whole * _NANOS_PER_HOUR
    if nanos < 0:  # Go's integer division truncates towards zero
        whole, rest = -whole, -rest
    return float(whole) + rest / 3.6e12


def years_since(now: datetime, then: datetime) -> float:
    """gogen's ``now.Sub(then).Hours() / (24 * 365.25)`` including Go's saturation."""
    return hours(go_sub(now, then)) / (24 * 365.25)


_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str) -> datetime | None:
    """``time.Parse("2006-01-02", text)`` (midnight UTC, naive), or ``None`` where Go returns an error.

    The one reading of a compute-at date, for ``--compute-at`` and for a policies file's ``compute_at``.
    """
    if not _YYYY_MM_DD.fullmatch(text):
        return None
    try:
        return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None
