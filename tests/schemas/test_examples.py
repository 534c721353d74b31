"""Every example validates; every invalid example fails, for the reason its file name gives.

Invalid examples are named ``<schema>__<reason>__<keyword>@<path>.json``: the JSON Schema keyword that must
fail and the dotted path of the failing value (``root`` for the top level), e.g.
``record-change.v1__negative-sequence__minimum@changes.0.sequence.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from jsonschema import ValidationError

from streams.errors import EventError
from streams.events.codec import decode_record_change
from streams.events.model import RECORD_CHANGE_V1
from streams.events.schemas import SCHEMA_NAMES, errors

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "schemas" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.example.json"))
INVALID = sorted((EXAMPLES_DIR / "invalid").glob("*.json"))


def _schema_of(path: Path) -> str:
    names = [name for name in SCHEMA_NAMES if path.name.startswith(f"{name}.")]
    assert len(names) == 1, f"{path.name} does not start with a schema name"
    return names[0]


def _all_errors(found: Iterable[ValidationError]) -> Iterator[ValidationError]:
    for error in found:
        yield error
        yield from _all_errors(error.context)


def _dotted(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "root"


def _json_path(dotted: str) -> str:
    """The codec's notation of a dotted path: ``changes.0.op`` → ``$.changes[0].op``."""
    if dotted == "root":
        return "$"
    return "$" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in dotted.split("."))


def test_every_schema_has_an_example() -> None:
    assert {_schema_of(p) for p in EXAMPLES} == set(SCHEMA_NAMES)
    for name in SCHEMA_NAMES:
        assert (EXAMPLES_DIR / f"{name}.example.json").is_file()


def test_every_schema_has_invalid_examples() -> None:
    assert {p.name.split("__")[0] for p in INVALID} == set(SCHEMA_NAMES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates(path: Path) -> None:
    assert errors(_schema_of(path), json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_example_fails_for_its_reason(path: Path) -> None:
    name, reason, expected = path.name.removesuffix(".json").split("__")
    keyword, dotted = expected.split("@")
    assert name in SCHEMA_NAMES and reason
    found = {
        (e.validator, _dotted(e)) for e in _all_errors(errors(name, json.loads(path.read_text("utf-8"))))
    }
    assert (keyword, dotted) in found


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLES if _schema_of(p) == RECORD_CHANGE_V1], ids=lambda p: p.name
)
def test_record_change_examples_decode(path: Path) -> None:
    event = decode_record_change(path.read_bytes())
    assert event.event_id == json.loads(path.read_bytes())["event_id"]


@pytest.mark.parametrize(
    "path", [p for p in INVALID if p.name.startswith(f"{RECORD_CHANGE_V1}__")], ids=lambda p: p.name
)
def test_codec_rejects_invalid_record_changes_at_the_same_path(path: Path) -> None:
    dotted = path.name.removesuffix(".json").split("__")[2].split("@")[1]
    with pytest.raises(EventError) as caught:
        decode_record_change(path.read_bytes())
    expected_kind = "unknown_type" if dotted in ("schema", "type") else "schema"
    assert caught.value.kind == expected_kind
    assert str(caught.value).startswith(f"{_json_path(dotted)}:")
