"""Go ``encoding/json`` output for the summary and error files (expected texts produced with Go 1.26)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from streams.gocompat.dates import parse_yyyymmdd
from streams.gocompat.gojson import GoMap, go_float, go_json, go_string, go_time


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (1.0, "1"),
        (0.5, "0.5"),
        (12.3456789, "12.3456789"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (0.000001234, "0.000001234"),
        (3.0000000000000004, "3.0000000000000004"),
        (1e20, "100000000000000000000"),
        (123456789012345678901.0, "123456789012345680000"),
        (1e21, "1e+21"),
        (1.5e22, "1.5e+22"),
        (-2.5, "-2.5"),
    ],
)
def test_floats(value: float, text: str) -> None:
    assert go_float(value) == text


def test_non_finite_floats_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        go_float(float("nan"))


def test_string_escapes() -> None:
    assert go_string('x\u2028y\b\f\x01"\\é<>&\x7f') == '"x\\u2028y\\b\\f\\u0001\\"\\\\é\\u003c\\u003e\\u0026\x7f"'
    # Go's json.Marshal("A\xe9B\xef\xbf\xbdC") is "A\ufffdB�C": an undecodable byte (a surrogate escape
    # here) becomes the six characters \ufffd, a real U+FFFD stays itself (quirk 23)
    assert go_string("A\udce9B\ufffdC") == '"A\\ufffdB\ufffdC"'
    assert go_string("a\udcffb") != '"a\ufffdb"'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(1979, 6, 1), '"1979-06-01T00:00:00Z"'),
        (datetime(1, 1, 1), '"0001-01-01T00:00:00Z"'),
        (datetime(2020, 1, 2, 3, 4, 5, 120000), '"2020-01-02T03:04:05.12Z"'),
        (
            datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=-7))),
            '"2020-01-02T03:04:05.123456-07:00"',
        ),
        (datetime(2020, 1, 2, tzinfo=UTC), '"2020-01-02T00:00:00Z"'),
        (parse_yyyymmdd("00000105"), '"0000-01-05T00:00:00Z"'),  # Go's Marshal of time.Parse("20060102", …)
    ],
)
def test_times(value: datetime, text: str) -> None:
    assert go_time(value) == text


def test_structs_keep_order_and_maps_sort() -> None:
    value = {"z": 1, "a": GoMap({"b<>&": "x", "a": 2, "B": True}), "n": None, "l": [1.5, "s"]}
    assert go_json(value) == '{"z":1,"a":{"B":true,"a":2,"b\\u003c\\u003e\\u0026":"x"},"n":null,"l":[1.5,"s"]}'


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        go_json(object())
