"""``clearance classify`` in one pass, for files in which every person's rows are consecutive.

DOJ extracts list a person's rows together, so a person is complete as soon as the next SUBJECT_ID starts:
it is classified right then, and its rows are written to the three result files from the chunk of input still
in memory. The file is read once, nothing is spooled and only one person is held at a time. The bytes written
are those of the two-pass path (:mod:`streams.offline.run`), which a file whose people are interleaved still
takes: a SUBJECT_ID seen again after another person's rows raises :class:`NotConsecutive` and the caller
starts over with two passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import repeat

from streams.doj import columns as C
from streams.doj.reader import ReadStats, iter_rows_and_texts
from streams.gocompat.gocsv import ProjectionEncoder, all_go_form, encode_record
from streams.offline.files import open_result_files
from streams.offline.quality import QualityLog, rows_quality
from streams.offline.settings import ClassifySettings
from streams.rules.engine import classify_subject
from streams.rules.info import ELIGIBILITY_COLUMNS, empty_columns
from streams.rules.subject import Subject
from streams.summary import NOTHING, SummaryCounts, offline_outcomes, subject_counts

NO_DETERMINATION = "," * len(ELIGIBILITY_COLUMNS)
NO_DETERMINATION_LINE = NO_DETERMINATION + "\n"
CONDENSED_POSITIONS = tuple(C.INDEX[name] for name in C.CONDENSED_COLUMNS)
# The condensed file starts with the person's identity (CII, name, gender, DOB, race), the same on every row
# of a person, so its encoding is reused from the previous row.
PERSON_COLUMNS = 5


Quality = Callable[[], tuple[tuple[str, ...], Mapping[int, tuple[str, ...]]]]
"""A person's data-quality flags, computed on demand: (flags of the person, flags by row index)."""


class NotConsecutive(Exception):
    """A person's rows are not all consecutive: results can only be written after reading the whole file."""


class SubjectResults:
    """What classifying finished people leaves for their rows: encoded eligibility columns (with their leading
    comma, followed by ``line_end``) by row, the rows with a determination in file order, and the people's
    summary contributions."""

    __slots__ = ("_compute_at", "_county", "_end", "_flow", "_what_if", "determined", "parts", "quality", "suffixes")

    def __init__(self, settings: ClassifySettings, line_end: str = "", quality: QualityLog | None = None) -> None:
        self._end = line_end
        self.quality = quality if quality is not None else QualityLog()
        self._flow, self._what_if = settings.flow, settings.dismiss_all
        self._county, self._compute_at = settings.county, settings.compute_at
        self.suffixes: dict[int, str] = {}
        self.determined: list[int] = []
        self.parts: list[SummaryCounts] = []

    def add(self, subject: Subject, possible_other: Mapping[int, str], quality: Quality | None = None) -> None:
        """Classify one complete person; ``possible_other``: the non-empty "Possible Other P64 Charges" by row
        (of at least that person's rows); ``quality``: the person's data-quality flags, asked for only when the
        person has a determination."""
        county = self._county
        suffixes = self.suffixes
        if any(conviction.county == county for conviction in subject.convictions):
            # flows only evaluate the county's convictions (spec §8): otherwise nothing to decide or count
            infos = classify_subject(subject, self._flow, self._compute_at)
            dismiss_all = classify_subject(subject, self._what_if, self._compute_at)
            outcomes, totals = offline_outcomes(subject, county, infos, dismiss_all, self._compute_at)
            part = subject_counts(county, outcomes, totals)
            if part is not NOTHING:
                self.parts.append(part)
            for index, info in infos.items():
                suffixes[index] = "," + encode_record(info.columns(possible_other.get(index, ""))) + self._end
                self.determined.append(index)
            if infos and quality is not None:
                self.quality.person(subject, infos, *quality())

    def add_possible_other(self, possible_other: Mapping[int, str]) -> None:
        """Eligibility columns of rows without a determination that name other Prop 64 charges (after
        :meth:`add` of their people)."""
        suffixes = self.suffixes
        for index, other in possible_other.items():
            if index not in suffixes:
                suffixes[index] = "," + encode_record(empty_columns(other)) + self._end


def single_pass(
    path: str,
    settings: ClassifySettings,
    targets: Sequence[str],
    possible_other_of: Callable[[str, str], str],
    progress: Callable[[int], None] | None,
    stats: ReadStats,
    quality: QualityLog | None = None,
    *,
    span: tuple[int, int] | None = None,
    people: set[str] | None = None,
) -> list[SummaryCounts]:
    """Write All_Results, All_Results_Condensed and Prop64_Results to ``targets`` (in that order); returns the
    people's summary contributions. Raises :class:`NotConsecutive` (the targets then hold partial output).

    ``span``: only the bytes ``[start, end)`` of the file, a part of whole people (row indices then count from
    the part's first row, and the files get no header unless the part starts the file); ``people``: filled in
    with every SUBJECT_ID read, for the caller to check that no person is in two parts.
    """
    pilot = settings.flow.pilot_code_sections
    # Rows are kept only where a subject may have to be rebuilt under the other code-section rule.
    keep_rows = settings.dismiss_all.pilot_code_sections != pilot
    id_at = C.SUBJECT_ID
    encode_condensed = ProjectionEncoder(CONDENSED_POSITIONS, PERSON_COLUMNS).encode_many
    results = SubjectResults(settings, "\n", quality)
    person_rows: list[list[str]] = []  # the current person's rows, for their data-quality flags
    suffixes, determined = results.suffixes, results.determined
    comment_at, offense_at = C.COMMENT_TEXT, C.OFFENSE_DESCR
    finished: set[str] = set() if people is None else people
    possible_other: dict[int, str] = {}
    subject: Subject | None = None
    subject_id: str | None = None
    subject_start = 0  # row index of the current person's first row: every row before it can be written
    pending_full: list[str] = []  # encoded rows not written yet, from row ``first_pending`` on
    pending_condensed: list[str] = []
    first_pending = 0
    index = 0
    headers = span is None or span[0] == 0
    with open_result_files(targets, headers=headers) as (full_file, condensed_file, prop64_file):

        def write(end: int) -> None:
            """Write the pending rows before ``end``: all of them belong to finished people."""
            nonlocal first_pending
            count = end - first_pending
            if count <= 0:
                return
            # each row's text is followed by its tail (eligibility columns and line end): one join per file
            tails = list(map(suffixes.pop, range(first_pending, end), repeat(NO_DETERMINATION_LINE, count)))
            parts: list[str] = tails + tails
            parts[0::2] = pending_full[:count]
            parts[1::2] = tails
            full_file.write("".join(parts))
            parts[0::2] = pending_condensed[:count]
            condensed_file.write("".join(parts))
            if determined:
                rows = [row - first_pending for row in determined]
                prop64_file.write("".join([pending_full[row] + tails[row] for row in rows]))
                determined.clear()
            del pending_full[:count], pending_condensed[:count]
            first_pending = end

        for rows, texts in iter_rows_and_texts(path, progress, stats, span=span):
            if not rows:
                continue
            for fields in rows:
                if fields[id_at] != subject_id:
                    if subject is not None:
                        results.add(subject, possible_other, partial(rows_quality, subject, subject_start,
                                                                     person_rows))
                        if possible_other:
                            results.add_possible_other(possible_other)
                            possible_other.clear()
                        finished.add(subject_id)  # type: ignore[arg-type]
                    subject_id = fields[id_at]
                    if subject_id in finished:
                        raise NotConsecutive(subject_id)
                    subject = Subject(subject_id, pilot_code_sections=pilot, keep_rows=keep_rows)
                    subject_start = index
                    person_rows = []
                subject.push(fields, index)  # type: ignore[union-attr]
                person_rows.append(fields)
                comment = fields[comment_at]
                if comment:
                    other = possible_other_of(fields[offense_at], comment)
                    if other:
                        possible_other[index] = other
                index += 1
            pending_full += texts if texts is not None and all_go_form(texts) else map(encode_record, rows)
            pending_condensed += encode_condensed(rows)
            write(subject_start)
        if subject is not None:
            results.add(subject, possible_other, partial(rows_quality, subject, subject_start, person_rows))
            results.add_possible_other(possible_other)
            finished.add(subject.id)
        write(index)
    return results.parts
