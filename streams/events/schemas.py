"""The contract's JSON Schemas, packaged with the code, and jsonschema validation for tests and tools.

The canonical files live in the repository's top-level ``schemas/``; ``streams/events/schemas/`` holds
byte-equal copies so they ship inside the wheel and load the same way from a checkout or an installation
(``tests/schemas/test_packaging.py`` fails when the copies drift). The worker's hot path does not use
jsonschema (see :mod:`streams.events.validation`).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match

from streams.events.model import DEAD_LETTER_V1, DETERMINATION_V1, DISMISSAL_CANDIDATE_V1, RECORD_CHANGE_V1
from streams.events.timefmt import is_date, is_date_time

SCHEMA_NAMES: tuple[str, ...] = (RECORD_CHANGE_V1, DETERMINATION_V1, DISMISSAL_CANDIDATE_V1, DEAD_LETTER_V1)

# The contract asserts its formats. jsonschema only checks "date-time" with an optional extra installed, and
# its checks would differ from the codec's; this checker uses the codec's own definitions and nothing else.
FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date")(is_date)
FORMAT_CHECKER.checks("date-time")(is_date_time)


def schema_file(name: str) -> Traversable:
    """The packaged schema file of ``name`` (a ``schema`` value such as ``record-change.v1``)."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    return resources.files(__package__) / "schemas" / f"{name}.schema.json"


@functools.cache
def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(schema_file(name).read_bytes())
    return document


def load_schema(name: str) -> dict[str, Any]:
    """A fresh copy of the schema document (callers may modify it)."""
    return copy.deepcopy(_document(name))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A compiled 2020-12 validator of ``name`` that asserts the ``date`` and ``date-time`` formats."""
    return Draft202012Validator(_document(name), format_checker=FORMAT_CHECKER)


def validate(name: str, obj: object) -> None:
    """Raise the most relevant :class:`jsonschema.ValidationError` when ``obj`` breaks schema ``name``."""
    error = best_match(validator(name).iter_errors(obj))
    if error is not None:
        raise error


def errors(name: str, obj: object) -> list[ValidationError]:
    """Every violation of schema ``name`` by ``obj`` (empty when valid)."""
    return list(validator(name).iter_errors(obj))
