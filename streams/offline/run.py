"""``clearance classify``: gogen's offline run over DOJ files, with gogen's result files (spec §2, §9).

Each input file is processed on its own. When every person's rows are consecutive (as in DOJ extracts) that
is a single pass (:mod:`streams.offline.single_pass`); otherwise it takes two passes, so that no row's raw
columns stay in memory:

1. Read every row (Go's CSV rules) and push its fields into the
   file-local subject of its SUBJECT_ID; write the row's condensed columns, already Go-encoded, to a spool
   file; note the rare "Possible Other P64 Charges" values.
2. Classify every subject with the chosen flow and with the "dismiss all Prop 64" what-if, add its summary
   figures, and keep only the encoded eligibility columns of the rows that got a determination.
3. Read the file again and write ``All_Results``, ``All_Results_Condensed`` and ``Prop64_Results``: a row
   already in Go's CSV form is copied as it is, any other is parsed and encoded again.

The summary (``gogen<suf>.json`` and ``summary<suf>.json``) sums the files; it is written only when every file
succeeded. Otherwise the errors go to ``gogen<suf>.err`` and stderr and the exit status is 1, while the files
that could be processed still get their CSVs, as in gogen. No rules are decided here: the flows and the engine
do that, this module only moves rows between them and the files.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import islice, repeat
from typing import TextIO

from streams.doj import columns as C
from streams.doj.quality import date_flags, person_flags
from streams.doj.reader import (
    FieldCountError,
    ReadStats,
    go_open_error,
    iter_row_chunks,
    iter_row_texts,
    iter_text_chunks,
    parse_row_text,
)
from streams.errors import ClearanceError, DojParseError, InputError
from streams.gocompat.gocsv import ProjectionEncoder, all_go_form, encode_record, is_go_form
from streams.offline.files import (
    OTHER,
    PARSING,
    ResultPaths,
    open_result_files,
    result_paths,
    write_error_file,
    write_summary,
)
from streams.offline.guide import empty_file_warning, find_county
from streams.offline.parallel import NOT_CONSECUTIVE, Jobs, PartsResult, classify_parts, jobs_from_args, plan
from streams.offline.progress import ProgressBar, wants_progress
from streams.offline.provenance import RunRecord
from streams.offline.quality import QualityLog, data_quality_path
from streams.offline.settings import ClassifySettings, OptionsFileError, settings_from_args
from streams.offline.single_pass import (
    CONDENSED_POSITIONS,
    NO_DETERMINATION,
    PERSON_COLUMNS,
    NotConsecutive,
    SubjectResults,
    single_pass,
)
from streams.rules.info import possible_other_p64_charges_cached
from streams.rules.subject import Subject
from streams.summary import (
    SummaryCounts,
    file_earliest,
    gogen_summary,
    run_earliest,
    total,
)

CHANGED_DURING_RUN = "the input file changed while it was being classified"

Progress = Callable[[int], None]

# A file repeats the same few offense/comment pairs; the answer is a pure function of the pair (remembered
# within a byte budget: a file of distinct long comments must not hold them all).
_possible_other = possible_other_p64_charges_cached


@dataclass(slots=True)
class _FileState:
    """What pass 1 and the classification leave for pass 2."""

    rows: int = 0
    one_line_records: bool = False
    suffixes: dict[int, str] | None = None
    determined: set[int] | None = None
    counts: SummaryCounts | None = None


@dataclass(slots=True)
class _FileQuality:
    """What pass 1 notes for the data-quality flags: each person's first DOB and sentenced count orders, and the
    rows whose date is missing or malformed (few)."""

    first_dob: dict[str, str] = field(default_factory=dict)
    sentenced: dict[str, set[str]] = field(default_factory=dict)
    bad_dates: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def of(self, subject: Subject) -> tuple[tuple[str, ...], dict[int, tuple[str, ...]]]:
        counts = {c.count_order for c in subject.convictions}
        person = person_flags(subject.id, self.first_dob.get(subject.id, ""), False,
                              self.sentenced.get(subject.id, ()), counts)
        return person, self.bad_dates


def _first_pass(
    path: str, settings: ClassifySettings, spool: TextIO, progress: Progress | None, stats: ReadStats,
    quality: _FileQuality,
) -> tuple[dict[str, Subject], dict[int, str]]:
    """Subjects by SUBJECT_ID and the non-empty "Possible Other P64 Charges" by row."""
    subjects: dict[str, Subject] = {}
    possible_other: dict[int, str] = {}
    first_dob, sentenced, bad_dates = quality.first_dob, quality.sentenced, quality.bad_dates
    pilot = settings.flow.pilot_code_sections
    # rows are kept only where a subject may have to be rebuilt under the other code-section rule
    keep_rows = settings.dismiss_all.pilot_code_sections != pilot
    encode_condensed = ProjectionEncoder(CONDENSED_POSITIONS, PERSON_COLUMNS).encode_many
    comment_at, offense_at, id_at = C.COMMENT_TEXT, C.OFFENSE_DESCR, C.SUBJECT_ID
    index = 0
    for rows in iter_row_chunks(path, progress, stats):
        for fields in rows:
            subject_id = fields[id_at]
            subject = subjects.get(subject_id)
            if subject is None:
                subject = subjects[subject_id] = Subject(subject_id, pilot_code_sections=pilot, keep_rows=keep_rows)
                first_dob[subject_id] = fields[C.PRI_DOB]
            subject.push(fields, index)
            if fields[C.SENT_LENGTH]:
                sentenced.setdefault(subject_id, set()).add(fields[C.CNT_ORDER])
            flags = date_flags(fields[C.STP_EVENT_DATE])
            if flags:
                bad_dates[index] = flags
            comment = fields[comment_at]
            if comment:
                other = _possible_other(fields[offense_at], comment)
                if other:
                    possible_other[index] = other
            index += 1
        if rows:
            spool.write("\n".join(encode_condensed(rows)) + "\n")
    return subjects, possible_other


def _classify(
    subjects: dict[str, Subject], possible_other: dict[int, str], settings: ClassifySettings,
    quality: _FileQuality, log: QualityLog,
) -> tuple[dict[int, str], set[int], SummaryCounts]:
    """Encoded eligibility columns (with their leading comma) by row, the rows with a determination, and the
    summed summary figures."""
    results = SubjectResults(settings, quality=log)
    for subject in subjects.values():
        results.add(subject, possible_other, partial(quality.of, subject))
    results.add_possible_other(possible_other)
    return results.suffixes, set(results.determined), total(results.parts)


def _second_pass(
    path: str, spool: TextIO, state: _FileState, paths: ResultPaths, progress: Progress | None
) -> None:
    """Write the three result files next to their final names, then move them into place."""
    suffixes = state.suffixes or {}
    determined = sorted(state.determined or ())
    staged = [f"{target}.partial" for target in (paths.all_results, paths.condensed, paths.prop64)]
    spool.seek(0)
    spooled = iter(spool) if state.one_line_records else iter_row_texts(spool, normalize=False)
    try:
        with open_result_files(staged) as (full_file, condensed_file, prop64_file):
            start = 0
            next_determined = 0
            for texts in iter_text_chunks(path, one_line_records=state.one_line_records, progress=progress):
                if not texts:  # a chunk of blank lines
                    continue
                end = start + len(texts)
                if state.one_line_records:
                    condensed = "".join(islice(spooled, len(texts))).split("\n")
                    condensed.pop()
                    fast = all_go_form(texts)
                else:
                    condensed = list(islice(spooled, len(texts)))
                    fast = False
                if len(condensed) != len(texts):
                    raise InputError(CHANGED_DURING_RUN)
                if not fast:
                    texts = [text if is_go_form(text) else encode_record(parse_row_text(text)) for text in texts]
                tails = list(map(suffixes.get, range(start, end), repeat(NO_DETERMINATION)))
                full = list(map(str.__add__, texts, tails))
                full_file.write("\n".join(full) + "\n")
                condensed_file.write("\n".join(map(str.__add__, condensed, tails)) + "\n")
                while next_determined < len(determined) and determined[next_determined] < end:
                    prop64_file.write(full[determined[next_determined] - start] + "\n")
                    next_determined += 1
                start = end
            if start != state.rows or next(spooled, None) is not None:
                raise InputError(CHANGED_DURING_RUN)
    except BaseException:
        _remove(staged)
        raise
    for name, target in zip(staged, (paths.all_results, paths.condensed, paths.prop64), strict=True):
        os.replace(name, target)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of acyclic objects are created.

    Subjects, records and convictions hold no reference cycles, so collections would find nothing; with
    them running, the collector repeatedly walks every live object and costs about 15% of the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def classify_file(
    path: str, paths: ResultPaths, settings: ClassifySettings, *, show_progress: bool = False,
    jobs: Jobs | None = None,
) -> SummaryCounts:
    """Classify one DOJ file and write its three result files; returns its summary figures.

    One pass when every person's rows are consecutive (:mod:`streams.offline.single_pass`), else two; with
    ``jobs`` of more than one, a large file's single pass runs in parts on as many processes
    (:mod:`streams.offline.parallel`), with the same bytes written.
    Raises :class:`DojParseError` for a malformed file (gogen's PARSING) and :class:`InputError` or
    ``OSError`` for anything else that stops it (OTHER); no result file is left behind then.
    """
    size = os.path.getsize(path) if show_progress and os.path.isfile(path) else 0
    targets = (paths.all_results, paths.condensed, paths.prop64)
    staged = [f"{target}.partial" for target in targets]
    bar = ProgressBar(os.path.basename(path), size) if show_progress else None
    log = QualityLog()
    counts: SummaryCounts | None = None
    consecutive = True
    parts = plan(path, jobs) if jobs is not None else None
    if parts is not None:
        try:
            outcome = classify_parts(path, parts, settings, staged, _possible_other, bar)
        except BaseException:
            _remove(staged)
            raise
        if isinstance(outcome, PartsResult):
            counts, log = outcome.counts, outcome.log
            _finish(staged, targets, bar)
        else:  # a person in two parts: two passes; a part failed: one process says why, exactly
            _remove(staged)
            consecutive = outcome != NOT_CONSECUTIVE
    if counts is None and consecutive:
        counts = _one_pass(path, settings, staged, targets, bar, log)
    if counts is None:  # a person's rows are apart: the general path, with a fresh record of flagged rows
        log = QualityLog()
        counts = _two_passes(path, paths, settings, show_progress=show_progress, size=size, log=log)
    log.write(data_quality_path(paths.all_results))
    return counts + SummaryCounts(data_quality=dict(log.counts))


def _one_pass(
    path: str, settings: ClassifySettings, staged: Sequence[str], targets: Sequence[str], bar: ProgressBar | None,
    log: QualityLog,
) -> SummaryCounts | None:
    """The single pass in this process; ``None`` when a person's rows are apart."""
    stats = ReadStats()
    try:
        with _collector_paused():
            parts = single_pass(path, settings, staged, _possible_other, bar.update if bar else None, stats, log)
    except NotConsecutive:
        _remove(staged)
        return None
    except BaseException:
        _remove(staged)
        raise
    _finish(staged, targets, bar)
    return total(parts) + SummaryCounts(line_count=stats.rows)


def _finish(staged: Sequence[str], targets: Sequence[str], bar: ProgressBar | None) -> None:
    for name, target in zip(staged, targets, strict=True):
        os.replace(name, target)
    if bar:
        bar.finish()


def _remove(names: Sequence[str]) -> None:
    for name in names:
        if os.path.exists(name):
            os.remove(name)


def _two_passes(
    path: str, paths: ResultPaths, settings: ClassifySettings, *, show_progress: bool, size: int,
    log: QualityLog | None = None,
) -> SummaryCounts:
    """The general path: subjects are built from the whole file before any row is written."""
    state = _FileState()
    spool_dir = os.path.dirname(paths.condensed) or "."
    with tempfile.TemporaryFile(
        "w+", encoding="utf-8", errors="surrogateescape", newline="", dir=spool_dir, prefix=".clearance-"
    ) as spool:
        bar = ProgressBar(f"{os.path.basename(path)} 1/2", size) if show_progress else None
        with _collector_paused():
            stats = ReadStats()
            quality = _FileQuality()
            subjects, possible_other = _first_pass(path, settings, spool, bar.update if bar else None, stats,
                                                   quality)
            state.rows, state.one_line_records = stats.rows, stats.one_line_records
            if bar:
                bar.finish()
            state.suffixes, state.determined, counts = _classify(subjects, possible_other, settings, quality,
                                                                 QualityLog() if log is None else log)
            subjects.clear()
        bar = ProgressBar(f"{os.path.basename(path)} 2/2", size) if show_progress else None
        _second_pass(path, spool, state, paths, bar.update if bar else None)
        if bar:
            bar.finish()
    return counts + SummaryCounts(line_count=state.rows)


def _error(exc: BaseException, path: str) -> tuple[str, str]:
    if isinstance(exc, DojParseError):
        return PARSING, str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | PermissionError):
        return OTHER, str(exc)
    if isinstance(exc, OSError):
        return OTHER, go_open_error(exc.filename or path, exc)
    return OTHER, str(exc)


def run(
    inputs: Sequence[str],
    outputs: str,
    settings: ClassifySettings,
    *,
    suffix: str = "",
    show_progress: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None),
    record: RunRecord | None = None,
    check_county: bool = False,
    jobs: Jobs | None = None,
) -> int:
    """Process every input file; write the summary or the error file. Returns the exit status (0 or 1).

    ``record`` (optional) is filled in for ``run.json``, the report and the closing line; ``check_county``: fail
    (exit 1, the counties the files name on stderr) when no row names the county; ``jobs``: processes a large
    file may be classified on (default: one).
    """
    record = RunRecord() if record is None else record
    os.makedirs(outputs, exist_ok=True)
    errors: dict[str, tuple[str, str]] = record.errors
    shown: dict[str, str] = record.messages
    run_counts = SummaryCounts()
    earliest: datetime | None = None
    started = time.monotonic()
    for number, path in enumerate(inputs, 1):
        started = time.monotonic()
        paths = result_paths(outputs, number, len(inputs), suffix)
        try:
            counts = classify_file(path, paths, settings, show_progress=show_progress, jobs=jobs)
        except (ClearanceError, OSError) as exc:
            errors[path] = _error(exc, path)
            if isinstance(exc, FieldCountError):
                shown[path] = exc.guidance()
            continue
        record.rows[path] = counts.line_count
        if counts.line_count == 0:
            record.warnings.append(empty_file_warning(path))
            print(record.warnings[-1], file=sys.stderr)
        run_counts = run_counts + counts
        earliest = run_earliest(earliest, file_earliest(counts, clock()))
        record.outputs.append(data_quality_path(paths.all_results))
    record.counts = run_counts
    if run_counts.data_quality:
        flagged = ", ".join(f"{code} {n:,}" for code, n in sorted(run_counts.data_quality.items()))
        print(f"data quality: determinations with flagged inputs: {flagged} (rows in Data_Quality.csv; "
              "gogen's files are unchanged)", file=sys.stderr)
    if not errors and check_county and (missing := find_county(settings.county, inputs, run_counts)):
        errors[""] = (OTHER, missing)
    if errors:
        return _fail(outputs, suffix, errors, shown)
    document = gogen_summary(
        run_counts,
        county=settings.county,
        earliest_conviction=earliest if earliest is not None else clock(),
        dismiss_sections=settings.configured_sections("dismiss"),
        reduce_sections=settings.configured_sections("reduce"),
        processing_time_in_seconds=time.monotonic() - started,
    )
    record.document = document
    record.outputs += write_summary(outputs, suffix, document)
    return 0


def _fail(
    outputs: str, suffix: str, errors: dict[str, tuple[str, str]], shown: Mapping[str, str] | None = None
) -> int:
    """gogen's ExitWithErrors: the error file, one stderr line per input (sorted), status 1.

    ``shown``: a stderr message per path where it says more than gogen's text, which the error file keeps.
    """
    try:
        write_error_file(outputs, suffix, errors)
    except OSError as exc:
        print(f"cannot write the error file: {exc}", file=sys.stderr)
    for path in sorted(errors):
        message = (shown or {}).get(path, errors[path][1])
        print(f"{path}: {message}" if path else message, file=sys.stderr)
    return 1


def run_cli(
    args: argparse.Namespace, record: RunRecord | None = None, settings_out: list[ClassifySettings] | None = None
) -> int:
    """``clearance classify``: exit status 0, or 1 with ``gogen<suf>.err`` written. ``record`` and
    ``settings_out`` (optional) receive what ``streams.offline.command`` writes ``run.json`` and the report from."""
    suffix = args.file_name_suffix or ""
    record = RunRecord() if record is None else record
    try:
        settings = settings_from_args(args)
    except ClearanceError as exc:
        gogen_text = exc.gogen_message if isinstance(exc, OptionsFileError) else str(exc)
        record.errors[""] = (OTHER, gogen_text)
        return _fail(args.outputs or ".", suffix, {"": (OTHER, gogen_text)}, {"": str(exc)})
    if settings_out is not None:
        settings_out.append(settings)
    try:
        os.makedirs(args.outputs, exist_ok=True)
    except OSError as exc:
        return _fail(args.outputs, suffix, {"": (OTHER, f"mkdir {args.outputs}: {exc.strerror}")})
    return run(
        args.input_doj.split(","),
        args.outputs,
        settings,
        suffix=suffix,
        show_progress=wants_progress(args.no_progress),
        record=record,
        check_county=True,
        jobs=jobs_from_args(args),
    )
