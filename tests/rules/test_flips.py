"""Flip-date helpers: each gives the exact first midnight its comparison changes, checked against the comparison
itself on that day and the day before, for every day of ten years (leap days included) and every threshold the
flows use."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from streams.gocompat.dates import MAX_TIME, ZERO_TIME, add_years, years_since
from streams.rules.flips import (
    midnight_after,
    midnight_on_or_after,
    passed,
    reached,
    years_after_passed,
    years_after_reached,
    years_since_exceeds,
)

DAY = timedelta(days=1)
TEN_YEARS = [datetime(1995, 1, 1) + DAY * n for n in range((datetime(2005, 1, 1) - datetime(1995, 1, 1)).days)]
THRESHOLDS = [*range(1, 16), 21, 40, 50, 65]  # years-since / crime-free 1-15, the 7-year window, ages


def _first_day(holds, day: datetime) -> None:
    assert holds(day) and not holds(day - DAY), day


def test_midnights() -> None:
    noon = datetime(2020, 3, 1, 12)
    assert midnight_on_or_after(noon) == midnight_after(noon) == datetime(2020, 3, 2)
    assert midnight_on_or_after(datetime(2020, 3, 1)) == datetime(2020, 3, 1)
    assert midnight_after(datetime(2020, 3, 1)) == datetime(2020, 3, 2)
    assert midnight_on_or_after(datetime(2020, 3, 1, 0, 0, 0, 1)) == datetime(2020, 3, 2)
    assert midnight_on_or_after(MAX_TIME) is None and midnight_after(datetime(9999, 12, 31)) is None


def test_reached_and_passed_compare_like_the_sentence_predicates() -> None:
    end = datetime(2020, 3, 1, 12)  # a 1-month sentence (30.5 days) ends at noon
    assert reached(end) == passed(end) == (datetime(2020, 3, 2),)
    midnight = datetime(2020, 3, 1)
    assert reached(midnight) == (midnight,)  # `end <= t`: completed on the day itself
    assert passed(midnight) == (midnight + DAY,)  # `end < t`: only the day after
    assert reached(MAX_TIME) == passed(MAX_TIME) == ()


@pytest.mark.parametrize("years", THRESHOLDS)
def test_years_after_reached_is_the_first_day_of_date_le_t_minus_years(years: int) -> None:
    for date in TEN_YEARS:
        (day,) = years_after_reached(date, years)
        _first_day(lambda t, date=date: date <= add_years(t, -years), day)


@pytest.mark.parametrize("years", THRESHOLDS)
def test_years_after_passed_is_the_first_day_of_date_lt_t_minus_years(years: int) -> None:
    for date in TEN_YEARS:
        (day,) = years_after_passed(date, years)
        _first_day(lambda t, date=date: date < add_years(t, -years), day)


def test_mar_1_of_a_non_leap_year_is_reached_on_feb_29() -> None:
    # 2020-02-29 minus 5 years is 2015-03-01 in Go (AddDate normalises Feb 29 to Mar 1): a day before the
    # anniversary that add_years(date, 5) names
    assert add_years(datetime(2020, 2, 29), -5) == datetime(2015, 3, 1)
    assert years_after_reached(datetime(2015, 3, 1), 5) == (datetime(2020, 2, 29),)
    assert years_after_passed(datetime(2015, 2, 28), 5) == (datetime(2020, 2, 29),)
    assert years_after_reached(datetime(2016, 3, 1), 4) == (datetime(2020, 3, 1),)  # 2016 is leap: Feb 29 exists
    assert years_after_reached(datetime(2016, 2, 29), 5) == (datetime(2021, 3, 1),)


@pytest.mark.parametrize(("years", "days"), [(5, 1827), (10, 3653), (21, 7671)])
def test_years_since_exceeds_is_the_first_day_of_gogens_float(years: int, days: int) -> None:
    for then in TEN_YEARS:
        (day,) = years_since_exceeds(then, years)
        _first_day(lambda t, then=then: years_since(t, then) > years, day)
        assert day - then == timedelta(days=days)  # 24 n / 8766 > k  ⇔  n > 365.25 k, leap days or not


def test_years_since_exceeds_away_from_midnight_and_at_the_ends_of_time() -> None:
    then = datetime(2010, 6, 1, 13, 30)
    (day,) = years_since_exceeds(then, 10)
    _first_day(lambda t: years_since(t, then) > 10, day)
    for whole in (1, 4, 8):  # 365.25 k whole days: "more than" needs the day after
        (day,) = years_since_exceeds(datetime(2000, 1, 1), whole)
        assert day - datetime(2000, 1, 1) == timedelta(days=int(365.25 * whole) + 1)
    assert years_since_exceeds(datetime(9995, 1, 1), 10) == ()
    assert years_since_exceeds(datetime(2000, 1, 1), 300) == ()  # Go's Duration saturates at ~292 years
    (day,) = years_since_exceeds(ZERO_TIME, 21)  # a zero DOB: in year 22, long before any compute-at
    assert day.year == 22


def test_after_year_9999_nothing_flips() -> None:
    assert years_after_reached(datetime(9995, 1, 1), 7) == ()
    assert years_after_passed(datetime(9999, 12, 31), 1) == ()
    assert years_after_reached(MAX_TIME, 1) == ()
