"""streams.events.schemas: loading by name, validation with the contract's asserted formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import ValidationError

from streams.events.schemas import (
    FORMAT_CHECKER,
    SCHEMA_NAMES,
    errors,
    load_schema,
    schema_file,
    validate,
    validator,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "record-change.v1.example.json"


def _event() -> dict[str, object]:
    event: dict[str, object] = json.loads(EXAMPLE.read_text("utf-8"))
    return event


def test_unknown_schema_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown schema"):
        schema_file("record-change.v9")


def test_validate_raises_the_most_relevant_error() -> None:
    event = _event()
    event["subject_id"] = 12
    with pytest.raises(ValidationError) as caught:
        validate("record-change.v1", event)
    assert list(caught.value.absolute_path) == ["subject_id"]


def test_errors_lists_every_violation() -> None:
    event = _event()
    event["subject_id"] = ""
    event["event_id"] = ""
    assert sorted(e.absolute_path[0] for e in errors("record-change.v1", event)) == ["event_id", "subject_id"]
    assert errors("record-change.v1", _event()) == []


def test_formats_are_asserted() -> None:
    event = _event()
    event["emitted_at"] = "2023-02-29T00:00:00Z"  # matches the pattern, fails the format
    assert [e.validator for e in errors("record-change.v1", event)] == ["format"]
    assert FORMAT_CHECKER.checkers.keys() == {"date", "date-time"}


def test_load_schema_returns_a_private_copy() -> None:
    copy = load_schema("determination.v1")
    copy["properties"].clear()
    assert load_schema("determination.v1")["properties"]


def test_validators_are_compiled_once() -> None:
    for name in SCHEMA_NAMES:
        assert validator(name) is validator(name)
