"""``clearance classify --jobs N``: a large file classified in parts, one process a part, on N cores.

The file is cut at changes of person (:mod:`streams.offline.split`); each part is classified by the single
pass (:func:`streams.offline.single_pass.single_pass`) in a forked child process, which writes its own three
result files (the first part's with the headers) and returns its summary figures, its data-quality rows, its
row count and the SUBJECT_IDs it read. The parent appends the parts' files in order and adds the figures,
which are all sums (counts by key included), so the bytes are those of one process. The row indices of a part
count from its first row; the parent shifts the data-quality rows by the rows of the parts before.

The parts are used only when every one read without error and no person is in two of them. Otherwise the
answer is one process's: a person in two parts (or a part's people not consecutive) means the file is not
consecutive, so the caller takes the two passes, as one process would after its single pass; a part that
failed means an error whose message (with its line number in the whole file) only one process reading from the
start gives, so the caller classifies the file in one process, which reports it. Files below
:data:`MIN_BYTES` (or a pipe, or without ``fork``) are classified in one process: the parts would save less
than the processes cost.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import shutil
import signal
import stat
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any

from streams.doj.reader import ReadStats
from streams.offline.progress import ProgressBar
from streams.offline.quality import QualityLog
from streams.offline.settings import ClassifySettings
from streams.offline.single_pass import NotConsecutive, single_pass
from streams.offline.split import find_cuts, spans
from streams.summary import SummaryCounts, total

# Below this a file is classified in one process: two processes save ~0.02 s a MB on two cores and cost a few
# hundredths of a second to start, so the gain is small below a few MB; 8 MB is ~22,000 rows.
MIN_BYTES = 8 << 20
DEFAULT_MAX_JOBS = 2  # measured on two cores only (BENCHMARKS.md)

NOT_CONSECUTIVE = "not consecutive"
FAILED = "failed"

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Jobs:
    """How many processes may classify one file, and the size below which one does."""

    count: int = 1
    min_bytes: int = MIN_BYTES


def jobs_from_args(args: argparse.Namespace) -> Jobs:
    """``--jobs`` (default :func:`default_jobs`) and ``--jobs-min-bytes`` (default :data:`MIN_BYTES`)."""
    count = getattr(args, "jobs", None)
    min_bytes = getattr(args, "jobs_min_bytes", None)
    return Jobs(count=default_jobs() if count is None else count,
                min_bytes=MIN_BYTES if min_bytes is None else min_bytes)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which a container or ``taskset`` narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_jobs() -> int:
    """``--jobs`` when not given: the usable CPUs, at most :data:`DEFAULT_MAX_JOBS`."""
    return max(1, min(usable_cpus(), DEFAULT_MAX_JOBS))


def _can_fork() -> bool:
    # the flows hold closures, which only a forked child inherits (spawn would have to pickle them)
    return "fork" in multiprocessing.get_all_start_methods()


def plan(path: str, jobs: Jobs) -> list[Span] | None:
    """The parts to classify ``path`` in, or ``None`` for one process (one job, a small file or a pipe, no cut
    at a change of person, no ``fork``)."""
    if jobs.count < 2 or not _can_fork():
        return None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size < max(jobs.min_bytes, 1):
            return None
        cuts = find_cuts(path, info.st_size, jobs.count)
    except OSError:  # the one-process path reports it with Go's message
        return None
    return spans(info.st_size, cuts) if cuts else None


@dataclass(slots=True)
class PartsResult:
    """The merged figures and data-quality log of a file classified in parts."""

    counts: SummaryCounts
    log: QualityLog = field(default_factory=QualityLog)


def part_targets(targets: Sequence[str], number: int) -> list[str]:
    """The result files of part ``number`` (0: the staged files themselves)."""
    return list(targets) if number == 0 else [f"{target}.{number}" for target in targets]


def _part(
    path: str,
    span: Span,
    settings: ClassifySettings,
    targets: Sequence[str],
    possible_other_of: Callable[[str, str], str],
    position: Any,
    sender: Connection,
) -> None:
    """A child process: classify one part and send what the parent merges (or why it could not)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its children on Ctrl-C
    gc.disable()  # as in the one-process run: acyclic objects only, and the process ends after the part
    try:
        stats = ReadStats()
        log = QualityLog()
        people: set[str] = set()
        progress = None if position is None else partial(setattr, position, "value")
        parts = single_pass(path, settings, targets, possible_other_of, progress, stats, log, span=span,
                            people=people)
        counts = total(parts) + SummaryCounts(line_count=stats.rows)
        message: tuple[Any, ...] = ("done", counts, stats.rows, log.rows, log.counts, list(people))
    except NotConsecutive:
        message = (NOT_CONSECUTIVE,)
    except Exception:  # the one-process run gives the error its exact message
        message = (FAILED,)
    sender.send(message)
    sender.close()


def _append(target: str, part: str) -> None:
    """Append the file ``part`` to ``target`` (in the kernel where it can) and remove it."""
    with open(target, "r+b") as out, open(part, "rb") as source:
        out.seek(0, os.SEEK_END)
        remaining = os.fstat(source.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(source.fileno(), out.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except (AttributeError, OSError):  # no copy_file_range here: copy through Python
            shutil.copyfileobj(source, out, 1 << 20)
    os.remove(part)


def _remove_parts(targets: Sequence[str], count: int) -> None:
    for number in range(1, count):
        for name in part_targets(targets, number):
            if os.path.exists(name):
                os.remove(name)


def _collect(
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]],
    positions: list[Any] | None,
    parts: Sequence[Span],
    bar: ProgressBar | None,
) -> list[tuple[Any, ...]]:
    """Every child's message, in part order; stops early when a part cannot be used."""
    messages: dict[Connection, tuple[Any, ...]] = {}
    pending = [receiver for _, receiver in children]
    unusable = False
    while pending and not unusable:
        for ready in wait(pending, timeout=None if bar is None else bar.interval):
            assert isinstance(ready, Connection)
            pending.remove(ready)
            try:
                messages[ready] = ready.recv()
            except EOFError:  # the child ended without an answer (killed, out of memory)
                messages[ready] = ("stopped",)
            unusable = unusable or messages[ready][0] != "done"
        if bar is not None and positions is not None:
            bar.update(sum(position.value - start for position, (start, _) in zip(positions, parts, strict=True)))
    return [messages.get(receiver, ("cancelled",)) for _, receiver in children]  # stopped early: not needed


def classify_parts(
    path: str,
    parts: Sequence[Span],
    settings: ClassifySettings,
    targets: Sequence[str],
    possible_other_of: Callable[[str, str], str],
    bar: ProgressBar | None = None,
) -> PartsResult | str:
    """Classify ``path`` in ``parts`` (one child process each) into the staged ``targets``; the merged figures,
    or :data:`NOT_CONSECUTIVE` / :data:`FAILED` (then the targets may hold partial output for the caller to
    remove; the parts' own files are removed here)."""
    context = multiprocessing.get_context("fork")
    positions = None if bar is None else [context.Value("q", start, lock=False) for start, _ in parts]
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        try:
            for number, span in enumerate(parts):
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_part, name=f"clearance-classify-part-{number + 1}", daemon=True,
                    args=(path, span, settings, part_targets(targets, number), possible_other_of,
                          None if positions is None else positions[number], sender),
                )
                process.start()
                sender.close()
                children.append((process, receiver))
            messages = _collect(children, positions, parts, bar)
        finally:  # also on Ctrl-C (the children ignore it): no process outlives the run
            for child, receiver in children:
                if child.is_alive():
                    child.terminate()
                child.join()
                receiver.close()
        result = _merge(path, parts, messages, children)
        if isinstance(result, PartsResult):
            for number in range(1, len(parts)):
                for target, part in zip(targets, part_targets(targets, number), strict=True):
                    _append(target, part)
        return result
    finally:
        _remove_parts(targets, len(parts))


def _merge(
    path: str,
    parts: Sequence[Span],
    messages: list[tuple[Any, ...]],
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]],
) -> PartsResult | str:
    if any(message[0] == FAILED for message in messages):
        return FAILED
    for number, message in enumerate(messages):
        if message[0] == "stopped":
            code = children[number][0].exitcode
            print(f"clearance classify: the process classifying part {number + 1} of {len(parts)} of "
                  f"{os.path.basename(path)} stopped (exit status {code}); classifying the file in one process",
                  file=sys.stderr)
            return FAILED
    if any(message[0] == NOT_CONSECUTIVE for message in messages):
        return NOT_CONSECUTIVE
    try:
        if os.path.getsize(path) != parts[-1][1]:  # the file changed: one process reads what is there now
            return FAILED
    except OSError:
        return FAILED
    people: set[str] = set()
    counts = SummaryCounts()
    log = QualityLog()
    quality_counts: Counter[str] = Counter()
    offset = 0
    for number, (_, part_counts, rows, quality_rows, part_quality, ids) in enumerate(messages):
        if not people.isdisjoint(ids):  # a person's rows are apart
            return NOT_CONSECUTIVE
        if number < len(messages) - 1:
            people.update(ids)
        counts = counts + part_counts
        log.rows += [(index + offset, *rest) for index, *rest in quality_rows]
        quality_counts.update(part_quality)
        offset += rows
    log.counts = quality_counts
    return PartsResult(counts, log)
