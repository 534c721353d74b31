"""``clearance classify`` as a user meets it: run.json, no silent overwrite, the guiding messages, the closing
line, ``clearance explain`` and the LA pilot outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_classify_cli import COUNTY, EXPECTED_SUMMARY, OPTIONS, PEOPLE, doj_file

from streams import RULESET_VERSION, __version__
from streams.cli import main
from streams.doj.columns import COLUMNS
from streams.doj.generate import write_doj
from streams.offline.guide import BEAR_EXTRA_KEYS, unknown_option_keys


@pytest.fixture
def options(tmp_path: Path) -> str:
    path = tmp_path / "options.json"
    path.write_text(json.dumps(OPTIONS))
    return str(path)


def classify(*args: str) -> int:
    return main(["classify", "--compute-at", "2020-07-01", "--no-progress", *args])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_json_says_what_produced_the_outputs(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(out), "--eligibility-options",
                    options) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "succeeded" and run["exit_status"] == 0
    assert (run["county"], run["flow"], run["compute_at"]) == (COUNTY, "configurable", "2020-07-01")
    assert (run["ruleset"], run["version"]) == (RULESET_VERSION, __version__)
    assert run["started_at"] <= run["finished_at"]
    [entry] = run["inputs"]
    assert entry["path"] == source and entry["rows"] == len(PEOPLE)
    assert entry["bytes"] == Path(source).stat().st_size and entry["sha256"] == sha256(Path(source))
    assert run["options"]["given"] == {"file": options, "document": OPTIONS}
    assert run["options"]["parsed"]["baselineEligibility"] == {"dismiss": ["11357"], "reduce": ["11359"]}
    assert run["arguments"]["eligibility_options"] == options
    outputs = {item["path"]: item for item in run["outputs"]}
    assert set(outputs) == {"All_Results.csv", "All_Results_Condensed.csv", "Prop64_Results.csv", "gogen.json",
                            "summary.json"}
    for name, item in outputs.items():
        assert item["sha256"] == sha256(out / name) and item["bytes"] == (out / name).stat().st_size
    assert run["figures"]["rows"] == EXPECTED_SUMMARY["lineCount"]
    assert run["figures"]["by_determination"]["Eligible for Reduction"] == 1


def test_a_run_never_overwrites_silently(tmp_path: Path, options: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    argv = ["--input-doj", source, "--county", COUNTY, "--outputs", str(out), "--eligibility-options", options]
    assert classify(*argv) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert classify(*argv) == 1
    err = capsys.readouterr().err
    assert "already holds the outputs of an earlier run" in err and "--overwrite" in err
    assert err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched, no gogen.err
    assert classify(*argv, "--file-name-suffix", "second") == 0  # other names: allowed
    assert classify(*argv, "--overwrite") == 0
    assert (out / "gogen.json").read_bytes() != b"" and not (out / "gogen.err").exists()


def test_a_failed_runs_leftovers_are_replaced(tmp_path: Path, options: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(out)) == 1  # no options
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(out), "--eligibility-options",
                    options) == 0
    assert "replacing what a failed earlier run left" in capsys.readouterr().err
    assert not (out / "gogen.err").exists() and (out / "gogen.json").exists()


def test_gogen_files_stay_byte_identical_with_the_new_outputs(tmp_path: Path, options: str) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    plain, extra = tmp_path / "a", tmp_path / "b"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(plain), "--eligibility-options",
                    options) == 0
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(extra), "--eligibility-options",
                    options, "--report") == 0
    for name in ("All_Results.csv", "All_Results_Condensed.csv", "Prop64_Results.csv"):
        assert (plain / name).read_bytes() == (extra / name).read_bytes()
    strip = lambda p: {k: v for k, v in json.loads(p.read_text()).items() if k != "processingTimeInSeconds"}  # noqa: E731
    assert strip(plain / "gogen.json") == strip(extra / "gogen.json")


def test_unknown_county_names_the_counties_of_the_file(tmp_path: Path, options: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--county", "Sacramento", "--outputs", str(out), "--eligibility-options",
                    options) == 1
    err = capsys.readouterr().err
    expected = ("no rows for county 'Sacramento'; counties in this file: SACRAMENTO (17 rows), LOS ANGELES (2 rows), "
                "YOLO (1 row); county names match exactly: did you mean --county 'SACRAMENTO'?")
    assert expected in err
    assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"] == expected
    assert not (out / "gogen.json").exists()


def test_unknown_option_keys_are_errors_and_bears_keys_are_not(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"baselineEligibility": {"dismis": ["11357"]}}))
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(tmp_path / "a"),
                    "--eligibility-options", str(bad)) == 1
    err = capsys.readouterr().err
    assert ("unknown key 'dismis' in baselineEligibility; did you mean 'dismiss'? Known keys there: dismiss, reduce"
            in err)
    bear = tmp_path / "bear.json"
    relief = {**OPTIONS["additionalRelief"], **dict.fromkeys(BEAR_EXTRA_KEYS["additionalRelief"], True)}
    bear.write_text(json.dumps({**OPTIONS, "additionalRelief": relief, "BASELINEELIGIBILITY": None}))
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(tmp_path / "b"),
                    "--eligibility-options", str(bear)) == 0
    assert unknown_option_keys({"extra": 1, "additionalRelief": {"subjectagethreshold": 40, "x": 1}}) == [
        ("", "extra"), ("additionalRelief", "x")]


def test_a_wrong_field_count_says_expected_got_and_the_file_line(tmp_path: Path, options: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "short.csv"
    source.write_text(",".join(COLUMNS) + "\n" + ",".join(["x"] * 95) + "\n" + ",".join(["x"] * 93) + "\n")
    out = tmp_path / "out"
    assert classify("--input-doj", str(source), "--county", COUNTY, "--outputs", str(out), "--eligibility-options",
                    options) == 1
    err = capsys.readouterr().err
    assert ("record on line 2: wrong number of fields: expected 95 fields, got 93, on data line 2 (file line 3)"
            in err)
    assert json.loads((out / "gogen.err").read_text())[str(source)]["errorMessage"] == (
        "record on line 2: wrong number of fields"  # gogen's own text, for the tools that read the file
    )


@pytest.mark.parametrize("content", ["", ",".join(COLUMNS) + "\n"])
def test_empty_and_header_only_files_warn(tmp_path: Path, options: str, content: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "empty.csv"
    source.write_text(content)
    assert classify("--input-doj", str(source), "--county", COUNTY, "--outputs", str(tmp_path / "out"),
                    "--eligibility-options", options) == 0
    err = capsys.readouterr().err
    assert f"warning: {source} has no data rows" in err


def test_missing_options_name_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert "missing required field: --eligibility-options" in err and "clearance classify --help" in err


def test_one_closing_line(tmp_path: Path, options: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(out), "--eligibility-options",
                    options) == 0
    assert capsys.readouterr().err == (
        f"clearance classify: 20 rows, 7 people and 10 convictions evaluated: 8 eligible for dismissal, 1 for "
        f"reduction; outputs in {out}\n"
    )


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    from streams.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        assert "clearance " + name in (sub.epilog or ""), name


def test_explain_one_person(tmp_path: Path, options: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = doj_file(tmp_path / "doj.csv", PEOPLE)
    argv = ["explain", "2", "--input-doj", source, "--county", COUNTY, "--eligibility-options", options,
            "--compute-at", "2020-07-01"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "born 1955-06-15, 65 years old at compute-at 2020-07-01" in text
    assert "Eligible for Dismissal — 57 years or older" in text and "decided by rule: age threshold" in text
    assert "sentence ends 2012-03-03" in text and "459 PC — SACRAMENTO" in text
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [conviction] = document["convictions"]
    assert (conviction["determination"], conviction["rule"]) == ("Eligible for Dismissal", "age threshold")
    assert conviction["explain"]["sentence_end_date"] == "2012-03-03"
    assert document["person"]["age_at_compute_at"] == 65
    # the answers are classify's
    out = tmp_path / "out"
    assert classify("--input-doj", source, "--county", COUNTY, "--outputs", str(out), "--eligibility-options",
                    options) == 0
    rows = (out / "Prop64_Results.csv").read_text().splitlines()
    assert any(row.startswith(",,2,") and row.endswith(",Eligible for Dismissal,57 years or older") for row in rows)
    assert main(["explain", "nobody", "--input-doj", source, "--county", COUNTY, "--eligibility-options",
                 options]) == 1
    assert "no rows for subject 'nobody'" in capsys.readouterr().err


def test_la_pilot_outputs(tmp_path: Path) -> None:
    doj = tmp_path / "la.csv"
    write_doj(str(doj), 300, seed=3, counties=["LOS ANGELES", "KERN"])
    out = tmp_path / "out"
    assert main(["classify", "--input-doj", str(doj), "--county", "LOS ANGELES", "--flow", "los_angeles",
                 "--outputs", str(out), "--compute-at", "2019-11-11", "--no-progress", "--la-pilot-outputs",
                 "--individual-age", "45"]) == 0
    gogen = json.loads((out / "gogen.json").read_text())
    pilots = json.loads((out / "gogen_pilots.json").read_text())
    assert list(pilots)[:3] == ["county", "individualDismissAge", "yearsConvictionFree"]
    assert (pilots.pop("individualDismissAge"), pilots.pop("yearsConvictionFree")) == (45, 10)
    assert pilots == gogen
    text = (out / "gogen_pilots_1.out").read_text()
    current, everything = gogen["reliefWithCurrentEligibilityChoices"], gogen["reliefWithDismissAllProp64"]
    specified = text.split("Eligibility is run as specified")[1]
    assert f"{current['CountSubjectsNoFelony']} individuals who had a felony will no longer" in specified.split(
        "If ALL")[0]
    assert f"{everything['CountSubjectsNoConviction']} individuals who had convictions will no longer" in text.split(
        "If ALL Prop 64 convictions")[1].split("If all Prop 64 AND")[0]
    assert f"Found {gogen['lineCount']} Total rows in DOJ file" in text
    section_total = sum(gogen["prop64ConvictionsCountInCountyByCodeSection"].values())
    assert f"Found {section_total} convictions in this county" in text


def test_flagged_rows_go_to_data_quality_csv_and_gogens_files_stay(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A conviction whose person has no DOB and one with an ISO date: both determined, both listed with codes."""
    import csv

    from factories import fields

    from streams.cli import main
    from streams.doj import columns as C
    from streams.gocompat.gocsv import encode_record

    rows = [fields(subject="P1", dob="", offense="11357 HS-POSSESS", county="SACRAMENTO"),
            fields(subject="P2", date="2015-03-01", offense="11359 HS-SALE", county="SACRAMENTO"),
            fields(subject="P3", offense="11360 HS-TRANSPORT", county="SACRAMENTO")]
    doj = tmp_path / "doj.csv"
    doj.write_text(encode_record(C.COLUMNS) + "\n" + "".join(encode_record(r) + "\n" for r in rows))
    options = tmp_path / "options.json"
    options.write_text('{"baselineEligibility": {"dismiss": ["11357", "11358", "11359", "11360"]}}')
    out = tmp_path / "out"
    assert main(["classify", "--input-doj", str(doj), "--county", "SACRAMENTO", "--outputs", str(out),
                 "--eligibility-options", str(options), "--compute-at", "2020-07-01", "--no-progress"]) == 0
    with (out / "Data_Quality.csv").open(newline="") as handle:
        flagged = list(csv.DictReader(handle))
    assert [(r["SUBJECT_ID"], r["Data Quality"], r["File Line"]) for r in flagged] == [
        ("P1", "dob_missing", "2"), ("P2", "date_invalid", "3")]
    with (out / "Prop64_Results.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3  # gogen's answers for all three, unchanged
