"""The schemas the code loads are exactly the canonical files of the top-level ``schemas/`` folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.events.schemas import SCHEMA_NAMES, load_schema, schema_file

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def test_the_package_knows_every_canonical_schema() -> None:
    canonical = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS_DIR.glob("*.schema.json"))
    assert sorted(SCHEMA_NAMES) == canonical


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_packaged_copy_is_byte_equal(name: str) -> None:
    canonical = (SCHEMAS_DIR / f"{name}.schema.json").read_bytes()
    assert schema_file(name).read_bytes() == canonical, (
        f"streams/events/schemas/{name}.schema.json differs from schemas/; "
        "copy the canonical file: cp schemas/*.schema.json streams/events/schemas/"
    )


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_loaded_schema_is_the_canonical_document(name: str) -> None:
    assert load_schema(name) == json.loads((SCHEMAS_DIR / f"{name}.schema.json").read_text("utf-8"))


def test_package_holds_no_stale_schema() -> None:
    packaged = Path(str(schema_file(SCHEMA_NAMES[0]))).parent
    assert sorted(p.name for p in packaged.glob("*.json")) == sorted(f"{n}.schema.json" for n in SCHEMA_NAMES)
