"""``clearance report``: gogen's summary figures per county, computed from the determinations topic: a table on
stdout (``--json``: JSON), or the summary report as HTML (``--html``) and PDF (``--pdf``), statewide or for one
``--county``."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from streams import RULESET_VERSION, __version__
from streams.errors import ClearanceError
from streams.kafka.clients import broker_command
from streams.report.model import Report
from streams.report.model import live_report as model_live_report
from streams.settings import DETERMINATIONS, Settings
from streams.summary import (
    NO_CONVICTION,
    NO_CONVICTION_LAST_7_YEARS,
    NO_FELONY,
    county_counts,
    county_report,
    data_quality_counts,
)
from streams.tools.export import current_determinations

_LINES = (
    ("people with a Prop 64 conviction here", "subjectsWithProp64ConvictionCountInCounty"),
    ("Prop 64 felony convictions", "prop64FelonyConvictionsCountInCounty"),
    ("Prop 64 non-felony convictions", "prop64NonFelonyConvictionsCountInCounty"),
    ("people getting some relief", "subjectsWithSomeReliefCount"),
)
_RELIEF = (
    ("people left with no felony", NO_FELONY),
    ("people left with no conviction", NO_CONVICTION),
    ("people with no conviction in the last 7 years", NO_CONVICTION_LAST_7_YEARS),
)


def build_report(dets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for det in dets:
        by_subject[det["subject_id"]].append(det)
    return county_report(by_subject)


def render(report: dict[str, dict[str, Any]]) -> str:
    if not report:
        return "no determinations yet\n"
    lines: list[str] = []
    for county, row in report.items():
        lines.append(f"== {county}")
        for label, key in _LINES:
            lines.append(f"  {label:<48}{row[key]:>10}")
        sections = row["prop64ConvictionsCountInCountyByCodeSection"]
        lines.append("  Prop 64 convictions by section".ljust(50) + "  ".join(f"{k}: {v}" for k, v in sections.items()))
        for label, key in _RELIEF:
            current = row["reliefWithCurrentEligibilityChoices"][key]
            everything = row["reliefWithDismissAllProp64"][key]
            lines.append(f"  {label:<48}{current:>10}   (dismiss all Prop 64: {everything})")
        for name, n in row["determinations"].items():
            lines.append(f"    {name:<46}{n:>10}")
    return "\n".join(lines) + "\n"


def live_report(
    dets: list[dict[str, Any]], *, county: str | None, settings: Settings, generated_at: datetime
) -> Report:
    """The summary report of the current determinations (one county, or every county and the statewide total)."""
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for det in dets:
        by_subject[det["subject_id"]].append(det)
    counts = county_counts(by_subject)
    chosen = [det for det in dets if county is None or det["county"] == county]
    seen: dict[str, set[str]] = defaultdict(set)
    for det in chosen:
        seen["ruleset"].add(str(det.get("ruleset")))
        seen["flow"].add(str(det.get("flow")))
        seen["policy"].add(f"{det.get('county')}: {det.get('policy_id')} (version {det.get('policy_version')})")
        seen["compute_at"].add(str(det.get("compute_at")))
    provenance = [
        ("Source", f"topic {settings.topic(DETERMINATIONS)} at {settings.bootstrap} (current determinations)"),
        ("Read at", generated_at.isoformat(timespec="seconds")),
        ("Determinations read", f"{len(chosen):,} active"),
        ("Rulesets", ", ".join(sorted(seen["ruleset"])) or "—"),
        ("Flows", ", ".join(sorted(seen["flow"])) or "—"),
        ("Policies", "; ".join(sorted(seen["policy"])) or "—"),
        ("Rules evaluated at (compute-at)", ", ".join(sorted(seen["compute_at"])) or "—"),
        ("Package version", __version__),
    ]
    return model_live_report(
        counts,
        data_quality_counts(dets),
        generated_at=generated_at,
        version=__version__,
        ruleset=RULESET_VERSION,
        provenance=provenance,
        county=county,
    )


def write_report_files(report: Report, html_path: str, pdf_path: str | None) -> list[str]:
    """Write the HTML (and the PDF); returns the paths written."""
    from streams.report.html import write_html
    from streams.report.pdf import write_pdf

    out = Path(html_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [write_html(report, html_path)]
    if pdf_path:
        Path(pdf_path).parent.mkdir(parents=True, exist_ok=True)
        written.append(write_pdf(html_path, pdf_path))
    return written


@broker_command("report")
def run_cli(args: argparse.Namespace) -> int:
    dets = current_determinations("report", args.wait_idle)
    if dets is None:
        return 1
    county = getattr(args, "county", None)
    if county is not None and not any(det["county"] == county for det in dets):
        names = sorted({det["county"] for det in dets})
        print(f"clearance report: no determinations for county {county!r}; counties with determinations: "
              f"{', '.join(names) or 'none yet'}", file=sys.stderr)
        return 1
    if getattr(args, "pdf", None) and not getattr(args, "html", None):
        print("clearance report: --pdf prints the HTML page: give --html FILE too", file=sys.stderr)
        return 2
    if getattr(args, "html", None):
        report = live_report(dets, county=county, settings=Settings(), generated_at=datetime.now(UTC).astimezone())
        try:
            written = write_report_files(report, args.html, args.pdf)
        except ClearanceError as exc:
            print(f"clearance report: {exc}", file=sys.stderr)
            return 1
        print(f"clearance report: wrote {', '.join(written)}", file=sys.stderr)
        return 0
    report_rows = build_report(dets)
    if county is not None:
        report_rows = {county: report_rows[county]} if county in report_rows else {}
    if args.json:
        sys.stdout.write(orjson.dumps(report_rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
    else:
        sys.stdout.write(render(report_rows))
    return 0
