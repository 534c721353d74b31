"""RFC 3339 checks and conversions shared by the codec, the schemas' format checker and the builders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.events.timefmt import (
    _parse_general,
    format_date,
    format_date_time,
    is_date,
    is_date_time,
    parse_date_time,
)

VALID_DATE_TIMES = [
    "2024-05-01T16:30:05Z",
    "2024-05-01t16:30:05z",
    "2024-05-01T16:30:05.250Z",
    "2024-05-01T16:30:05.123456789+05:30",
    "2024-02-29T00:00:00-08:00",
    "2016-12-31T23:59:60Z",  # leap second
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59+23:59",
]
INVALID_DATE_TIMES = [
    "2024-05-01T16:30:05",  # no offset
    "2024-05-01 16:30:05Z",  # space separator
    "2024-05-01T16:30Z",  # no seconds
    "2023-02-29T00:00:00Z",  # not a leap year
    "2024-13-01T00:00:00Z",
    "2024-00-10T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T23:60:00Z",
    "2024-05-01T23:59:61Z",
    "2024-05-01T16:30:05+24:00",
    "2024-05-01T16:30:05+05:60",
    "2024-05-01T16:30:05.Z",
    "2024-05-01T16:30:05Z\n",
    "２０２４-05-01T16:30:05Z",  # non-ASCII digits
    "20240501T163005Z",
    "",
]


@pytest.mark.parametrize("text", VALID_DATE_TIMES)
def test_valid_date_times(text: str) -> None:
    assert is_date_time(text)


@pytest.mark.parametrize("text", INVALID_DATE_TIMES)
def test_invalid_date_times(text: str) -> None:
    assert not is_date_time(text)
    with pytest.raises(ValueError):
        parse_date_time(text)


@pytest.mark.parametrize("text", ["2024-02-29", "2000-02-29", "0000-02-29", "1999-12-31"])
def test_valid_dates(text: str) -> None:
    assert is_date(text)


@pytest.mark.parametrize(
    "text", ["1900-02-29", "2023-02-29", "2024-06-31", "2024-1-01", "2024-01-01\n", "01/01/0001"]
)
def test_invalid_dates(text: str) -> None:
    assert not is_date(text)


@pytest.mark.parametrize("value", [None, 3, 1.5, [], {}])
def test_formats_ignore_non_strings_as_json_schema_requires(value: object) -> None:
    assert is_date(value) and is_date_time(value)


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_parse_date_time_is_the_same_instant_in_utc(moment: datetime, offset_minutes: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    parsed = parse_date_time(local.isoformat())
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2016-12-31T23:59:60Z",
            datetime(2017, 1, 1, tzinfo=UTC),
        ),  # a leap second is the next second's start
        ("2024-05-01T16:30:05.1234565Z", datetime(2024, 5, 1, 16, 30, 5, 123456, tzinfo=UTC)),
        ("2024-05-01T16:30:05.9999999+02:00", datetime(2024, 5, 1, 14, 30, 6, tzinfo=UTC)),
        ("2024-05-01T16:30:05.5z", datetime(2024, 5, 1, 16, 30, 5, 500_000, tzinfo=UTC)),
        ("0000-12-31T00:00:00Z", datetime.min.replace(tzinfo=UTC)),
        ("0001-01-01T00:00:00+00:01", datetime.min.replace(tzinfo=UTC)),
        ("9999-12-31T23:59:59-00:01", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_parse_date_time_edges(text: str, expected: datetime) -> None:
    assert parse_date_time(text) == expected


def test_format_date_time_writes_utc_with_milliseconds() -> None:
    aware = datetime(2024, 5, 1, 9, 30, 5, 250_000, tzinfo=timezone(timedelta(hours=-7)))
    assert format_date_time(aware) == "2024-05-01T16:30:05.250Z"
    assert format_date_time(datetime(2024, 5, 1, 16, 30, 5)) == "2024-05-01T16:30:05.000Z"
    assert format_date_time(aware, timespec="microseconds") == "2024-05-01T16:30:05.250000Z"


def test_format_date_time_passes_valid_strings_and_rejects_others() -> None:
    assert format_date_time("2024-05-01T16:30:05+02:00") == "2024-05-01T16:30:05+02:00"
    with pytest.raises(ValueError):
        format_date_time("2024-05-01")


def test_format_date() -> None:
    assert format_date(datetime(2019, 11, 11)) == "2019-11-11"
    assert format_date(date(1, 1, 1)) == "0001-01-01"


@given(st.builds(
    lambda y, mo, d, h, mi, se, frac, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{se:02d}{frac}{off}",
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 60), st.sampled_from(["", ".5", ".123456", ".1234567"]),
    st.one_of(st.just("Z"), st.builds(lambda sign, hh, mm: f"{sign}{hh:02d}:{mm:02d}", st.sampled_from("+-"),
                                      st.integers(0, 24), st.integers(0, 60))),
))
def test_the_fast_path_gives_the_general_answer_or_the_same_error(text: str) -> None:
    """``parse_date_time`` reads the common form with ``fromisoformat``; it must agree with the general parser
    on every string, valid or not."""
    try:
        expected: datetime | type[ValueError] = _parse_general(text)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            parse_date_time(text)
        assert not is_date_time(text)
    else:
        assert parse_date_time(text) == expected
