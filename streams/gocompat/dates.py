"""Date arithmetic with Go's semantics, because gogen's answers depend on them (§3.2, §10 quirks 2, 4, 6).

Times are naive ``datetime`` values read as UTC. Go's zero time (0001-01-01) stands for "no date"; the flows
compare against it exactly as gogen does, so it is a real value here, never ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

ZERO_TIME = datetime(1, 1, 1)
MAX_TIME = datetime.max
NANOS_PER_DAY = 86_400 * 10**9
_INT64 = 1 << 64
_INT64_MAX = (1 << 63) - 1

# Go's time.Duration saturates at ~292 years: t.Sub(u) never exceeds it. Years-since figures of zero dates
# rely on it.
MAX_DURATION = timedelta(microseconds=_INT64_MAX // 1000)

_DATE_CACHE: dict[str, datetime] = {}
_YYYYMMDD = re.compile(r"[0-9]{8}")

cached_date: Callable[[str], datetime | None] = _DATE_CACHE.get
"""``cached_date(text)``: what :func:`parse_yyyymmdd` answered for ``text`` before, or ``None``.

A dict look-up (no Python frame): the per-row paths try ``cached_date(text) or parse_yyyymmdd(text)``."""


def parse_yyyymmdd(text: str) -> datetime:
    """Parse like Go's ``time.Parse("20060102", text)``; a rejected text is ``ZERO_TIME`` (errors ignored).

    Cached because a DOJ file repeats the same few thousand dates millions of times.
    """
    cached = _DATE_CACHE.get(text)
    if cached is not None:
        return cached
    value = ZERO_TIME
    if len(text) == 8 and _YYYYMMDD.fullmatch(text):
        try:
            value = datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:  # month/day out of range, or year 0000 (Go accepts it; sorts before any date)
            value = ZERO_TIME
    if len(_DATE_CACHE) < 1_000_000:
        _DATE_CACHE[text] = value
    return value


def go_sub(a: datetime, b: datetime) -> timedelta:
    """``a.Sub(b)`` in Go: the difference, saturated to Go's Duration range."""
    diff = a - b
    if diff > MAX_DURATION:
        return MAX_DURATION
    if diff < -MAX_DURATION:
        return -MAX_DURATION
    return diff


def add_duration(t: datetime, nanos: int) -> datetime:
    """``t.Add(d)`` for a Duration given in nanoseconds; clamps at Python's datetime range instead of raising.

    Integer arithmetic: a float quotient loses microseconds for durations near Go's int64 limit (wrapped
    sentence lengths). A sub-microsecond remainder is rounded away from ``t`` so that comparing the result
    with a date at midnight (compute-at) gives Go's answer for ``After``/``Before``.
    """
    micros = -(-nanos // 1000) if nanos > 0 else nanos // 1000
    try:
        return t + timedelta(microseconds=micros)
    except OverflowError:
        return MAX_TIME if nanos > 0 else ZERO_TIME


def wrap_int64(value: int) -> int:
    """Go's int64 multiplication wraps around; sentence durations are computed that way."""
    value &= _INT64 - 1
    return value - _INT64 if value > _INT64_MAX else value


def add_years(t: datetime, years: int) -> datetime:
    """``t.AddDate(years, 0, 0)``: Feb 29 in a non-leap target year becomes Mar 1 (Go normalises, quirk 6)."""
    year = t.year + years
    if year < 1:
        return ZERO_TIME
    if year > 9999:
        return MAX_TIME
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
