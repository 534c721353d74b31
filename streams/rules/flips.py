"""When a time-dependent predicate can change: the flip dates rules declare (``Rule.flips``), read by the schedule.

Every predicate that reads compute-at ``t`` does so through one monotone comparison of ``t`` with a date of the
record: ``x <= t``, ``x < t``, ``date <= t.AddDate(-n, 0, 0)``, ``date < t.AddDate(-n, 0, 0)`` or
``years_since(t, then) > k``. Each helper here answers, for one such comparison, the first midnight at which it
changes value, exactly: the schedule (:mod:`streams.rules.schedule`) evaluates a flow only on those days, and a
day given here in excess costs one evaluation, a day missing is a wrong answer. Compute-at is a midnight (naive
UTC), so every answer is one; ``()`` when the change would fall after year 9999 (no representable compute-at).

Go's arithmetic decides the exact day (quirks 5, 6): ``AddDate`` sends Feb 29 to Mar 1 in a non-leap year, so a
date on Mar 1 of a non-leap year is reached by ``t.AddDate(-n, 0, 0)`` already on Feb 29 of a leap ``t`` year, a
day *before* ``date.AddDate(n, 0, 0)``; gogen's years are ``hours / 8766`` of a Go ``Duration``, so ``> 10`` years
from a midnight first holds 3,653 days later (3,652.5 is not a whole day), whatever the leap days in between.
"""

from __future__ import annotations

from calendar import isleap
from datetime import datetime, timedelta

from streams.gocompat.dates import MAX_TIME, add_years, years_since

Flips = tuple[datetime, ...]
"""What a rule's ``flips(subject, conviction)`` gives: the instants on or after which its predicate may differ
from its value before them, in any order; the schedule takes the first midnight on or after each."""

DAY = timedelta(days=1)
NEVER: Flips = ()


def midnight_on_or_after(x: datetime) -> datetime | None:
    """The first midnight ``>= x`` (``x`` itself when it is one); ``None`` past year 9999."""
    if x.hour or x.minute or x.second or x.microsecond:
        try:
            return x.replace(hour=0, minute=0, second=0, microsecond=0) + DAY
        except OverflowError:
            return None
    return x


def midnight_after(x: datetime) -> datetime | None:
    """The first midnight ``> x``; ``None`` past year 9999."""
    try:
        return x.replace(hour=0, minute=0, second=0, microsecond=0) + DAY
    except OverflowError:
        return None


def _one(day: datetime | None) -> Flips:
    return NEVER if day is None else (day,)


def reached(x: datetime) -> Flips:
    """``x <= t`` (age thresholds, "every sentence has ended"): from the first midnight on or after ``x``."""
    return _one(midnight_on_or_after(x))


def passed(x: datetime) -> Flips:
    """``x < t`` (the pilots' "this sentence ended strictly before compute-at"): from the first midnight after
    ``x`` (a sentence ending at midnight ``x`` is not yet completed at ``x``)."""
    return _one(midnight_after(x))


def _years_later(day: datetime, years: int) -> datetime | None:
    """The first midnight ``t`` with ``day <= t.AddDate(-years, 0, 0)``, for a midnight ``day``.

    ``t.AddDate(-years, 0, 0)`` is non-decreasing in ``t``; it keeps month and day except Feb 29 → Mar 1 in a
    non-leap year. So the answer is ``day.AddDate(years, 0, 0)``, except for Mar 1 of a non-leap year when that
    answer's year is leap: its Feb 29 already maps to Mar 1.
    """
    later = add_years(day, years)
    if later == MAX_TIME:
        return None
    if day.month == 3 and day.day == 1 and isleap(later.year) and not isleap(day.year):
        return later - DAY
    return later


def years_after_reached(date: datetime, years: int) -> Flips:
    """``date <= t.AddDate(-years, 0, 0)`` (inclusive years-since thresholds, the 7-year window leaving)."""
    day = midnight_on_or_after(date)
    return NEVER if day is None else _one(_years_later(day, years))


def years_after_passed(date: datetime, years: int) -> Flips:
    """``date < t.AddDate(-years, 0, 0)`` (the strict crime-free threshold): ``AddDate`` gives midnights, so this
    is ``date``'s next midnight reached."""
    day = midnight_after(date)
    return NEVER if day is None else _one(_years_later(day, years))


def years_since_exceeds(then: datetime, years: float) -> Flips:
    """``years_since(t, then) > years``: gogen's float years (Go ``Duration`` hours / 8766, saturated).

    Non-decreasing in ``t``; the first midnight is within a day of ``then + 365.25 × years`` days, and is found
    by evaluating gogen's own figure there and a day on either side, so it is Go's answer by construction.
    """

    def holds(t: datetime) -> bool:
        return years_since(t, then) > years

    if not holds(MAX_TIME):  # never within the calendar (also keeps the search below finite)
        return NEVER
    try:
        guess = then + timedelta(days=365.25 * years)
    except OverflowError:
        return NEVER
    day = midnight_on_or_after(guess)
    try:
        while day is not None and not holds(day):
            day = midnight_after(day)
        while day is not None and holds(day - DAY):
            day -= DAY
    except OverflowError:  # the day before year 1: holds from the start of time
        return NEVER
    return _one(day)
