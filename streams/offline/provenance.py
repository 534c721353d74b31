"""``run.json``: what produced a run's outputs, and the rule that a run never silently replaces an earlier one.

Every ``clearance classify`` run writes ``run<suf>.json`` beside its outputs (also when it fails): the inputs
(path, bytes, SHA-256, rows), county, flow, options as given and as parsed, compute-at, ruleset and package
version, start and end time, the exit status, the errors and every output file with its SHA-256.

Overwrite policy (refusal, not timestamped folders, so gogen's paths stay where callers look for them): a folder
that holds the outputs of an earlier *successful* run with the same file names (its summary, result CSVs, report
or ``run.json``) is refused unless ``--overwrite``; the leftovers of a failed run (``gogen.err`` without a
summary) are replaced, since they are what the user is re-running to fix. With ``--overwrite`` the earlier run's
files (this run's names and those its ``run.json`` lists) are removed first, so no stale file stays behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams import RULESET_VERSION, __version__
from streams.offline.files import error_path, result_paths, summary_paths
from streams.summary import SummaryCounts, SummaryDocument

CHUNK = 1 << 20


def _tail(suffix: str) -> str:
    return f"_{suffix}" if suffix else ""


def run_json_path(outputs: str, suffix: str = "") -> str:
    return os.path.join(outputs, f"run{_tail(suffix)}.json")


def report_paths(outputs: str, suffix: str = "") -> tuple[str, str]:
    """``Summary_Report<suf>.html`` and ``.pdf`` (BEAR's name for its PDF)."""
    base = os.path.join(outputs, f"Summary_Report{_tail(suffix)}")
    return base + ".html", base + ".pdf"


def pilots_paths(outputs: str, file_count: int, suffix: str = "") -> tuple[list[str], str]:
    """gogen_pilots' LA outputs: ``gogen_pilots_<i><suf>.out`` per input and ``gogen_pilots<suf>.json``."""
    tail = _tail(suffix)
    outs = [os.path.join(outputs, f"gogen_pilots_{i}{tail}.out") for i in range(1, file_count + 1)]
    return outs, os.path.join(outputs, f"gogen_pilots{tail}.json")


def run_file_names(outputs: str, file_count: int, suffix: str = "") -> list[str]:
    """Every path a run with these names may write."""
    names: list[str] = []
    for number in range(1, file_count + 1):
        paths = result_paths(outputs, number, file_count, suffix)
        names += [paths.all_results, paths.condensed, paths.prop64]
    names += [*summary_paths(outputs, suffix), error_path(outputs, suffix), run_json_path(outputs, suffix)]
    names += [*report_paths(outputs, suffix)]
    outs, pilots_json = pilots_paths(outputs, file_count, suffix)
    return [*names, *outs, pilots_json]


@dataclass(frozen=True, slots=True)
class Earlier:
    """What an outputs folder already holds of a run with the same names."""

    present: tuple[str, ...]
    failed: bool  # a failed run's leftovers: an error file and no summary
    listed: tuple[str, ...] = ()  # the outputs the earlier run.json names

    @property
    def blocks(self) -> bool:
        return bool(self.present) and not self.failed


def earlier_run(outputs: str, file_count: int, suffix: str = "") -> Earlier:
    present = tuple(path for path in run_file_names(outputs, file_count, suffix) if os.path.lexists(path))
    summary = summary_paths(outputs, suffix)
    failed = os.path.exists(error_path(outputs, suffix)) and not any(os.path.exists(p) for p in summary)
    listed: list[str] = []
    try:
        with open(run_json_path(outputs, suffix), encoding="utf-8") as handle:
            document = json.load(handle)
        listed = [os.path.join(outputs, os.path.basename(str(item["path"]))) for item in document.get("outputs", ())]
        if document.get("status") == "failed" and not any(os.path.exists(p) for p in summary):
            failed = True
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return Earlier(present, failed, tuple(p for p in listed if os.path.lexists(p)))


def refusal(outputs: str, earlier: Earlier, suffix: str) -> str:
    shown = ", ".join(os.path.basename(path) for path in earlier.present[:4])
    more = f" and {len(earlier.present) - 4} more" if len(earlier.present) > 4 else ""
    hint = "" if suffix else ", add --file-name-suffix"
    return (
        f"{outputs} already holds the outputs of an earlier run ({shown}{more}); runs never overwrite silently: "
        f"choose another --outputs folder{hint}, or pass --overwrite to replace them"
    )


def remove_earlier(earlier: Earlier) -> None:
    for path in dict.fromkeys([*earlier.present, *earlier.listed]):
        if os.path.lexists(path) and not os.path.isdir(path):
            os.remove(path)


def file_digest(path: str) -> tuple[int, str]:
    """Size in bytes and SHA-256 (hex) of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


@dataclass(slots=True)
class RunRecord:
    """What a run leaves for ``run.json``, the report and the closing line (filled in by ``run``)."""

    rows: dict[str, int] = field(default_factory=dict)  # input path → data rows
    counts: SummaryCounts | None = None
    document: SummaryDocument | None = None
    outputs: list[str] = field(default_factory=list)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # what stderr said where it says more than gogen
    warnings: list[str] = field(default_factory=list)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


Digests = Mapping[str, "tuple[int, str] | OSError"]


def file_digests(paths: Iterable[str], workers: int = 1) -> dict[str, tuple[int, str] | OSError]:
    """:func:`file_digest` of every path (or the error reading it), on ``workers`` threads.

    Hashing the input and the outputs reads every byte the run wrote once more; hashlib lets go of the GIL while
    it hashes, so with the run's second core (``--jobs 2``) two files are hashed at once, largest first.
    """
    def digest(path: str) -> tuple[int, str] | OSError:
        try:
            return file_digest(path)
        except OSError as exc:
            return exc

    unique = list(dict.fromkeys(paths))
    if workers <= 1 or len(unique) <= 1:
        return {path: digest(path) for path in unique}

    def size(path: str) -> int:
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clearance-digest") as pool:
        done = dict(zip(order := sorted(unique, key=size, reverse=True), pool.map(digest, order), strict=True))
    return {path: done[path] for path in unique}


def input_entries(paths: Iterable[str], rows: Mapping[str, int], digests: Digests | None = None) -> list[
        dict[str, Any]]:
    """``digests`` (optional): :func:`file_digests` of the paths, computed beforehand."""
    paths = list(paths)
    digests = file_digests(paths) if digests is None else digests
    entries: list[dict[str, Any]] = []
    for path in paths:
        entry: dict[str, Any] = {"path": path, "absolute_path": os.path.abspath(path)}
        found = digests[path]
        if isinstance(found, OSError):
            entry["bytes"], entry["sha256"] = None, None
            entry["error"] = found.strerror or str(found)
        else:
            entry["bytes"], entry["sha256"] = found
        entry["rows"] = rows.get(path)
        entries.append(entry)
    return entries


def output_entries(paths: Iterable[str], digests: Digests | None = None) -> list[dict[str, Any]]:
    """``digests`` (optional): :func:`file_digests` of the paths, computed beforehand."""
    files = [path for path in dict.fromkeys(paths) if os.path.isfile(path)]
    digests = file_digests(files) if digests is None else digests
    entries = []
    for path in files:
        found = digests[path]
        if isinstance(found, OSError):
            raise found
        size, digest = found
        entries.append({"path": os.path.basename(path), "bytes": size, "sha256": digest})
    return entries


def run_document(
    *,
    arguments: Mapping[str, Any],
    inputs: Sequence[Mapping[str, Any]],
    county: str | None,
    flow: str | None,
    options_given: Any,
    options_parsed: Any,
    compute_at: datetime | None,
    started_at: datetime,
    finished_at: datetime,
    status: int,
    record: RunRecord,
    outputs: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    counts = record.counts
    evaluated = dict(counts.evaluated) if counts else {}
    return {
        "tool": "clearance classify",
        "version": __version__,
        "ruleset": RULESET_VERSION,
        "status": "succeeded" if status == 0 else "failed",
        "exit_status": status,
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "county": county,
        "flow": flow,
        "compute_at": None if compute_at is None else compute_at.date().isoformat(),
        "options": {"given": options_given, "parsed": options_parsed},
        "arguments": dict(arguments),
        "inputs": list(inputs),
        "figures": None if counts is None else {
            "rows": counts.line_count,
            "people_evaluated": counts.subjects_evaluated,
            "convictions_evaluated": sum(evaluated.values()),
            "by_determination": dict(sorted(evaluated.items())),
        },
        "errors": {
            path: {"errorType": kind, "errorMessage": message} for path, (kind, message) in record.errors.items()
        },
        "warnings": list(record.warnings),
        "outputs": list(outputs),
    }


def write_run_json(path: str, document: Mapping[str, Any]) -> str:
    staged = f"{path}.partial"
    with open(staged, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(document, handle, indent=2)  # ASCII: names with undecodable bytes stay valid JSON
        handle.write("\n")
    os.replace(staged, path)
    return path
