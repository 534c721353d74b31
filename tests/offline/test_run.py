"""The offline pipeline (streams.offline.run): two passes, re-encoding, failure clean-up, settings, and a property
test over arbitrary rows."""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from factories import fields
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.doj import columns as C
from streams.doj.reader import iter_row_texts, iter_rows, parse_row_text
from streams.doj.record import derive
from streams.errors import DojParseError, InputError, OptionsError
from streams.gocompat.gocsv import encode_record
from streams.offline import run as pipeline
from streams.offline.files import result_paths
from streams.offline.quality import QualityLog
from streams.offline.run import classify_file, run
from streams.offline.settings import ClassifySettings, parse_compute_at, settings_from_args
from streams.rules.flows.registry import make_flow
from streams.rules.info import ELIGIBILITY_COLUMNS, POSSIBLE_OTHER_COLUMN
from streams.rules.matchers import prop64_section
from streams.summary import SummaryCounts

COUNTY = "SACRAMENTO"
OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359"]},
    "additionalRelief": {"subjectAgeThreshold": 50, "subjectIsDeceased": True},
}
SETTINGS = ClassifySettings(COUNTY, make_flow("configurable", COUNTY, options=OPTIONS), datetime(2020, 7, 1))
WIDTH = C.NUM_COLUMNS + len(ELIGIBILITY_COLUMNS)


# the 95 fields of a felony conviction (CNT_ORDER 001001001000) in the county on 2015-01-01
conviction = partial(fields, county=COUNTY, date="20150101")


def classify_rows(tmp_path: Path, text: str) -> tuple[list[str], list[str], list[str]]:
    source = tmp_path / "doj.csv"
    source.write_bytes(text.encode("utf-8", "surrogateescape"))
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    paths = result_paths(str(out), 1, 1)
    classify_file(str(source), paths, SETTINGS)
    return tuple(records(path) for path in (paths.all_results, paths.condensed, paths.prop64))  # type: ignore[return-value]


def two_passes(tmp_path: Path, text: str) -> tuple[list[str], list[str], list[str]]:
    """The results of the general path, which the single pass must equal whenever it applies (summary
    figures included)."""
    source = tmp_path / "doj.csv"
    source.write_bytes(text.encode("utf-8", "surrogateescape"))
    out = tmp_path / "two"
    out.mkdir(exist_ok=True)
    paths = result_paths(str(out), 1, 1)
    log = QualityLog()
    counts = pipeline._two_passes(str(source), paths, SETTINGS, show_progress=False, size=0, log=log)
    counts += SummaryCounts(data_quality=dict(log.counts))  # both paths flag the same rows
    assert classify_file(str(source), result_paths(str(tmp_path / "out"), 1, 1), SETTINGS) == counts
    return tuple(records(path) for path in (paths.all_results, paths.condensed, paths.prop64))  # type: ignore[return-value]


def records(path: str) -> list[str]:
    """Record texts of an output file after its header (quoted line breaks stay inside their record)."""
    text = Path(path).read_bytes().decode("utf-8", "surrogateescape")
    assert text.endswith("\n")
    return list(iter_row_texts(io.StringIO(text, newline="\n"), normalize=False))[1:]


def test_rows_not_in_go_form_are_encoded_again(tmp_path: Path) -> None:
    """Needless quotes, a CRLF file, a quoted line break and a leading space are all written the way Go
    writes those fields, not copied."""
    row = conviction(subject="1", offense="11357 HS-POSSESS", PRI_NAME="DOE,JANE")
    canonical = encode_record(row)
    needless = canonical.replace("11357 HS-POSSESS", '"11357 HS-POSSESS"')
    spaced = encode_record(conviction(subject="2", offense="459 PC", COMMENT_TEXT="a\nb"))
    unquoted_space = canonical.replace(",11357 HS-POSSESS,", ",11357 HS-POSSESS, x,", 1).replace(",,,", ",,", 1)
    assert len(list(iter_rows_of(tmp_path, unquoted_space))) == 1
    text = "\r\n".join([needless, spaced, unquoted_space]) + "\r\n"
    full, condensed, prop64 = classify_rows(tmp_path, text)
    parsed = list(iter_rows_of(tmp_path, text))
    assert [line[: len(encode_record(row))] for line, row in zip(full, parsed, strict=True)] == [
        encode_record(row) for row in parsed
    ]
    assert full[0].startswith(canonical + ",")
    assert ',11357 HS-POSSESS," x",' in full[2]  # Go quotes a leading space
    assert prop64 == [full[0]]  # the third row repeats the first one's count: a sentence row, no determination
    assert len(condensed) == 3


def test_a_plain_file_with_needless_quotes_is_written_as_go_writes_it(tmp_path: Path) -> None:
    """One line per row and LF endings (the single pass copies such rows when they are in Go's form)."""
    rows = [conviction(subject="1", offense="11357 HS-POSSESS"), conviction(subject="2", offense="459 PC")]
    full, condensed, prop64 = classify_rows(tmp_path, encode_record(rows[0]) + "\n" + quoted(rows[1]) + "\n")
    assert [line[: len(encode_record(row)) + 1] for line, row in zip(full, rows, strict=True)] == [
        encode_record(row) + "," for row in rows
    ]
    assert prop64 == full[:1] and len(condensed) == 2


def iter_rows_of(tmp_path: Path, text: str) -> list[list[str]]:
    path = tmp_path / "probe.csv"
    path.write_bytes(text.encode())
    return list(iter_rows(str(path)))


def test_possible_other_charges_on_rows_without_determination(tmp_path: Path) -> None:
    arrest = conviction(
        subject="1", offense="11357(A) HS-POSSESS", DISP_DESCR="", COMMENT_TEXT="11357(C) HS-POSSESS"
    )
    full, condensed, prop64 = classify_rows(tmp_path, encode_record(arrest) + "\n")
    columns = [""] * len(ELIGIBILITY_COLUMNS)
    columns[POSSIBLE_OTHER_COLUMN] = "11357(C) HS-POSSESS"
    assert full == [encode_record([*arrest, *columns])]
    assert prop64 == []
    assert condensed[0].endswith("," + ",".join(columns))


def test_a_failing_second_pass_leaves_no_result_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "doj.csv"
    rows = [conviction(subject="1", offense="11357 HS"), conviction(subject="2", offense="11357 HS")]
    source.write_text("".join(encode_record(row) + "\n" for row in (*rows, rows[0])))  # person 1 interleaved
    monkeypatch.setattr(pipeline, "iter_text_chunks", lambda *args, **kwargs: iter([[]]))
    paths = result_paths(str(tmp_path), 1, 1)
    with pytest.raises(InputError, match="changed while it was being classified"):
        classify_file(str(source), paths, SETTINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doj.csv"]


def test_interleaved_people_take_two_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A person seen again after another person's rows is classified over all its rows, like gogen."""
    first = conviction(subject="1", offense="11357 HS-POSSESS")
    other = conviction(subject="2", offense="11357 HS-POSSESS")
    later = conviction(subject="1", count_order="002001001000", offense="187 PC-MURDER", STP_EVENT_DATE="20160101")
    calls: list[str] = []
    two_passes = pipeline._two_passes
    monkeypatch.setattr(pipeline, "_two_passes", lambda path, *a, **k: calls.append(path) or two_passes(path, *a, **k))
    text = "".join(encode_record(row) + "\n" for row in (first, other, later))
    full, condensed, prop64 = classify_rows(tmp_path, text)
    assert len(calls) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "All_Results.csv", "All_Results_Condensed.csv", "Data_Quality.csv", "Prop64_Results.csv"
    ]
    assert len(full) == len(condensed) == 3
    # person 1's murder conviction (a superstrike) is known when its Prop 64 conviction is decided
    assert "187 PC" in parse_line(full[0])[C.NUM_COLUMNS :][ELIGIBILITY_COLUMNS.index("Superstrike Code Section(s)")]
    assert prop64 == full[:2]


def test_a_malformed_row_after_written_people_leaves_no_result_files(tmp_path: Path) -> None:
    people = "".join(encode_record(conviction(subject=str(n), offense="11357 HS")) + "\n" for n in range(5000))
    source = tmp_path / "doj.csv"
    source.write_text(people + 'a,b"c\n')
    paths = result_paths(str(tmp_path), 1, 1)
    with pytest.raises(DojParseError, match="bare"):
        classify_file(str(source), paths, SETTINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doj.csv"]


def test_run_writes_the_summary_or_the_errors(tmp_path: Path) -> None:
    source = tmp_path / "doj.csv"
    source.write_text(encode_record(conviction(subject="1", offense="11357 HS")) + "\n")
    now = datetime(2024, 5, 6, 7, 8, 9)
    assert run([str(source)], str(tmp_path / "a"), SETTINGS, clock=lambda: now) == 0
    summary = json.loads((tmp_path / "a" / "gogen.json").read_text())
    assert summary["earliestConviction"] == "2015-01-01T00:00:00Z"
    assert summary["convictionDismissalCountByCodeSection"] == {"11357": 1, "11358": 0}
    assert run([str(tmp_path / "none.csv")], str(tmp_path / "b"), SETTINGS, suffix="x") == 1
    assert (tmp_path / "b" / "gogen_x.err").exists()
    assert not (tmp_path / "b" / "gogen_x.json").exists()


def test_parse_compute_at() -> None:
    today = lambda: datetime(2024, 2, 29, 23, 59)  # noqa: E731
    assert parse_compute_at(None, today) == datetime(2024, 2, 29)
    assert parse_compute_at("2019-11-11", today) == datetime(2019, 11, 11)
    for bad in ("2019-11-1", "2019/11/11", "2019-13-01", "2019-11-11 ", "२०१९-११-११"):
        with pytest.raises(OptionsError, match="invalid --compute-at date"):
            parse_compute_at(bad, today)


def _args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "outputs": "out",
        "input_doj": "a.csv",
        "county": COUNTY,
        "flow": "configurable",
        "eligibility_options": None,
        "compute_at": "2020-07-01",
        "individual_age": None,
        "years_conviction_free": None,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def test_settings_from_args(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="missing required field"):
        settings_from_args(_args())
    with pytest.raises(OptionsError, match="missing required field"):
        settings_from_args(_args(county="", flow="sacramento"))
    options = tmp_path / "options.json"
    options.write_text("[1]")
    with pytest.raises(OptionsError, match="must be a JSON object"):
        settings_from_args(_args(eligibility_options=str(options)))
    options.write_text("{")
    with pytest.raises(OptionsError, match="not valid JSON"):
        settings_from_args(_args(eligibility_options=str(options)))
    options.write_text(json.dumps(OPTIONS))
    chosen = settings_from_args(_args(eligibility_options=str(options)))
    assert chosen.configured_sections("dismiss") == ("11357", "11358")
    assert chosen.configured_sections("reduce") == ("11359",)
    la = settings_from_args(_args(flow="los_angeles", county="LOS ANGELES", compute_at=None))
    assert la.configured_sections("dismiss") == ()
    assert la.compute_at.hour == 0
    with pytest.raises(OptionsError):
        settings_from_args(_args(flow="sacramento", county="YOLO"))  # a pilot flow is for its own county


# -- any rows at all ---------------------------------------------------------------------------------------------

TEXT = st.text(st.sampled_from(list('ab ,"\n\r-()1\\.')), max_size=6)
ROW = st.fixed_dictionaries(
    {
        "SUBJECT_ID": st.sampled_from(["1", "2", "3", ""]),
        "PRI_DOB": st.sampled_from(["19500101", "20000229", "1999", "", "19800230"]),
        "STP_TYPE_DESCR": st.sampled_from(["COURT ACTION", "ARREST/DETAINED/CITED", "DECEASED", "REGISTRATION"]),
        "STP_EVENT_DATE": st.sampled_from(["20150101", "20161109", "19790601", "", "x"]),
        "STP_ORI_CNTY_NAME": st.sampled_from([COUNTY, "LOS ANGELES", "sacramento", ""]),
        "CNT_ORDER": st.sampled_from(["001001001000", "001001002000", "002001001000", "", "1"]),
        "OFN": st.sampled_from(["", "NULL  ", "F123"]),
        "OFFENSE_DESCR": st.one_of(
            st.sampled_from(["11357(A) HS-X", "664-11358 HS", " 11359HS", "SEE COMMENT FOR CHARGE", "", "187 PC-M"]),
            TEXT,
        ),
        "OFFENSE_TOC": st.sampled_from(["F", "M", ""]),
        "DISP_DESCR": st.sampled_from(["CONVICTED-JAIL", "CONVICTED", "DISMISSED", ""]),
        "CONV_STAT_DESCR": st.sampled_from(["FELONY", "MISDEMEANOR", "", "INFRACTION"]),
        "SENT_LENGTH": st.sampled_from(["", "10", "-3", "99999999999", "x"]),
        "SENT_TIME_CODE": st.sampled_from(["D", "M", "Y", "", "W"]),
        "COMMENT_TEXT": st.one_of(st.sampled_from(["11357(C) HS", "11360 HS-T", ""]), TEXT),
        "PRI_NAME": TEXT,
        "RACE_DESCR": TEXT,
        "END_OF_REC": TEXT,
    }
)


@settings(max_examples=40)
@given(st.lists(st.tuples(ROW, st.booleans()), max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_rows(tmp_path: Path, rows: list[tuple[dict[str, str], bool]], newline: str) -> None:
    """Never crashes; one output row per input row in both full files; a determination only on a Prop 64
    conviction of the chosen county; the DOJ columns are the input row as Go writes it (also when the input
    quotes every field); the single pass writes what two passes write."""
    raw = [fields(fill="", **row) for row, _ in rows]
    text = "".join(
        (quoted(row) if quote_all else encode_record(row)) + newline
        for row, (_, quote_all) in zip(raw, rows, strict=True)
    )
    full, condensed, prop64 = classify_rows(tmp_path, text)
    assert (full, condensed, prop64) == two_passes(tmp_path, text)
    read_back = iter_rows_of(tmp_path, text)
    # a lone empty row is a blank line (skipped); "\r\n" inside a field reads back as "\n", as with Go
    assert len(read_back) == len(raw)
    assert len(full) == len(read_back) and len(condensed) == len(read_back)
    determined: list[str] = []
    for index, (line, row) in enumerate(zip(full, read_back, strict=True)):
        prefix = encode_record(row)
        assert line.startswith(prefix + ",")
        columns = [c for i, c in enumerate(parse_line(line)[C.NUM_COLUMNS :]) if i != POSSIBLE_OTHER_COLUMN]
        if any(columns):
            determined.append(line)
            record = derive(row, index)
            assert record.was_convicted and record.county == COUNTY
            assert prop64_section(record.code_section) is not None
    assert prop64 == determined


def quoted(row: list[str]) -> str:
    """Every field in quotes: valid CSV that Go's writer would not produce."""
    return ",".join('"' + field.replace('"', '""') + '"' for field in row)


def parse_line(line: str) -> list[str]:
    parsed = parse_row_text(line)
    assert len(parsed) == WIDTH
    return parsed
