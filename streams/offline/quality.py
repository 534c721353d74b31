"""``Data_Quality.csv``: the determined rows of a run whose inputs had a data problem (``streams.doj.quality``).

gogen's own files stay as gogen wrote them; this file lists, beside them, each determination that a missing or
malformed DOB or date (or a sentence without its conviction) touched, with the codes, so a DA's analyst can check
those answers by hand. ``clearance classify`` prints a one-line count on stderr.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streams.doj import columns as C
from streams.doj.quality import date_flags, flags_of, subject_flags
from streams.gocompat.gocsv import encode_record
from streams.rules.info import EligibilityInfo
from streams.rules.subject import Subject

COLUMNS = ("Data Line", "File Line", "SUBJECT_ID", "CNT_ORDER", "STP_ORI_CNTY_NAME", "Eligibility Determination",
           "Eligibility Reason", "Data Quality")


def data_quality_path(all_results: str) -> str:
    """``Data_Quality<idx><suf>.csv`` beside ``All_Results<idx><suf>.csv``."""
    folder, name = os.path.split(all_results)
    return os.path.join(folder, "Data_Quality" + name.removeprefix("All_Results"))


@dataclass(slots=True)
class QualityLog:
    """The flagged determinations of one input file, and their counts by code."""

    rows: list[tuple[int, str, str, str, str, str, list[str]]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def person(self, subject: Subject, infos: Mapping[int, EligibilityInfo], person: tuple[str, ...],
               row_flags: Mapping[int, tuple[str, ...]]) -> None:
        """Record the person's determinations that a data problem touched."""
        if not person and not row_flags:
            return
        by_index = {c.index: c for c in subject.convictions}
        for index, info in infos.items():
            codes = flags_of(person, row_flags.get(index, ()))
            if codes:
                conviction = by_index[index]
                self.rows.append((index, subject.id, conviction.count_order, conviction.county,
                                  info.determination.value, info.reason, codes))
                self.counts.update(codes)

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(encode_record(COLUMNS) + "\n")
            for index, subject_id, count_order, county, determination, reason, codes in sorted(self.rows):
                record = (str(index + 1), str(index + 2), subject_id, count_order, county, determination, reason,
                          ";".join(codes))
                handle.write(encode_record(record) + "\n")


def rows_quality(subject: Subject, first_index: int, rows: Sequence[Sequence[str]]) -> tuple[
        tuple[str, ...], dict[int, tuple[str, ...]]]:
    """Person and per-row flags of a person whose rows (``rows``, data rows ``first_index``…) are consecutive."""
    person = subject_flags(subject.id, rows, {c.count_order for c in subject.convictions})
    row_flags = {}
    for conviction in subject.convictions:
        flags = date_flags(rows[conviction.index - first_index][C.STP_EVENT_DATE])
        if flags:
            row_flags[conviction.index] = flags
    return person, row_flags
