"""Output file names and the error file, as gogen names and writes them (spec §2, §9)."""

from __future__ import annotations

import json
from pathlib import Path

from streams.doj.columns import COLUMNS, CONDENSED_COLUMNS
from streams.offline.files import (
    CONDENSED_HEADER,
    FULL_HEADER,
    error_document,
    error_path,
    result_paths,
    summary_paths,
    write_error_file,
)
from streams.rules.info import ELIGIBILITY_COLUMNS


def test_single_input_has_no_index() -> None:
    paths = result_paths("out", 1, 1)
    assert (paths.all_results, paths.condensed, paths.prop64) == (
        "out/All_Results.csv",
        "out/All_Results_Condensed.csv",
        "out/Prop64_Results.csv",
    )


def test_several_inputs_are_indexed_before_the_suffix() -> None:
    paths = result_paths("out", 2, 3, "Feb_8_2019_3.32.43.PM")
    assert paths.all_results == "out/All_Results_2_Feb_8_2019_3.32.43.PM.csv"
    assert paths.condensed == "out/All_Results_Condensed_2_Feb_8_2019_3.32.43.PM.csv"
    assert paths.prop64 == "out/Prop64_Results_2_Feb_8_2019_3.32.43.PM.csv"


def test_run_level_names() -> None:
    assert summary_paths("out") == ("out/gogen.json", "out/summary.json")
    assert summary_paths("out", "a_suffix") == ("out/gogen_a_suffix.json", "out/summary_a_suffix.json")
    assert error_path("out") == "out/gogen.err"
    assert error_path("out", "a_suffix") == "out/gogen_a_suffix.err"


def test_headers() -> None:
    assert ",".join(COLUMNS + ELIGIBILITY_COLUMNS) + "\n" == FULL_HEADER
    assert ",".join(CONDENSED_COLUMNS + ELIGIBILITY_COLUMNS) + "\n" == CONDENSED_HEADER
    assert len(FULL_HEADER.split(",")) == 95 + 18


def test_error_document_is_gos_map_of_structs(tmp_path: Path) -> None:
    errors = {
        "/data/missing.csv": ("OTHER", "open /data/missing.csv: no such file or directory"),
        "/data/bad.csv": ("PARSING", "record on line 1: wrong number of fields"),
    }
    assert error_document(errors) == (
        '{"/data/bad.csv":{"errorType":"PARSING","errorMessage":"record on line 1: wrong number of fields"},'
        '"/data/missing.csv":{"errorType":"OTHER","errorMessage":"open /data/missing.csv: no such file or directory"}}'
    )
    path = write_error_file(str(tmp_path / "new"), "s", {"": ("OTHER", "boom")})
    assert path == str(tmp_path / "new" / "gogen_s.err")
    assert json.loads(Path(path).read_text()) == {"": {"errorType": "OTHER", "errorMessage": "boom"}}
