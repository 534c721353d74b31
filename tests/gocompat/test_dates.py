"""Go date semantics the rules rely on (additions to the skeleton's dates module)."""

from __future__ import annotations

from datetime import datetime, timedelta

from streams.gocompat.dates import (
    MAX_DURATION,
    MAX_TIME,
    NANOS_PER_DAY,
    ZERO_TIME,
    add_duration,
    add_years,
    hours,
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
