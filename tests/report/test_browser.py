"""The report as a person gets it: the HTML opened in real headless Chromium (its DOM's figures equal gogen.json's,
charts present with titles) and the PDF turned back into text by poppler (the same figures)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import classify, expected_figures, parse

from streams.doj.generate import write_doj
from streams.report.pdf import run_headless

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("browser")
    doj = work / "doj.csv"
    write_doj(str(doj), 500, seed=5, counties=["SACRAMENTO", "KERN"])
    return classify(work, doj, "SACRAMENTO", "--report")


def test_the_browser_shows_gogen_json_figures_and_the_charts(report: Path) -> None:
    summary = json.loads((report / "gogen.json").read_text())
    dom = run_headless(["--dump-dom", (report / "Summary_Report.html").resolve().as_uri()]).stdout.decode()
    page = parse(dom)
    figures = {key: int(value.replace(",", "")) for key, value in page.figures.items()}
    expected = expected_figures(summary)
    assert {key: figures[key] for key in expected} == expected
    assert len(page.svgs) == 3 and all(svg["role"] == "img" for svg in page.svgs)
    titles = re.findall(r'<title id="[^"]+">([^<]+)</title>', dom)
    assert any("by code section and determination" in t for t in titles)
    assert any("additional relief" in t for t in titles)
    assert any("compared with dismissing all Prop 64" in t for t in titles)


def test_the_pdf_holds_the_same_figures(report: Path) -> None:
    pdf = report / "Summary_Report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert shutil.which("pdftotext"), "poppler-utils: bash scripts/setup.sh --browser"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    flat = " ".join(text.split())
    summary = json.loads((report / "gogen.json").read_text())
    current = summary["reliefWithCurrentEligibilityChoices"]
    everything = summary["reliefWithDismissAllProp64"]
    assert f"{current['CountSubjectsNoFelony']:,} people will no longer have a felony" in flat
    no_conviction = current["CountSubjectsNoConviction"]
    assert f"{no_conviction:,} people will no longer have any conviction on their California record" in flat
    assert f"{summary['subjectsWithSomeReliefCount']:,} individuals will get some type of relief" in flat
    assert f"processed {summary['lineCount']:,} lines of data" in flat
    assert f"{everything['CountSubjectsNoFelony']:,} people will no longer have any felonies" in flat
    people = summary["subjectsWithProp64ConvictionCountInCounty"]
    assert re.search(rf"People with a Prop 64 conviction {people:,}\b", flat)
    assert re.search(rf"Felonies {summary['prop64FelonyConvictionsCountInCounty']:,}\b", flat)
    for section, n in summary["convictionDismissalCountByCodeSection"].items():
        assert re.search(rf"Dismissals based on code section H&S § {section} {n:,}\b", flat)
    for reason, n in summary["convictionDismissalCountByAdditionalRelief"].items():
        assert re.search(rf"Dismissals based on additional relief: {re.escape(reason)} {n:,}\b", flat)
    # the charts are in the PDF as vector text, and pages come out as images
    assert "convictions dismissed" in flat and "dismiss all Prop 64" in flat
    pages = subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(report / "page")], check=True)
    assert pages.returncode == 0 and len(list(report.glob("page*.png"))) >= 2
