"""Go date semantics the rules rely on (additions to the skeleton's dates module)."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timedelta

import pytest

from streams.gocompat.dates import (
    MAX_DURATION,
    MAX_TIME,
    NANOS_PER_DAY,
    ZERO_TIME,
    BeforeYearOne,
    add_duration,
    add_years,
    from_fields,
    hours,
    parse_yyyymmdd,
    years_since,
)


def test_hours_like_go() -> None:
    assert hours(timedelta(days=2)) == 48.0
    assert hours(-timedelta(hours=1, minutes=30)) == -1.5
    # Go keeps the saturated Duration's nanoseconds: 2562047h + 2836854775807ns
    assert hours(MAX_DURATION) == 2562047.0 + 2836854775807 / 3.6e12


def test_years_since_saturates_like_go() -> None:
    assert f"{years_since(datetime(2020, 7, 1), ZERO_TIME):.1f}" == "292.3"
    assert f"{years_since(datetime(2020, 7, 1), datetime(1700, 1, 1)):.1f}" == "292.3"
    assert years_since(datetime(2020, 7, 1), datetime(2019, 7, 1)) == 366 * 24 / (24 * 365.25)  # leap year


def test_add_duration_is_exact_and_rounds_sub_microseconds_away() -> None:
    start = datetime(2010, 1, 1)
    assert add_duration(start, 30 * NANOS_PER_DAY) == datetime(2010, 1, 31)
    assert add_duration(start, 1) > start
    assert add_duration(start, -1) < start
    huge = (1 << 63) - 1
    assert add_duration(start, huge) == start + timedelta(microseconds=huge // 1000 + 1)
    assert add_duration(start, 10**25) == MAX_TIME


def test_add_years_feb_29() -> None:
    assert add_years(datetime(2000, 2, 29), 1) == datetime(2001, 3, 1)
    assert add_years(datetime(2000, 2, 29), 4) == datetime(2004, 2, 29)
    assert add_years(datetime(2020, 7, 1), -7) == datetime(2013, 7, 1)


# -- instants before year 1 (quirk 15) ---------------------------------------------


def test_year_0000_is_a_date_before_the_zero_time() -> None:
    """Go: time.Parse("20060102", "00000105") is 0000-01-05 (IsZero false, Before the zero time); "00000230"
    is a parse error, so the zero time."""
    jan5, dec31 = parse_yyyymmdd("00000105"), parse_yyyymmdd("00001231")
    assert isinstance(jan5, BeforeYearOne) and (jan5.year, jan5.month, jan5.day) == (0, 1, 5)
    assert jan5 < dec31 < ZERO_TIME < datetime(2000, 1, 1)
    assert jan5 < ZERO_TIME and datetime(2000, 1, 1) >= dec31 and jan5 != ZERO_TIME and jan5 != ZERO_TIME
    assert min([datetime(2000, 1, 1), ZERO_TIME, dec31, jan5]) == jan5 == parse_yyyymmdd("00000105")
    assert parse_yyyymmdd("00000229").month == 2  # year 0 is a leap year
    assert parse_yyyymmdd("00000230") == ZERO_TIME
    assert {jan5: 1}[from_fields(0, 1, 5)] == 1


def test_arithmetic_before_year_1_is_exact() -> None:
    dec31 = parse_yyyymmdd("00001231")
    # Go: 0000-12-31 plus 24h is the zero time itself (IsZero true)
    assert add_duration(dec31, NANOS_PER_DAY) == ZERO_TIME and type(add_duration(dec31, NANOS_PER_DAY)) is datetime
    assert add_duration(ZERO_TIME, -NANOS_PER_DAY) == dec31
    assert add_years(parse_yyyymmdd("00000229"), 21) == datetime(21, 3, 1)  # Go: 0021-03-01
    assert add_years(datetime(3, 1, 1), -7) == from_fields(-4, 1, 1)
    assert datetime(2000, 1, 1) - dec31 == timedelta(days=730120)
    assert dec31 + timedelta(days=1) == ZERO_TIME and dec31 - timedelta(days=365) == from_fields(0, 1, 1)
    assert dec31.replace(hour=5).hour == 5 and dec31.replace(hour=5) > dec31
    assert f"{years_since(datetime(2019, 11, 11), parse_yyyymmdd('00000105')):.1f}" == "292.3"
    assert pickle.loads(pickle.dumps(dec31)) == dec31 == copy.deepcopy(dec31)
    with pytest.raises(ValueError):
        BeforeYearOne(0)
