"""Names, headers and small writers of gogen's output files (spec §2, §9; G:gogen.go, G:utilities).

Per input file ``i`` of ``n``: ``All_Results<idx><suf>.csv``, ``All_Results_Condensed<idx><suf>.csv`` and
``Prop64_Results<idx><suf>.csv``, where ``<idx>`` is ``_i`` only when ``n > 1`` and ``<suf>`` is
``_<suffix>`` when a suffix is given. Per run: the summary ``gogen<suf>.json`` (also written as
``summary<suf>.json``, the name the project's issue uses, with the same bytes) or, when something failed, the
error file ``gogen<suf>.err``: ``{"<input path or empty>": {"errorType": "OTHER"|"PARSING", "errorMessage": ...}}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TextIO

from streams.doj.columns import COLUMNS, CONDENSED_COLUMNS
from streams.gocompat.gocsv import encode_record
from streams.gocompat.gojson import GoMap, go_json
from streams.rules.info import ELIGIBILITY_COLUMNS
from streams.summary import SummaryDocument

OTHER = "OTHER"
PARSING = "PARSING"

FULL_HEADER = encode_record((*COLUMNS, *ELIGIBILITY_COLUMNS)) + "\n"
CONDENSED_HEADER = encode_record((*CONDENSED_COLUMNS, *ELIGIBILITY_COLUMNS)) + "\n"


@contextmanager
def open_result_files(
    targets: Sequence[str], *, headers: bool = True
) -> Iterator[tuple[TextIO, TextIO, TextIO]]:
    """All_Results, All_Results_Condensed and Prop64_Results opened for writing, headers written (unless
    ``headers`` is false: the files of a later part of the input, appended to the first part's).

    Surrogate escapes round-trip bytes that are not UTF-8 exactly as they were read; newline="" keeps Go's "\n".
    """
    full, condensed, prop64 = targets
    with ExitStack() as stack:
        files = tuple(
            stack.enter_context(open(name, "w", encoding="utf-8", errors="surrogateescape", newline=""))
            for name in (full, condensed, prop64)
        )
        if headers:
            files[0].write(FULL_HEADER)
            files[1].write(CONDENSED_HEADER)
            files[2].write(FULL_HEADER)
        yield files  # type: ignore[misc]


def _suffix(suffix: str) -> str:
    return f"_{suffix}" if suffix else ""


@dataclass(frozen=True, slots=True)
class ResultPaths:
    """The three CSV files written for one input file."""

    all_results: str
    condensed: str
    prop64: str


def result_paths(outputs: str, file_index: int, file_count: int, suffix: str = "") -> ResultPaths:
    """Result file names for input ``file_index`` (1-based) of ``file_count``."""
    tail = (f"_{file_index}" if file_count > 1 else "") + _suffix(suffix) + ".csv"
    return ResultPaths(
        all_results=os.path.join(outputs, "All_Results" + tail),
        condensed=os.path.join(outputs, "All_Results_Condensed" + tail),
        prop64=os.path.join(outputs, "Prop64_Results" + tail),
    )


def summary_paths(outputs: str, suffix: str = "") -> tuple[str, str]:
    """gogen's summary name and the issue's ``summary`` alias, both written with identical content."""
    tail = _suffix(suffix) + ".json"
    return os.path.join(outputs, "gogen" + tail), os.path.join(outputs, "summary" + tail)


def error_path(outputs: str, suffix: str = "") -> str:
    return os.path.join(outputs, "gogen" + _suffix(suffix) + ".err")


def error_document(errors: Mapping[str, tuple[str, str]]) -> str:
    """The error file's JSON: input path (``""`` for a run-level error) → (error type, message)."""
    return go_json(
        GoMap({path: {"errorType": kind, "errorMessage": message} for path, (kind, message) in errors.items()})
    )


def write_error_file(outputs: str, suffix: str, errors: Mapping[str, tuple[str, str]]) -> str:
    """Write ``gogen<suf>.err`` (creating the folder if needed) and return its path."""
    path = error_path(outputs, suffix)
    os.makedirs(outputs or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        handle.write(error_document(errors))
    return path


def summary_json(document: SummaryDocument) -> str:
    """The summary as Go marshals gogen's ``Summary`` struct (inner maps sorted by key)."""
    body = {
        key: GoMap(value) if isinstance(value, dict) else value
        for key, value in document.to_json_object().items()
    }
    return go_json(body)


def write_summary(outputs: str, suffix: str, document: SummaryDocument) -> tuple[str, str]:
    """Write the summary under both names; returns the paths."""
    text = summary_json(document)
    paths = summary_paths(outputs, suffix)
    for path in paths:
        with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(text)
    return paths
