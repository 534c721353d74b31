"""The report's charts as static, accessible SVG drawn by matplotlib (Agg, no display, no pyplot state).

Each chart is a ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in words what it shows (the
same figures are in a table beside it). Text stays text (``svg.fonttype: none``), ids are prefixed per chart so
several charts can live in one page, and no date is embedded, so the same figures give the same bytes.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in grey print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
DETERMINATION_COLOURS = {
    "Eligible for Dismissal": "#009E73",
    "Eligible for Reduction": "#0072B2",
    "Not eligible": "#D55E00",
    "Hand Review": "#E69F00",
    "Maybe Eligible - Flag for Review": "#CC79A7",
    "To be reviewed by City Attorneys": "#56B4E9",
    "": "#999999",
}
_ID = re.compile(r'\bid="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its accessible name, its text alternative and the SVG markup (``svg`` empty: nothing to draw)."""

    name: str
    title: str
    description: str
    svg: str


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # never a display: the report is drawn on servers and in CI
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Any, name: str, title: str, description: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML
    ids = set(_ID.findall(text))
    for old in sorted(ids, key=len, reverse=True):
        text = re.sub(rf'(id="|url\(#|href="#){re.escape(old)}(["\)])', rf"\g<1>{name}-{old}\g<2>", text)
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1', text, count=1)
    head = (
        f'<svg role="img" aria-labelledby="{name}-title {name}-desc" class="chart"'
    )
    text = text.replace("<svg", head, 1)
    close = text.index(">") + 1
    label = (
        f'<title id="{name}-title">{html.escape(title)}</title>'
        f'<desc id="{name}-desc">{html.escape(description)}</desc>'
    )
    return text[:close] + label + text[close:]


def _style(axes: Any) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9)
    axes.xaxis.get_major_locator().set_params(integer=True)


def _label_bars(axes: Any, bars: Any, values: Sequence[int]) -> None:
    for bar, value in zip(bars, values, strict=True):
        if value:
            axes.annotate(
                f"{value:,}", (bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height() / 2),
                xytext=(3, 0), textcoords="offset points", va="center", fontsize=8,
            )


def determinations_by_section(name: str, place: str, counts: Mapping[str, Mapping[str, int]]) -> Chart:
    """Stacked horizontal bars: each Prop 64 section's convictions by determination."""
    title = f"Prop 64 convictions in {place} by code section and determination"
    sections = [section for section in counts if sum(counts[section].values())]
    if not sections:
        return Chart(name, title, "No Prop 64 convictions.", "")
    determinations = sorted({d for section in sections for d in counts[section]}, key=determination_order)
    parts = [
        f"H&S § {section}: " + ", ".join(
            f"{counts[section][d]:,} {_determination_label(d)}" for d in determinations if counts[section].get(d)
        )
        for section in sections
    ]
    figure = _figure(7.2, 0.6 + 0.55 * len(sections) + 0.5)
    axes = figure.add_subplot()
    labels = [f"H&S § {section}" for section in sections]
    left = [0] * len(sections)
    for number, determination in enumerate(determinations):
        values = [counts[section].get(determination, 0) for section in sections]
        colour = DETERMINATION_COLOURS.get(determination, PALETTE[number % len(PALETTE)])
        axes.barh(labels, values, left=left, color=colour, label=_determination_label(determination), height=0.6)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for row, value in enumerate(left):
        axes.annotate(f"{value:,}", (value, row), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("convictions", fontsize=9)
    below = -0.25 if len(sections) < 3 else -0.12
    axes.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, below),
                ncols=min(3, len(determinations)))
    _style(axes)
    return Chart(name, title, "; ".join(parts) + ".", _svg(figure, name, title, "; ".join(parts) + "."))


def relief_by_reason(name: str, place: str, reasons: Mapping[str, int]) -> Chart:
    """Horizontal bars: dismissals by additional-relief reason, largest first."""
    title = f"Dismissals in {place} based on additional relief, by reason"
    items = sorted(((reason, n) for reason, n in reasons.items() if n), key=lambda item: (-item[1], item[0]))
    if not items:
        return Chart(name, title, "No dismissals based on additional relief.", "")
    description = "; ".join(f"{reason}: {n:,} convictions" for reason, n in items) + "."
    figure = _figure(7.2, 0.6 + 0.45 * len(items))
    axes = figure.add_subplot()
    values = [n for _, n in items]
    bars = axes.barh([reason for reason, _ in items], values, color=PALETTE[2], height=0.6)
    _label_bars(axes, bars, values)
    axes.invert_yaxis()
    axes.set_xlabel("convictions dismissed", fontsize=9)
    _style(axes)
    return Chart(name, title, description, _svg(figure, name, title, description))


RELIEF_LABELS = (
    ("CountSubjectsNoFelony", "no longer have a felony"),
    ("CountSubjectsNoConvictionLast7Years", "no conviction in the last 7 years"),
    ("CountSubjectsNoConviction", "no longer have any conviction"),
)


def dismiss_all_comparison(name: str, place: str, current: Mapping[str, int], dismiss_all: Mapping[str, int]) -> Chart:
    """Grouped bars: people relieved under the chosen options next to "dismiss every Prop 64 conviction"."""
    title = f"People relieved in {place}: your eligibility choices compared with dismissing all Prop 64 convictions"
    description = "; ".join(
        f"people who {label}: {current.get(key, 0):,} with your choices, "
        f"{dismiss_all.get(key, 0):,} if all were dismissed"
        for key, label in RELIEF_LABELS
    ) + "."
    figure = _figure(7.2, 3.2)
    axes = figure.add_subplot()
    rows = list(range(len(RELIEF_LABELS)))
    mine = [current.get(key, 0) for key, _ in RELIEF_LABELS]
    everything = [dismiss_all.get(key, 0) for key, _ in RELIEF_LABELS]
    height = 0.38
    bars = axes.barh([r - height / 2 for r in rows], mine, height=height, color=PALETTE[0], label="your choices")
    _label_bars(axes, bars, mine)
    bars = axes.barh([r + height / 2 for r in rows], everything, height=height, color=PALETTE[1],
                     label="dismiss all Prop 64", hatch="//", edgecolor="white")
    _label_bars(axes, bars, everything)
    axes.set_yticks(rows, [label for _, label in RELIEF_LABELS])
    axes.invert_yaxis()
    axes.set_xlabel("people", fontsize=9)
    axes.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=2)
    _style(axes)
    return Chart(name, title, description, _svg(figure, name, title, description))


def counties_ranked(name: str, ranking: Sequence[tuple[str, int]]) -> Chart:
    """Horizontal bars: counties by people getting relief, most first."""
    title = "Counties ranked by people getting relief (a dismissal or a reduction)"
    if not ranking:
        return Chart(name, title, "No county has determinations yet.", "")
    description = "; ".join(f"{county}: {n:,} people" for county, n in ranking) + "."
    figure = _figure(7.2, 0.6 + 0.32 * len(ranking))
    axes = figure.add_subplot()
    values = [n for _, n in ranking]
    bars = axes.barh([county for county, _ in ranking], values, color=PALETTE[0], height=0.6)
    _label_bars(axes, bars, values)
    axes.invert_yaxis()
    axes.set_xlabel("people getting some relief", fontsize=9)
    _style(axes)
    return Chart(name, title, description, _svg(figure, name, title, description))


_ORDER = tuple(DETERMINATION_COLOURS)


def determination_order(determination: str) -> tuple[int, str]:
    return (_ORDER.index(determination) if determination in _ORDER else len(_ORDER), determination)


def _determination_label(determination: str) -> str:
    return determination or "no determination"
