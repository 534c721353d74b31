"""The summary report: one template for an offline run and for the live determinations, its figures equal to
gogen.json's, accessible markup and charts (no browser needed here; tests/report/test_browser.py opens it)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from streams.cli import main
from streams.doj.generate import write_doj
from streams.offline.explain import offline_determinations
from streams.offline.pilots import _subjects
from streams.offline.settings import ClassifySettings
from streams.report.html import render_html
from streams.report.model import live_report
from streams.rules.flows.registry import make_flow
from streams.summary import county_counts, data_quality_counts

OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359", "11360"]},
    "additionalRelief": {"subjectUnder21AtConviction": True, "subjectAgeThreshold": 50,
                         "yearsSinceConvictionThreshold": 5, "yearsCrimeFreeThreshold": 5,
                         "subjectHasOnlyProp64Charges": True, "subjectIsDeceased": True},
}
COMPUTE_AT = "2020-07-01"


class Figures(HTMLParser):
    """``data-figure`` key → text of the element, plus the page's headings, charts and tables."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.headings: list[str] = []
        self.svgs: list[dict[str, str | None]] = []
        self.titles: list[str] = []
        self.tables = 0
        self._open: list[tuple[str, str | None]] = []
        self._text: dict[int, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "svg":
            self.svgs.append(attributes)
        if tag == "table":
            self.tables += 1
        self._open.append((tag, attributes.get("data-figure")))
        self._text[len(self._open)] = []

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            depth = len(self._open)
            opened, key = self._open.pop()
            text = "".join(self._text.pop(depth, []))
            if self._open:
                self._text.setdefault(len(self._open), []).append(text)
            if key is not None:
                self.figures[key] = text.strip()
            if opened in ("h1", "h2", "h3", "h4"):
                self.headings.append(f"{opened}:{text.strip()}")
            if opened == "title" and any(svg for svg in self.svgs):
                self.titles.append(text.strip())
            if opened == "tag" or opened == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.setdefault(len(self._open), []).append(data)


def parse(html: str) -> Figures:
    parser = Figures()
    parser.feed(html)
    return parser


def expected_figures(summary: dict[str, Any]) -> dict[str, int]:
    """gogen.json as the page's ``data-figure`` keys."""
    flat: dict[str, int] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for inner, n in value.items():
                flat[f"{key}.{inner}"] = n
        elif key not in ("county", "earliestConviction", "processingTimeInSeconds"):
            flat[key] = value
    flat["prop64ConvictionsCount"] = (
        summary["prop64FelonyConvictionsCountInCounty"] + summary["prop64NonFelonyConvictionsCountInCounty"]
    )
    return flat


def page_figures(html: str, *, county: str | None = None) -> dict[str, int]:
    """The ``data-figure`` values of one county's section (or of the whole page)."""
    if county is not None:
        found = re.search(rf'<section class="county[^"]*" aria-labelledby="[^"]+" data-county="{county}">', html)
        assert found is not None, county
        start = found.start()
        end = html.find('<section class="county', start + 1)
        html = html[start:] if end < 0 else html[start:end]
    return {key: int(value.replace(",", "")) for key, value in parse(html).figures.items()}


def classify(tmp_path: Path, doj: Path, county: str, *extra: str) -> Path:
    options = tmp_path / "options.json"
    options.write_text(json.dumps(OPTIONS))
    out = tmp_path / "out"
    argv = ["classify", "--input-doj", str(doj), "--county", county, "--outputs", str(out), "--eligibility-options",
            str(options), "--compute-at", COMPUTE_AT, "--no-progress", *extra]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    doj = tmp_path_factory.mktemp("doj") / "doj.csv"
    write_doj(str(doj), 600, seed=12, counties=["SACRAMENTO", "KERN"])
    return doj


def test_offline_report_shows_gogen_json_figures(tmp_path: Path, sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streams.report.pdf.find_browser", lambda: None)  # the PDF is the browser test's
    out = classify(tmp_path, sample, "SACRAMENTO", "--report")
    summary = json.loads((out / "gogen.json").read_text())
    html = (out / "Summary_Report.html").read_text()
    figures = page_figures(html)
    expected = expected_figures(summary)
    assert {key: figures[key] for key in expected} == expected
    assert summary["subjectsWithProp64ConvictionCountInCounty"] > 20  # a file with something to show
    assert not (out / "Summary_Report.pdf").exists()
    # run.json lists the report among the outputs
    assert "Summary_Report.html" in {o["path"] for o in json.loads((out / "run.json").read_text())["outputs"]}


def test_report_markup_is_accessible(tmp_path: Path, sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("streams.report.pdf.find_browser", lambda: None)
    html = (classify(tmp_path, sample, "SACRAMENTO", "--report") / "Summary_Report.html").read_text()
    page = parse(html)
    assert page.headings[0] == "h1:Summary Report: Sacramento County"
    assert sum(h.startswith("h2:") for h in page.headings) >= 6
    assert not any(h.startswith("h1:") for h in page.headings[1:])
    assert '<html lang="en">' in html and "<caption>" in html and 'scope="col"' in html and 'scope="row"' in html
    assert page.tables >= 4
    # the three charts, each an image with a title and a description
    assert len(page.svgs) == 3
    for svg in page.svgs:
        assert svg["role"] == "img"
        title_id, desc_id = str(svg["aria-labelledby"]).split()
        assert f'<title id="{title_id}">' in html and f'<desc id="{desc_id}">' in html
    assert len(set(re.findall(r'\bid="([^"]+)"', html))) == len(re.findall(r'\bid="([^"]+)"', html))  # unique ids
    assert "@media print" in html and "@page" in html


def _live_determinations(doj: Path, counties: list[str]) -> list[dict[str, Any]]:
    """What the worker would hold for the file under each county's policy, as ``clearance report`` reads it."""
    dets: list[dict[str, Any]] = []
    for county in counties:
        flow = make_flow("configurable", county, options=OPTIONS)
        settings = ClassifySettings(county, flow, datetime(2020, 7, 1))
        for subject in _subjects(str(doj), False).values():
            if any(c.county == county for c in subject.convictions):
                dets += offline_determinations(subject, settings)
    return dets


def _live_html(dets: list[dict[str, Any]], county: str | None = None) -> str:
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for det in dets:
        by_subject[det["subject_id"]].append(det)
    report = live_report(
        county_counts(by_subject), data_quality_counts(dets), generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        version="test", ruleset="test", provenance=[("Source", "test")], county=county,
    )
    return render_html(report)


def test_live_report_shows_the_same_figures_as_classify(tmp_path: Path, sample: Path) -> None:
    out = classify(tmp_path, sample, "SACRAMENTO")
    summary = json.loads((out / "gogen.json").read_text())
    html = _live_html(_live_determinations(sample, ["SACRAMENTO"]), county="SACRAMENTO")
    figures = page_figures(html)
    expected = expected_figures(summary)
    expected.pop("lineCount")  # the topic has no rows
    # the live source lists the sections that decided something (the policy's list is not on the topic)
    for key in [k for k in expected if k.startswith(("convictionDismissalCountByCodeSection.",
                                                     "convictionReductionCountByCodeSection."))]:
        if expected[key] == 0:
            expected.pop(key)
    assert {key: figures.get(key) for key in expected} == expected
    assert "None recorded: no current determination carries a data-quality flag." in html


def test_statewide_live_report_has_every_county_and_the_totals(tmp_path: Path, sample: Path) -> None:
    dets = _live_determinations(sample, ["SACRAMENTO", "KERN"])
    dets[0] = {**dets[0], "data_quality": ["dob_missing"]}
    html = _live_html(dets)
    page = parse(html)
    assert page.headings[0] == "h1:Summary Report: California"
    assert 'data-county="KERN"' in html and 'data-county="SACRAMENTO"' in html
    state, kern, sacramento = (page_figures(html, county=c) for c in ("Statewide", "KERN", "SACRAMENTO"))
    for key in ("subjectsWithSomeReliefCount", "prop64ConvictionsCount",
                "reliefWithCurrentEligibilityChoices.CountSubjectsNoFelony"):
        assert state[key] == kern[key] + sacramento[key]
    assert state["data_quality.dob_missing"] == 1
    assert len(page.svgs) == 1 + 3 * 3  # the ranking, and three charts per section
    assert "Counties ranked by people getting relief" in html
