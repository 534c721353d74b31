"""The hand-written validator gives exactly the JSON Schema's verdicts (jsonschema, the contract's formats).

Valid events, events with one random mutation and arbitrary JSON values are generated; for each, the hand
validator must accept exactly when jsonschema does, and when it rejects, the JSON path its message starts with
must be the location of one of jsonschema's errors.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError

from streams.doj.columns import COLUMNS
from streams.errors import EventError
from streams.events.codec import decode_record_change
from streams.events.schemas import validator
from streams.events.validation import json_type, parse_record_change

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "schemas" / "examples"
TEXT = st.characters(exclude_categories=("Cs",))
SCALARS = st.one_of(
    st.text(TEXT, max_size=12),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
JSON = st.recursive(
    st.one_of(SCALARS, st.booleans()),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(TEXT, max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
SEQUENCES = st.one_of(st.integers(0, 2**63 - 1), st.integers(0, 2**40).map(float))
RECORD_KEYS = st.one_of(st.text(TEXT, min_size=1, max_size=16), st.text(TEXT, min_size=195, max_size=200))


@st.composite
def date_times(draw: st.DrawFn) -> str:
    moment = draw(
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
    )
    offset = timezone(timedelta(minutes=draw(st.integers(-23 * 60 - 59, 23 * 60 + 59))))
    text = moment.astimezone(offset).isoformat()
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


def _upserts() -> st.SearchStrategy[dict[str, Any]]:
    record = st.dictionaries(
        st.one_of(st.sampled_from(COLUMNS), st.text(TEXT, max_size=10)), SCALARS, max_size=8
    )
    return st.fixed_dictionaries(
        {"op": st.just("upserted"), "record_key": RECORD_KEYS, "sequence": SEQUENCES, "record": record},
        optional={"note": JSON},
    )


def _retracts() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"op": st.just("retracted"), "record_key": RECORD_KEYS},
        optional={"sequence": SEQUENCES, "note": JSON},
    )


def _corrections() -> st.SearchStrategy[dict[str, Any]]:
    attributes = st.dictionaries(
        st.sampled_from(["PRI_DOB", "PRI_NAME", "CII_NUMBER", "GENDER"]),
        st.one_of(st.text(TEXT, max_size=10), st.none()), min_size=1, max_size=4,
    )
    return st.fixed_dictionaries({"op": st.just("corrected"), "attributes": attributes}, optional={"note": JSON})


def _snapshots() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"source": st.text(TEXT, min_size=1, max_size=200), "extract_id": st.text(TEXT, min_size=1, max_size=200)},
        optional={"part": st.integers(1, 2**40), "parts": st.integers(1, 2**40), "note": JSON},
    )


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(
        ["record.upserted", "record.retracted", "record.changed", "record.snapshot", "extract.completed"]
    ))
    change = {"record.upserted": _upserts(), "record.retracted": _retracts(), "record.snapshot": _upserts()}.get(
        event_type, st.one_of(_upserts(), _retracts(), _corrections())
    )
    event = {
        "schema": "record-change.v1",
        "event_id": draw(st.text(TEXT, min_size=1, max_size=200)),
        "type": event_type,
        "source_agency": draw(st.text(TEXT, min_size=1, max_size=200)),
        "emitted_at": draw(date_times()),
    }
    if event_type != "extract.completed" or draw(st.booleans()):
        event["subject_id"] = draw(st.text(TEXT, min_size=1, max_size=64))
    if event_type != "extract.completed" or draw(st.booleans()):
        event["changes"] = draw(st.lists(change, min_size=1, max_size=5))
    if event_type in ("record.snapshot", "extract.completed") or draw(st.booleans()):
        event["snapshot"] = draw(_snapshots())
    extra = draw(
        st.dictionaries(st.text(TEXT, max_size=8).filter(lambda k: k not in event), JSON, max_size=2)
    )
    return event | extra


# Replacement values chosen to hit every check: wrong JSON types, boundaries and the contract's own words.
SPECIAL_VALUES: list[object] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    1.5,
    -0.0,
    3.0,
    "",
    "x",
    "x" * 64,
    "x" * 65,
    "x" * 200,
    "x" * 201,
    [],
    [1],
    {},
    {"op": "upserted"},
    "upserted",
    "retracted",
    "record.upserted",
    "record.retracted",
    "record.changed",
    "record.deleted",
    "record-change.v1",
    "record-change.v2",
    "2024-02-30T00:00:00Z",
    "2024-05-01T16:30:05",
    "2016-12-31T23:59:60Z",
    "2024-05-01T16:30:05Z\n",
]
NASTY = st.one_of(st.sampled_from(SPECIAL_VALUES), JSON)


def _locations(value: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _locations(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _locations(child, (*path, index))


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(valid_events())
    path = draw(st.sampled_from(list(_locations(event))[1:]))
    parent: Any = event
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "delete", "insert"]))
    if action == "delete":
        del parent[path[-1]]
    elif action == "insert" and isinstance(parent, list):
        parent.insert(path[-1], draw(st.one_of(NASTY, _upserts(), _retracts())))
    else:
        parent[path[-1]] = draw(NASTY)
    return event


def _all_errors(found: Iterable[ValidationError]) -> Iterator[ValidationError]:
    for error in found:
        yield error
        yield from _all_errors(error.context)


def _codec_path(parts: Iterable[Any]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier() and part.isascii():
            path += f".{part}"
        else:
            path += f"[{part!r}]"
    return path


def _assert_same_verdict(obj: object) -> None:
    schema_errors = list(_all_errors(validator("record-change.v1").iter_errors(obj)))
    try:
        event = parse_record_change(obj)
    except EventError as error:
        assert schema_errors, f"hand validator rejected a valid event: {error}"
        paths = {_codec_path(e.absolute_path) for e in schema_errors}
        assert str(error).split(": ", 1)[0] in paths
    else:
        assert not schema_errors, f"hand validator accepted an invalid event: {schema_errors[0].message}"
        assert isinstance(obj, dict)
        assert (event.event_id, event.subject_id, event.type) == (
            obj["event_id"],
            obj.get("subject_id", ""),
            obj["type"],
        )
        assert [getattr(c, "record_key", None) for c in event.changes] == [
            c.get("record_key") if c["op"] != "corrected" else None for c in obj.get("changes", [])
        ]


@given(valid_events())
@settings(max_examples=200)
def test_generated_valid_events_are_valid_for_both(event: dict[str, Any]) -> None:
    assert validator("record-change.v1").is_valid(event)
    _assert_same_verdict(event)


@given(mutated_events())
@settings(max_examples=600)
def test_mutated_events_get_the_same_verdict(event: dict[str, Any]) -> None:
    _assert_same_verdict(event)


def _single_mutations(event: dict[str, Any]) -> Iterator[object]:
    """Every copy of ``event`` with one location replaced by a special value, deleted, or an item added."""
    for path in list(_locations(event))[1:]:
        for action in ("replace", "delete", "insert"):
            for value in SPECIAL_VALUES if action != "delete" else [None]:
                mutated = copy.deepcopy(event)
                parent: Any = mutated
                for part in path[:-1]:
                    parent = parent[part]
                if action == "delete":
                    del parent[path[-1]]
                elif action == "insert":
                    if not isinstance(parent, list):
                        break
                    parent.insert(path[-1], value)
                else:
                    parent[path[-1]] = value
                yield mutated


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES_DIR.glob("record-change.v1*.example.json")), ids=lambda p: p.name
)
def test_every_single_mutation_of_an_example_gets_the_same_verdict(path: Path) -> None:
    event = json.loads(path.read_text("utf-8"))
    count = 0
    for mutated in _single_mutations(event):
        _assert_same_verdict(mutated)
        count += 1
    assert count > 100


@given(JSON)
@settings(max_examples=200)
def test_arbitrary_json_gets_the_same_verdict(value: object) -> None:
    _assert_same_verdict(value)


def test_long_odd_keys_are_shortened_in_messages() -> None:
    event = {
        "schema": "record-change.v1",
        "event_id": "e",
        "type": "record.upserted",
        "source_agency": "a",
        "emitted_at": "2024-05-01T16:30:05Z",
        "subject_id": "s",
        "changes": [{"op": "upserted", "record_key": "k", "sequence": 0, "record": {"é" * 100: []}}],
    }
    try:
        parse_record_change(event)
    except EventError as error:
        assert (
            str(error)
            == f"$.changes[0].record[{'é' * 61 + '...'!r}]: must be a string, number or null, not an array"
        )
    else:
        raise AssertionError("accepted an array value")


def test_json_type_names() -> None:
    assert [json_type(v) for v in ({}, [], "", 1, 1.0, True, None)] == [
        "an object",
        "an array",
        "a string",
        "an integer",
        "a number",
        "a boolean",
        "null",
    ]



def _example_with_sequence(text: bytes) -> bytes:
    """The valid example with its first record's sequence written as ``text`` (JSON number text, unparsed)."""
    raw = (EXAMPLES_DIR / "record-change.v1.example.json").read_bytes()
    assert raw.count(b'"sequence": 0,') == 1
    return raw.replace(b'"sequence": 0,', b'"sequence": ' + text + b",")


@pytest.mark.parametrize("text", [b"18446744073709551616", b"9223372036854775808", b"1e30"])
def test_a_sequence_beyond_64_bits_is_a_schema_error_for_both(text: bytes) -> None:
    """Issue #10 (8): such a sequence passed the contract, then failed to store (``processing``, counted twice)."""
    raw = _example_with_sequence(text)
    with pytest.raises(EventError) as caught:
        decode_record_change(raw)
    assert caught.value.kind == "schema"
    assert str(caught.value) == "$.changes[0].sequence: must be <= 9223372036854775807"
    assert list(validator("record-change.v1").iter_errors(json.loads(raw)))  # the JSON Schema agrees


def test_the_largest_sequence_is_accepted_by_both() -> None:
    raw = _example_with_sequence(b"9223372036854775807")
    assert decode_record_change(raw).changes[0].sequence == 2**63 - 1  # type: ignore[union-attr]
    assert not list(validator("record-change.v1").iter_errors(json.loads(raw)))
