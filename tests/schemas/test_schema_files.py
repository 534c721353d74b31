"""The schema files are valid JSON Schema 2020-12 documents and document every field they define."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_FILES = sorted(SCHEMAS_DIR.glob("*.schema.json"))
EXPECTED_NAMES = ["dead-letter.v1", "determination.v1", "dismissal-candidate.v1", "record-change.v1"]


def _name(path: Path) -> str:
    return path.name.removesuffix(".schema.json")


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _field_definitions(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, subschema) of every named property of the document and of its ``$defs``.

    Property lists inside ``if``/``then``/``else`` only restate constraints of fields defined elsewhere.
    """

    def walk(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, sub in schema.get("properties", {}).items():
            yield f"{where}.{name}", sub
            yield from walk(sub, f"{where}.{name}")
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], f"{where}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            yield f"{where}.*", schema["additionalProperties"]

    yield from walk(document, "$")
    for name, sub in document.get("$defs", {}).items():
        yield from walk(sub, f"$defs.{name}")


def test_the_contract_has_exactly_the_four_schemas() -> None:
    assert [_name(p) for p in SCHEMA_FILES] == EXPECTED_NAMES


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=_name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    document = _load(path)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=_name)
def test_schema_is_identified_and_titled(path: Path) -> None:
    document = _load(path)
    assert document["$id"] == f"https://clearance-streams.example/schemas/{_name(path)}.json"
    assert document["title"].strip()
    assert document["description"].strip()
    assert document["properties"]["schema"]["const"] == _name(path)
    assert "schema" in document["required"]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=_name)
def test_every_field_has_a_description(path: Path) -> None:
    document = _load(path)
    defs = document.get("$defs", {})
    undocumented = []
    for where, sub in _field_definitions(document):
        target = sub
        if "description" not in sub and "$ref" in sub:
            target = defs[sub["$ref"].removeprefix("#/$defs/")]
        if not str(target.get("description", "")).strip():
            undocumented.append(where)
    assert undocumented == []


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=_name)
def test_every_required_property_is_defined(path: Path) -> None:
    document = _load(path)
    assert set(document["required"]) <= set(document["properties"])
