"""``clearance report``: gogen's summary figures per county, computed from the determinations topic."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

import orjson

from streams.summary import NO_CONVICTION, NO_CONVICTION_LAST_7_YEARS, NO_FELONY, county_report
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


def run_cli(args: argparse.Namespace) -> int:
    dets = current_determinations("report", args.wait_idle)
    if dets is None:
        return 1
    report = build_report(dets)
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
    else:
        sys.stdout.write(render(report))
    return 0
