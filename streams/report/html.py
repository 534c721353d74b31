"""The summary report as one self-contained HTML page (Jinja2 template, inline CSS and SVG charts)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

from streams.report import charts
from streams.report.model import STATEWIDE, CountyFigures, Report, title_case

TEMPLATE = "summary_report.html.j2"
FLAG_LABELS = {
    "dob_missing": "date of birth missing",
    "dob_invalid": "date of birth not a valid date",
    "date_missing": "disposition date missing",
    "date_invalid": "disposition date not a valid date",
    "subject_id_mismatch": "a record's SUBJECT_ID differs from the person's",
    "sentence_without_conviction": "a sentence row without its conviction",
}


def _num(value: Any) -> str:
    return f"{int(value):,}"


def _seconds(value: float) -> str:
    """BEAR's ``formattedProcessingTime``."""
    if value >= 90:
        return f"{round(value / 6) / 10:g} minutes"
    if value < 0.05:
        return "less than 0.1 seconds"
    return f"{round(value * 10) / 10:g} seconds"


def _longdate(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _datetime(value: datetime) -> str:
    hour = value.hour % 12 or 12
    zone = value.strftime(" %Z") if value.tzinfo else ""
    return f"{_longdate(value)}, {hour}:{value:%M} {'AM' if value.hour < 12 else 'PM'}{zone}"


def _slug(name: str) -> str:
    return "county-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed")


def _charts(figures: CountyFigures) -> dict[str, Any]:
    name = _slug(figures.county)
    place = figures.place
    summary = figures.summary
    determinations = sorted(
        {d for row in figures.determinations_by_section.values() for d in row}, key=charts.determination_order
    )
    return {
        "determinations": determinations,
        "sections": charts.determinations_by_section(f"{name}-sections", place, figures.determinations_by_section),
        "relief": charts.relief_by_reason(
            f"{name}-relief", place, summary["convictionDismissalCountByAdditionalRelief"]
        ),
        "comparison": charts.dismiss_all_comparison(
            f"{name}-comparison", place,
            summary["reliefWithCurrentEligibilityChoices"], summary["reliefWithDismissAllProp64"],
        ),
    }


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("streams.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=_num, seconds=_seconds, longdate=_longdate, datetime=_datetime, slug=_slug,
        flag=lambda code: FLAG_LABELS.get(code, code),
    )
    return env


def heading(report: Report) -> str:
    if report.statewide is not None:
        return "California"
    if len(report.counties) == 1:
        return report.counties[0].place
    return ", ".join(c.place for c in report.counties) or "no county"


def render_html(report: Report) -> str:
    """The whole page."""
    sections = [*report.counties, *([report.statewide] if report.statewide else [])]
    return _environment().get_template(TEMPLATE).render(
        report=report,
        heading=heading(report),
        charts_by_county={c.county: _charts(c) for c in sections},
        ranking_chart=charts.counties_ranked("county-ranking", [(title_case(c), n) for c, n in report.ranking]),
        statewide_name=STATEWIDE,
    )


def write_html(report: Report, path: str) -> str:
    """Write the page to ``path`` (through a temporary name, so a reader never sees half a page)."""
    text = render_html(report)
    staged = f"{path}.partial"
    with open(staged, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(staged, path)
    return path
