"""``clearance classify`` end to end through ``streams.cli.main``: files, summary figures, errors, exit status.

The summary test runs a small hand-built file whose figures were worked out by hand from the rules (spec §8.1,
§9); the comments beside each person say why each count is what it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factories import doj_row, laid_out

from streams.cli import main
from streams.doj.columns import COLUMNS
from streams.doj.generate import write_doj
from streams.gocompat.gocsv import encode_record

COUNTY = "SACRAMENTO"
OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357"], "reduce": ["11359"]},
    "additionalRelief": {
        "subjectUnder21AtConviction": True,
        "subjectAgeThreshold": 57,
        "yearsSinceConvictionThreshold": 10,
        "yearsCrimeFreeThreshold": 0,
        "subjectHasOnlyProp64Charges": True,
        "subjectIsDeceased": True,
    },
}


def court(subject: str, dob: str, order: str, offense: str, date: str, **extra: str) -> dict[str, str]:
    """The table's columns in its order: a felony conviction in the county (``factories.doj_row``)."""
    return doj_row(
        subject=subject, name="FAKE,PERSON", dob=dob, date=date, county=COUNTY, count_order=order, offense=offense,
        **extra,
    )


# Compute-at 2020-07-01; the last-7-years window starts after 2013-07-01.
PEOPLE: list[dict[str, str]] = [
    # P1 (born 1990): r0 11357 felony → "Dismiss all HS 11357"; r1 11359 felony, only Prop 64 on record →
    # "Only has 11357-60 charges". Every conviction dismissed, both recent: all three relief figures.
    court("1", "19900101", "001001001000", "11357(A) HS-POSSESS", "20150505"),
    court("1", "19900101", "002001001000", "11359 HS-POSSESS FOR SALE", "20180303"),
    # P2 (born 1955-06-15, 57 on 2012-06-15): r2 arrest only; r3 11358 felony → "57 years or older"; r4 another
    # sentence row of r3's count (no new conviction); r5 an 11359 felony in Los Angeles and r6 a burglary
    # misdemeanor stay without determination. Some relief, no figure.
    court("2", "19550615", "001001001000", "11358 HS-CULTIVATE", "20120101", STP_TYPE_DESCR="ARREST/DETAINED/CITED",
          DISP_DESCR=""),
    court("2", "19550615", "001002001000", "11358 HS-CULTIVATE", "20120202", DISP_DESCR="CONVICTED-PROBATION"),
    court("2", "19550615", "001002001000", "11358 HS-CULTIVATE", "20120202", SENT_LENGTH="30", SENT_TIME_CODE="D"),
    court("2", "19550615", "002001001000", "11359 HS-SALE", "20140101", STP_ORI_CNTY_NAME="LOS ANGELES"),
    court("2", "19550615", "003001001000", "459 PC-BURGLARY", "20190101", CONV_STAT_DESCR="MISDEMEANOR"),
    # P3 (born 2000-02-02): r7 charge in the comment, blank CONV_STAT_DESCR with OFFENSE_TOC F (a felony) at 19
    # → "21 years or younger"; r8 11357 misdemeanor → "Misdemeanor or Infraction". All three figures.
    court("3", "20000202", "001001001000", "SEE COMMENT FOR CHARGE", "20190505", COMMENT_TEXT="11360 HS-TRANSPORT",
          CONV_STAT_DESCR="", OFFENSE_TOC="F"),
    court("3", "20000202", "002001001000", "11357(C)HS-POSSESS", "20190808", CONV_STAT_DESCR="MISDEMEANOR"),
    # P4 (born 1970, deceased): r9 11359 felony of 2005 → "Conviction occurred 10 or more years ago"; r10 11359
    # felony of 2016 → "Individual is deceased"; r11 an assault in Yolo; r12 the DECEASED row. Some relief only.
    court("4", "19700101", "001001001000", "11359 HS-SALE", "20050505"),
    court("4", "19700101", "002001001000", "11359 HS-SALE", "20160101"),
    court("4", "19700101", "003001001000", "245(A)(1) PC-ASSAULT", "20170101", STP_ORI_CNTY_NAME="YOLO"),
    court("4", "19700101", "004001001000", "", "20180101", STP_TYPE_DESCR="DECEASED", DISP_DESCR=""),
    # P5 (born 1980): r13 11359 felony → "Reduce all HS 11359"; r14 a murder conviction. Some relief only.
    court("5", "19800303", "001001001000", "11359 HS-SALE", "20170606"),
    court("5", "19800303", "002001001000", "187 PC-MURDER", "20180101"),
    # P6: a Prop 64 felony in Los Angeles only; P7: an arrest only. Neither counts anywhere.
    court("6", "19850101", "001001001000", "11357 HS-POSSESS", "20100101", STP_ORI_CNTY_NAME="LOS ANGELES"),
    court("7", "19600101", "001001001000", "11358 HS", "20100101", STP_TYPE_DESCR="ARREST/DETAINED/CITED",
          DISP_DESCR=""),
    # P8 (born 1992): r17 attempt 664/11358 felony at 16 → "21 years or younger"; old, so not in the 7-year figure.
    court("8", "19920202", "001001001000", "664/11358 HS-ATTEMPT", "20080808"),
    # P9 (born 1990): r18 11360 felony that no option covers → no determination (quirk 13); r19 a burglary
    # misdemeanor. Only the dismiss-all-Prop-64 what-if clears the felony.
    court("9", "19900505", "001001001000", "11360(A) HS-TRANSPORT", "20180909"),
    court("9", "19900505", "002001001000", "459 PC-BURGLARY", "20181010", CONV_STAT_DESCR="MISDEMEANOR"),
]
EXPECTED_SUMMARY: dict[str, Any] = {
    "county": COUNTY,
    "earliestConviction": "2005-05-05T00:00:00Z",
    "lineCount": 20,
    "reliefWithCurrentEligibilityChoices": {
        "CountSubjectsNoConviction": 3,  # P1, P3, P8
        "CountSubjectsNoConvictionLast7Years": 2,  # P1, P3
        "CountSubjectsNoFelony": 3,  # P1, P3, P8
    },
    "reliefWithDismissAllProp64": {
        "CountSubjectsNoConviction": 3,
        "CountSubjectsNoConvictionLast7Years": 2,
        "CountSubjectsNoFelony": 4,  # and P9
    },
    "prop64ConvictionsCountInCountyByCodeSection": {"11357": 2, "11358": 2, "11359": 4, "11360": 2},
    "subjectsWithProp64ConvictionCountInCounty": 7,  # P1-P5, P8, P9
    "prop64FelonyConvictionsCountInCounty": 9,
    "prop64NonFelonyConvictionsCountInCounty": 1,  # r8
    "subjectsWithSomeReliefCount": 6,  # P1-P5, P8
    "convictionDismissalCountByCodeSection": {"11357": 1},
    "convictionReductionCountByCodeSection": {"11359": 1},
    "convictionDismissalCountByAdditionalRelief": {
        "21 years or younger": 2,
        "57 years or older": 1,
        "Conviction occurred 10 or more years ago": 1,
        "Individual is deceased": 1,
        "Only has 11357-60 charges": 1,
    },
}
DETERMINED_ROWS = [0, 1, 3, 7, 8, 9, 10, 13, 17, 18]


def doj_file(path: Path, rows: list[dict[str, str]], *, header: bool = True) -> str:
    lines = [encode_record(COLUMNS)] if header else []
    lines += [encode_record(laid_out(row)) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def options(tmp_path: Path) -> str:
    path = tmp_path / "options.json"
    path.write_text(json.dumps(OPTIONS))
    return str(path)


def classify(*args: str) -> int:
    return main(["classify", "--county", COUNTY, "--compute-at", "2020-07-01", "--no-progress", *args])


def test_summary_of_a_hand_built_file(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", options) == 0
    gogen = (out / "gogen.json").read_text()
    assert (out / "summary.json").read_text() == gogen
    summary = json.loads(gogen)
    assert summary.pop("processingTimeInSeconds") > 0
    assert summary == EXPECTED_SUMMARY
    assert list(json.loads(gogen)) == ["county", "earliestConviction", "lineCount", "processingTimeInSeconds", *list(
        EXPECTED_SUMMARY)[3:]]


def test_result_files_of_a_hand_built_file(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", options) == 0
    full = (out / "All_Results.csv").read_text().split("\n")
    condensed = (out / "All_Results_Condensed.csv").read_text().split("\n")
    prop64 = (out / "Prop64_Results.csv").read_text().split("\n")
    assert len(full) == len(condensed) == len(PEOPLE) + 2 and full[-1] == condensed[-1] == ""
    assert len(prop64) == len(DETERMINED_ROWS) + 2
    assert prop64[1:-1] == [full[1 + index] for index in DETERMINED_ROWS]
    determinations = {index: line.rsplit(",", 2)[1] for index, line in enumerate(full[1:-1])}
    assert determinations[0] == "Eligible for Dismissal"
    assert determinations[13] == "Eligible for Reduction"
    assert determinations[18] == ""  # determined, but nothing applies (quirk 13)
    assert full[1 + 4].endswith("," * 18)  # the sentence row of r3's count carries no determination
    # r1: no case number (empty OFN), 2 convictions, after 11/9/2016, 2.3 years before compute-at
    r1_columns = ",,2,,Y,-,-,-,03/03/2018,2.3,2.3,2,1,0,1,0,-,Eligible for Dismissal,Only has 11357-60 charges"
    assert full[1 + 1].endswith(r1_columns)
    assert condensed[1 + 1].endswith(r1_columns)
    r14 = ',"FAKE,PERSON",,19800303,,,20180101,,SACRAMENTO,,,187 PC-MURDER,CONVICTED-JAIL,FELONY,,,,,,'
    assert condensed[1 + 14] == r14 + "," * 18


def test_windows_line_ends_give_the_same_results(tmp_path: Path, options: str) -> None:
    unix = doj_file(tmp_path / "unix.csv", PEOPLE)
    windows = tmp_path / "windows.csv"
    windows.write_bytes(Path(unix).read_bytes().replace(b"\n", b"\r\n"))
    for source, out in ((unix, tmp_path / "a"), (str(windows), tmp_path / "b")):
        assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", options) == 0
    for name in ("All_Results.csv", "All_Results_Condensed.csv", "Prop64_Results.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_names_of_files_with_a_suffix_and_several_inputs(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    inputs = f"{source},{source}"
    argv = ["--input-doj", inputs, "--outputs", str(out), "--eligibility-options", options, "--file-name-suffix", "s"]
    assert classify(*argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "All_Results_1_s.csv",
        "All_Results_2_s.csv",
        "All_Results_Condensed_1_s.csv",
        "All_Results_Condensed_2_s.csv",
        "Data_Quality_1_s.csv",
        "Data_Quality_2_s.csv",
        "Prop64_Results_1_s.csv",
        "Prop64_Results_2_s.csv",
        "gogen_s.json",
        "run_s.json",
        "summary_s.json",
    ]
    assert (out / "All_Results_1_s.csv").read_bytes() == (out / "All_Results_2_s.csv").read_bytes()
    summary = json.loads((out / "gogen_s.json").read_text())
    # the same file twice: every count doubles (quirk 12), the earliest date stays
    assert summary["lineCount"] == 40
    assert summary["subjectsWithProp64ConvictionCountInCounty"] == 14
    assert summary["convictionDismissalCountByAdditionalRelief"]["21 years or younger"] == 4
    assert summary["reliefWithDismissAllProp64"]["CountSubjectsNoFelony"] == 8
    assert summary["earliestConviction"] == "2005-05-05T00:00:00Z"


def test_file_without_header_and_without_prop64(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE[5:7], header=False)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", options) == 0
    summary = json.loads((out / "gogen.json").read_text())
    assert summary["lineCount"] == 2
    assert summary["prop64ConvictionsCountInCountyByCodeSection"] == {}
    assert summary["earliestConviction"].endswith("Z")  # gogen: the time of the run when there is none
    assert summary["convictionDismissalCountByCodeSection"] == {"11357": 0}


@pytest.mark.parametrize("content", ["", "\n\n\n", ",".join(COLUMNS) + "\n", ",".join(COLUMNS)])
def test_files_without_rows(tmp_path: Path, content: str) -> None:
    source = tmp_path / "doj.csv"
    source.write_text(content)
    out = tmp_path / "out"
    assert classify("--input-doj", str(source), "--outputs", str(out), "--flow", "sacramento") == 0
    assert (out / "All_Results.csv").read_text().count("\n") == 1
    assert (out / "All_Results_Condensed.csv").read_text().count("\n") == 1
    assert (out / "Prop64_Results.csv").read_text().count("\n") == 1
    assert json.loads((out / "gogen.json").read_text())["lineCount"] == 0


def test_errors_of_some_files_are_reported_and_others_processed(
    tmp_path: Path, options: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = doj_file(tmp_path / "good.csv", PEOPLE)
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(COLUMNS[:-1]) + "\n" + ",".join(["x"] * 94) + "\n")
    missing = str(tmp_path / "missing.csv")
    out = tmp_path / "out"
    argv = ["--input-doj", f"{good},{bad},{missing}", "--outputs", str(out), "--eligibility-options", options]
    assert classify(*argv, "--file-name-suffix", "a_suffix") == 1
    errors = json.loads((out / "gogen_a_suffix.err").read_text())
    assert errors == {
        str(bad): {"errorType": "PARSING", "errorMessage": "record on line 1: wrong number of fields"},
        missing: {"errorType": "OTHER", "errorMessage": f"open {missing}: no such file or directory"},
    }
    err = capsys.readouterr().err
    assert f"{bad}: record on line 1: wrong number of fields" in err
    assert f"{missing}: open {missing}: no such file or directory" in err
    produced = sorted(p.name for p in out.iterdir())
    assert produced == [
        "All_Results_1_a_suffix.csv",
        "All_Results_Condensed_1_a_suffix.csv",
        "Data_Quality_1_a_suffix.csv",
        "Prop64_Results_1_a_suffix.csv",
        "gogen_a_suffix.err",
        "run_a_suffix.json",
    ]  # no summary when a file failed, as in gogen


def test_configurable_flow_requires_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--outputs", str(out)) == 1
    message = "missing required field: Run gogen --help for more info"
    assert json.loads((out / "gogen.err").read_text()) == {"": {"errorType": "OTHER", "errorMessage": message}}
    # stderr names the flag (the error file keeps gogen's text for the tools that read it)
    assert "missing required field: --eligibility-options" in capsys.readouterr().err


def test_other_flows_ignore_options(tmp_path: Path) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--outputs", str(out), "--flow", "sacramento") == 0
    summary = json.loads((out / "gogen.json").read_text())
    assert summary["convictionDismissalCountByCodeSection"] == {}
    assert summary["lineCount"] == len(PEOPLE)


@pytest.mark.parametrize("value", ["2020-7-01", "2020-02-30", "20200701", "2020-07-01x", "0000-01-01"])
def test_invalid_compute_at(tmp_path: Path, options: str, value: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    argv = ["classify", "--county", COUNTY, "--compute-at", value, "--input-doj", source, "--outputs", str(out),
            "--eligibility-options", options]
    assert main(argv) == 1
    assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"] == (
        "invalid --compute-at date: Must be a valid date in the format YYYY-MM-DD"
    )


def test_invalid_options(tmp_path: Path) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"additionalRelief": {"subjectAgeThreshold": 30}}))
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", str(options)) == 1
    assert json.loads((out / "gogen.err").read_text()) == {
        "": {"errorType": "OTHER", "errorMessage": "SubjectAgeThreshold should be between 40 and 65, or 0"}
    }
    missing = str(tmp_path / "nope.json")
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", missing) == 1
    assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"] == (
        f"open {missing}: no such file or directory"
    )


# -- messy input and error paths: gogen's answers (issue #11; spec §10, §11) -----------------------------------------


def test_year_0000_dates_in_the_outputs(tmp_path: Path, options: str) -> None:
    """Quirk 15: gogen writes 01/05/0000 and 292.3 (not 01/01/0001 and -1.0), and the year-0 date is the earliest
    conviction of the summary."""
    source = doj_file(tmp_path / "doj.csv", [court("1", "19800101", "001001001000", "11357 HS-POSSESS", "00000105")])
    out = tmp_path / "out"
    assert main(["classify", "--county", COUNTY, "--compute-at", "2019-11-11", "--no-progress", "--input-doj",
                 source, "--outputs", str(out), "--eligibility-options", options]) == 0
    row = (out / "All_Results.csv").read_text().split("\n")[1]
    assert ",01/05/0000,292.3,-1.0," in row
    assert json.loads((out / "gogen.json").read_text())["earliestConviction"] == "0000-01-05T00:00:00Z"


def test_pilot_what_if_figures_use_the_pilot_code_section(tmp_path: Path) -> None:
    """Quirk 21: gogen_pilots reads COMMENT_TEXT only for an exact SEE COMMENT FOR CHARGE, in its what-if too: a
    San Joaquin misdemeanour with a blank OFFENSE_DESCR is no Prop 64 conviction there, so 0/0/0."""
    row = doj_row(subject="1", dob="19800101", date="20150101", county="SAN JOAQUIN", offense="",
                  COMMENT_TEXT="11357(D) HS-POSSESS", felony=False)
    source = doj_file(tmp_path / "doj.csv", [row])
    out = tmp_path / "out"
    assert main(["classify", "--county", "SAN JOAQUIN", "--flow", "san_joaquin", "--compute-at", "2020-07-01",
                 "--no-progress", "--input-doj", source, "--outputs", str(out)]) == 0
    summary = json.loads((out / "gogen.json").read_text())
    assert summary["reliefWithDismissAllProp64"] == {
        "CountSubjectsNoConviction": 0, "CountSubjectsNoConvictionLast7Years": 0, "CountSubjectsNoFelony": 0}


def test_an_undecodable_county_is_written_as_go_writes_it(tmp_path: Path, options: str) -> None:
    """Quirk 23: Go's encoding/json writes a byte that is not UTF-8 as the six characters \\ufffd."""
    county = "SACRAMENTO\udce9"  # the byte 0xE9 of the command line, as Python's argv holds it
    rows = [{**row, "STP_ORI_CNTY_NAME": county} for row in PEOPLE[:2]]
    source = tmp_path / "doj.csv"
    source.write_bytes(Path(doj_file(tmp_path / "plain.csv", rows[:0])).read_bytes() + "".join(
        encode_record(laid_out(row)) + "\n" for row in rows).encode("utf-8", "surrogateescape"))
    out = tmp_path / "out"
    assert main(["classify", "--county", county, "--compute-at", "2020-07-01", "--no-progress", "--input-doj",
                 str(source), "--outputs", str(out), "--eligibility-options", options]) == 0
    assert '"county":"SACRAMENTO\\ufffd"' in (out / "gogen.json").read_text(encoding="utf-8")


def test_options_file_holding_null_runs_with_empty_options(tmp_path: Path) -> None:
    """gogen: json.Unmarshal of null changes nothing, so the run goes on with no section configured."""
    options = tmp_path / "null.json"
    options.write_text("null")
    out = tmp_path / "out"
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", str(options)) == 0
    summary = json.loads((out / "gogen.json").read_text())
    assert summary["convictionDismissalCountByCodeSection"] == {}
    assert summary["convictionDismissalCountByAdditionalRelief"] == {}


@pytest.mark.parametrize("missing", ["--county", "--input-doj", "--outputs"])
def test_a_missing_required_flag_is_gogens_error(
    tmp_path: Path, options: str, missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """gogen checks its four flags itself: gogen.err with its text (in the outputs folder, else the working
    directory) and exit status 1, where argparse would exit 2."""
    monkeypatch.chdir(tmp_path)
    values = {"--county": COUNTY, "--input-doj": doj_file(tmp_path / "doj.csv", PEOPLE), "--outputs": "out"}
    del values[missing]
    argv = ["classify", "--no-progress", "--eligibility-options", options]
    argv += [item for flag, value in values.items() for item in (flag, value)]
    assert main(argv) == 1
    error_file = tmp_path / ("gogen.err" if missing == "--outputs" else "out/gogen.err")
    message = "missing required field: Run gogen --help for more info"
    assert json.loads(error_file.read_text()) == {"": {"errorType": "OTHER", "errorMessage": message}}
    assert "missing required field" in capsys.readouterr().err


def test_directories_are_read_errors(tmp_path: Path, options: str) -> None:
    """Go opens a directory; reading it fails with ``read <path>: is a directory``."""
    folder = tmp_path / "folder"
    folder.mkdir()
    out = tmp_path / "out"
    assert classify("--input-doj", str(folder), "--outputs", str(out), "--eligibility-options", options) == 1
    assert json.loads((out / "gogen.err").read_text()) == {
        str(folder): {"errorType": "OTHER", "errorMessage": f"read {folder}: is a directory"}}
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", str(folder)) == 1
    assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"] == f"read {folder}: is a directory"


@pytest.mark.parametrize(
    ("content", "gogen_text", "shown"),
    [
        (b'{"additionalRelief": {"subjectAgeThreshold": 45.0}}',
         "json: cannot unmarshal number 45.0 into Go struct field "
         "AdditionalRelief.additionalRelief.subjectAgeThreshold of type int",
         "eligibility options: additionalRelief.subjectAgeThreshold must be a whole number, got number 45.0"),
        (b'{"baselineEligibility": {"dismiss": ["11357",]}}',
         "invalid character ']' looking for beginning of value",
         "eligibility options are not valid JSON: invalid character ']' looking for beginning of value "
         "(line 1, column 46)"),
        (b"[]", "json: cannot unmarshal array into Go value of type data.EligibilityOptions",
         "eligibility options must be a JSON object, got array"),
    ],
)
def test_options_errors_keep_gos_text_in_the_error_file(
    tmp_path: Path, content: bytes, gogen_text: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """gogen.err holds Go's encoding/json text, which BEAR-like tools read; stderr says where."""
    options = tmp_path / "options.json"
    options.write_bytes(content)
    out = tmp_path / "out"
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    assert classify("--input-doj", source, "--outputs", str(out), "--eligibility-options", str(options)) == 1
    assert json.loads((out / "gogen.err").read_text()) == {"": {"errorType": "OTHER", "errorMessage": gogen_text}}
    assert shown in capsys.readouterr().err


@pytest.mark.parametrize(("flow", "county"), [("configurable", "SACRAMENTO"), ("los_angeles", "LOS ANGELES"),
                                              ("san_joaquin", "SAN JOAQUIN")])
def test_a_messy_generated_file_is_classified(tmp_path: Path, options: str, flow: str, county: str) -> None:
    """Every data error of the generator's --messy-rate goes through (blank ids also force the two passes)."""
    source = tmp_path / "messy.csv"
    write_doj(str(source), 400, seed=5, counties=[county, "KERN"], messy_rate=0.05)
    out = tmp_path / "out"
    extra = ["--eligibility-options", options] if flow == "configurable" else []
    assert main(["classify", "--county", county, "--flow", flow, "--compute-at", "2020-07-01", "--no-progress",
                 "--input-doj", str(source), "--outputs", str(out), *extra]) == 0
    rows = (out / "All_Results.csv").read_bytes().count(b"\n") - 1
    assert rows == json.loads((out / "gogen.json").read_text())["lineCount"] > 0
