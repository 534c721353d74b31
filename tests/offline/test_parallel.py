"""``clearance classify --jobs``: a file classified in parts on several processes writes the bytes of one process.

Every test runs the same file with ``--jobs 1`` (one process, the reference) and with more jobs and a threshold
of one byte, then compares every output file byte for byte (the summaries less their processing time). A spy on
``classify_parts`` records what the parts gave, so a test also fails when the parts silently were not used.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from factories import doj_row, laid_out
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.cli import main
from streams.doj import columns as C
from streams.doj.generate import write_doj
from streams.doj.reader import iter_rows
from streams.gocompat.gocsv import encode_record
from streams.offline import parallel
from streams.offline import run as offline_run
from streams.offline.files import result_paths
from streams.offline.parallel import FAILED, NOT_CONSECUTIVE, Jobs, PartsResult, default_jobs, plan
from streams.offline.run import classify_file
from streams.offline.settings import ClassifySettings
from streams.offline.split import find_cuts, spans
from streams.rules.flows.registry import make_flow

OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359"]},
    "additionalRelief": {"subjectAgeThreshold": 50, "yearsCrimeFreeThreshold": 5, "subjectIsDeceased": True},
}
# (flow, county, extra arguments): every flow of streams.rules.flows.registry
FLOWS = [
    ("configurable", "SACRAMENTO", ()),
    ("los_angeles", "LOS ANGELES", ("--la-pilot-outputs",)),
    ("los_angeles", "LOS ANGELES", ("--individual-age", "40", "--years-conviction-free", "5")),
    ("sacramento", "SACRAMENTO", ()),
    ("san_joaquin", "SAN JOAQUIN", ()),
    ("contra_costa", "CONTRA COSTA", ()),
]
TIMED = re.compile(rb'"processingTimeInSeconds":[0-9.e+-]+|processed the data in [0-9.e+-]+ seconds')


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """What every ``classify_parts`` call returned (PartsResult, NOT_CONSECUTIVE or FAILED)."""
    seen: list[Any] = []
    real = offline_run.classify_parts

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(offline_run, "classify_parts", spy)
    yield seen


def _classify(source: Path, out: Path, flow: str, county: str, extra: tuple[str, ...], jobs: int,
              options: Path) -> int:
    document = ["--eligibility-options", str(options)] if flow == "configurable" else []
    return main(["classify", "--input-doj", str(source), "--county", county, "--flow", flow, "--outputs", str(out),
                 "--compute-at", "2020-07-01", "--no-progress", "--jobs", str(jobs), "--jobs-min-bytes", "1",
                 *document, *extra])


def _untimed(path: Path) -> bytes:
    return TIMED.sub(b"<time>", path.read_bytes())


def _run_json(out: Path) -> dict[str, Any]:
    """run.json less what differs between two runs (times, the outputs folder); its hashes checked first."""
    document = json.loads((out / "run.json").read_text())
    for entry in document["outputs"]:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
        if TIMED.search((out / entry["path"]).read_bytes()):
            entry.pop("sha256"), entry.pop("bytes")
    for key in ("started_at", "finished_at"):
        document.pop(key)
    document["arguments"].pop("outputs")
    return document


def same_outputs(tmp_path: Path, source: Path, flow: str = "configurable", county: str = "SACRAMENTO",
                 extra: tuple[str, ...] = (), jobs: int = 2) -> tuple[int, Path]:
    """Classify with one job and with ``jobs``; assert every output equal; the exit status and one folder."""
    options = tmp_path / "options.json"
    options.write_text(json.dumps(OPTIONS))
    one, many = tmp_path / "one", tmp_path / "many"
    status = _classify(source, one, flow, county, extra, 1, options)
    assert _classify(source, many, flow, county, extra, jobs, options) == status
    names = sorted(os.listdir(one))
    assert sorted(os.listdir(many)) == names
    assert not [name for name in names if "partial" in name]
    for name in names:
        if name == "run.json":
            assert _run_json(many) == _run_json(one)
        else:
            assert _untimed(many / name) == _untimed(one / name), name
    return status, one


def _rows(people: list[list[dict[str, str]]]) -> list[dict[str, str]]:
    return [row for person in people for row in person]


def doj_file(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = [encode_record(C.COLUMNS)] + [encode_record(laid_out(row)) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("flow", "county", "extra"), FLOWS)
def test_every_flow_writes_the_same_bytes_in_parts(
    tmp_path: Path, outcomes: list[Any], flow: str, county: str, extra: tuple[str, ...]
) -> None:
    source = tmp_path / "doj.csv"
    write_doj(str(source), 300, seed=13, counties=[county, "KERN"])
    assert same_outputs(tmp_path, source, flow, county, extra)[0] == 0
    assert len(outcomes) == 1 and isinstance(outcomes[0], PartsResult)


def test_three_jobs_and_data_quality_rows_in_every_part(tmp_path: Path, outcomes: list[Any]) -> None:
    """A messy file whose people are consecutive (blank SUBJECT_IDs given the previous row's): flagged rows in
    each part, whose data lines are shifted by the rows of the parts before."""
    messy = tmp_path / "messy.csv"
    write_doj(str(messy), 400, seed=5, counties=["SACRAMENTO", "KERN"], messy_rate=0.05)
    rows = list(iter_rows(str(messy)))
    for previous, row in pairwise(rows):
        row[C.SUBJECT_ID] = row[C.SUBJECT_ID] or previous[C.SUBJECT_ID]
    source = tmp_path / "doj.csv"
    source.write_text("\n".join(map(encode_record, [C.COLUMNS, *rows])) + "\n", encoding="utf-8",
                      errors="surrogateescape")
    status, out = same_outputs(tmp_path, source, jobs=3)
    assert status == 0
    assert len(outcomes) == 1 and isinstance(outcomes[0], PartsResult)
    lines = [int(line.split(",")[0]) for line in (out / "Data_Quality.csv").read_text().splitlines()[1:]]
    assert min(lines) < len(rows) / 3 and max(lines) > 2 * len(rows) / 3


def test_a_messy_file_takes_the_two_passes_as_one_process_does(tmp_path: Path, outcomes: list[Any]) -> None:
    """Blank SUBJECT_IDs stand apart: the parts say not consecutive, and the two passes write the files."""
    source = tmp_path / "messy.csv"
    write_doj(str(source), 400, seed=5, counties=["SACRAMENTO", "KERN"], messy_rate=0.05)
    assert same_outputs(tmp_path, source)[0] == 0
    assert outcomes == [NOT_CONSECUTIVE]


def test_a_person_in_two_parts_takes_the_two_passes(tmp_path: Path, outcomes: list[Any]) -> None:
    """Each part is consecutive on its own, but the first person's last row is the file's last row."""
    source = tmp_path / "doj.csv"
    write_doj(str(source), 200, seed=3, counties=["SACRAMENTO"])
    lines = source.read_text().splitlines(keepends=True)
    first = lines[1].split(",")[C.SUBJECT_ID]
    last_of_first = max(i for i, line in enumerate(lines) if line.split(",")[C.SUBJECT_ID] == first)
    moved = lines[last_of_first]
    del lines[last_of_first]
    source.write_text("".join([*lines, moved]))
    assert same_outputs(tmp_path, source)[0] == 0
    assert outcomes == [NOT_CONSECUTIVE]


def _person(subject: str, count: int, county: str = "SACRAMENTO") -> list[dict[str, str]]:
    return [doj_row(subject=subject, county=county, count_order=f"{n + 1:03d}001001000", offense="11357 HS-POSSESS",
                    date="20150101") for n in range(count)]


def test_a_cut_exactly_at_a_person_boundary(tmp_path: Path, outcomes: list[Any]) -> None:
    """The half of the file is the second person's first byte (its last row padded to make it so): the cut."""
    header = len(encode_record(C.COLUMNS)) + 1
    first, second = _person("A", 30), _person("B", 30)
    size_of = lambda rows: sum(len(encode_record(laid_out(row))) + 1 for row in rows)  # noqa: E731
    second[-1]["COMMENT_TEXT"] = "X" * (header + size_of(first) - size_of(second))
    source = doj_file(tmp_path / "doj.csv", first + second)
    size = source.stat().st_size
    assert size == 2 * (header + size_of(first))
    assert find_cuts(str(source), size, 2) == [size // 2]
    assert same_outputs(tmp_path, source)[0] == 0
    assert len(outcomes) == 1 and isinstance(outcomes[0], PartsResult)


def test_one_huge_person_is_classified_in_one_process(tmp_path: Path, outcomes: list[Any]) -> None:
    source = doj_file(tmp_path / "doj.csv", _person("HUGE", 400))
    assert plan(str(source), Jobs(2, min_bytes=1)) is None
    assert same_outputs(tmp_path, source)[0] == 0
    assert outcomes == []


def test_a_huge_person_across_the_middle_is_kept_whole(tmp_path: Path, outcomes: list[Any]) -> None:
    people = [_person("SMALL1", 3), _person("HUGE", 300), _person("SMALL2", 3), _person("SMALL3", 2)]
    source = doj_file(tmp_path / "doj.csv", _rows(people))
    parts = plan(str(source), Jobs(2, min_bytes=1))
    assert parts is not None and len(parts) == 2
    with open(source, "rb") as handle:
        handle.seek(parts[1][0])
        assert handle.readline().split(b",")[C.SUBJECT_ID] == b"SMALL2"
    assert same_outputs(tmp_path, source)[0] == 0
    assert len(outcomes) == 1 and isinstance(outcomes[0], PartsResult)


def test_a_file_below_the_threshold_is_classified_in_one_process(tmp_path: Path, outcomes: list[Any]) -> None:
    source = tmp_path / "doj.csv"
    write_doj(str(source), 100, seed=1, counties=["SACRAMENTO"])
    assert plan(str(source), Jobs(2)) is None  # the default threshold
    assert plan(str(source), Jobs(2, min_bytes=source.stat().st_size + 1)) is None
    assert plan(str(source), Jobs(2, min_bytes=source.stat().st_size)) is not None
    assert plan(str(source), Jobs(1, min_bytes=1)) is None
    out = tmp_path / "out"
    assert main(["classify", "--input-doj", str(source), "--county", "SACRAMENTO", "--flow", "sacramento",
                 "--outputs", str(out), "--no-progress", "--jobs", "2"]) == 0
    assert outcomes == []


def test_an_error_in_a_later_part_keeps_the_line_number_of_the_whole_file(
    tmp_path: Path, outcomes: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "doj.csv"
    write_doj(str(source), 200, seed=2, counties=["SACRAMENTO"])
    lines = source.read_text().splitlines(keepends=True)
    bad = len(lines) - 5
    lines[bad] = lines[bad].replace(",", ",,", 1)  # 96 fields
    source.write_text("".join(lines))
    assert same_outputs(tmp_path, source)[0] == 1
    assert outcomes == [FAILED]
    err = json.loads((tmp_path / "many" / "gogen.err").read_text())
    assert err[str(source)]["errorMessage"] == f"record on line {bad}: wrong number of fields"
    assert f"on data line {bad} (file line {bad + 1})" in capsys.readouterr().err


def test_a_part_whose_process_dies_is_classified_again_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcomes: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    real = parallel._part

    def dies_in_the_second_part(path: str, span: tuple[int, int], *args: Any) -> None:
        if span[0] > 0:
            os._exit(9)
        real(path, span, *args)

    monkeypatch.setattr(parallel, "_part", dies_in_the_second_part)
    source = tmp_path / "doj.csv"
    write_doj(str(source), 200, seed=4, counties=["SACRAMENTO"])
    assert same_outputs(tmp_path, source)[0] == 0
    assert outcomes == [FAILED]
    assert "part 2 of 2 of doj.csv stopped (exit status 9); classifying the file in one process" in (
        capsys.readouterr().err)


def test_an_interrupted_run_leaves_no_part_and_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the parent waits (here: once every part is written): the children are stopped, the staged
    and the parts' files removed, and the interrupt goes on."""
    real = parallel._collect

    def interrupted(*args: Any) -> Any:
        real(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel, "_collect", interrupted)
    source = tmp_path / "doj.csv"
    write_doj(str(source), 200, seed=6, counties=["SACRAMENTO"])
    settings_ = ClassifySettings("SACRAMENTO", make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        classify_file(str(source), result_paths(str(out), 1, 1), settings_, jobs=Jobs(2, min_bytes=1))
    assert os.listdir(out) == []
    assert multiprocessing.active_children() == []


def test_the_progress_bar_counts_every_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "doj.csv"
    write_doj(str(source), 200, seed=6, counties=["SACRAMENTO"])
    settings_ = ClassifySettings("SACRAMENTO", make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1))
    out = tmp_path / "out"
    out.mkdir()
    counts = classify_file(str(source), result_paths(str(out), 1, 1), settings_, show_progress=True,
                           jobs=Jobs(2, min_bytes=1))
    assert counts.line_count == len(list(iter_rows(str(source))))
    err = capsys.readouterr().err
    assert err.endswith("\n") and "doj.csv [" in err and "100%" in err.splitlines()[-1]


def test_default_jobs_are_the_usable_cpus_at_most_two() -> None:
    assert 1 <= default_jobs() <= min(2, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["classify", "--jobs", jobs])
    assert "--jobs: must be a whole number of at least 1" in capsys.readouterr().err


# -- where files are cut -------------------------------------------------------------------------------------------

_ids = st.sampled_from(["1", "2", "3", "10", "A,B", 'Q"Q', "LINE\nBREAK", ""])
_person_rows = st.tuples(_ids, st.integers(1, 6), st.booleans())


def _text_of(people: list[tuple[str, int, bool]]) -> tuple[bytes, list[tuple[int, str]]]:
    """A file of these people (id, rows, a quoted multi-line comment and a blank line after each row) and every
    record's (offset, SUBJECT_ID)."""
    text = encode_record(C.COLUMNS).encode() + b"\n"
    records = []
    for subject, count, odd in people:
        for n in range(count):
            records.append((len(text), subject))
            row = doj_row(subject=subject, count_order=f"{n + 1:03d}001001000",
                          comment='said "no"\nthen left' if odd else "")
            text += encode_record(laid_out(row)).encode() + (b"\n\r\n" if odd else b"\n")
    return text, records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(_person_rows, min_size=1, max_size=12), parts=st.integers(2, 5))
def test_cuts_are_at_changes_of_person(tmp_path: Path, people: list[tuple[str, int, bool]], parts: int) -> None:
    text, records = _text_of(people)
    source = tmp_path / "cut.csv"
    source.write_bytes(text)
    cuts = find_cuts(str(source), len(text), parts)
    # the first change of person at or after each share's offset (or after the cut before, if that is later),
    # before the next share's offset; none while the offset is in the header
    changes = [offset for (_, before), (offset, subject) in pairwise(records) if subject != before]
    expected: list[int] = []
    size = len(text)
    for share in range(1, parts):
        target = max(size * share // parts, expected[-1] + 1 if expected else 1)
        if target >= size:
            break
        limit = max(size * (share + 1) // parts, target + 1)
        later = [offset for offset in changes if target <= offset < limit]
        if later and target > records[0][0]:
            expected.append(later[0])
    assert cuts == expected
    edges = spans(len(text), cuts)
    assert [start for start, _ in edges] == [0, *cuts] and [end for _, end in edges] == [*cuts, len(text)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(_person_rows, min_size=1, max_size=10), jobs=st.integers(2, 4))
def test_parts_write_the_bytes_of_one_process(tmp_path: Path, people: list[tuple[str, int, bool]], jobs: int) -> None:
    """Any file of such people (ids repeating apart too), any number of jobs: the same files and figures."""
    text, _ = _text_of(people)
    source = tmp_path / "doj.csv"
    source.write_bytes(text)
    settings_ = ClassifySettings("SACRAMENTO", make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1))
    results = []
    for name, option in (("one", None), ("many", Jobs(jobs, min_bytes=1))):
        out = tmp_path / name
        out.mkdir(exist_ok=True)
        paths = result_paths(str(out), 1, 1)
        counts = classify_file(str(source), paths, settings_, jobs=option)
        files = [Path(p).read_bytes() for p in (paths.all_results, paths.condensed, paths.prop64)]
        results.append((counts, files, (out / "Data_Quality.csv").read_bytes()))
    assert results[1] == results[0]
