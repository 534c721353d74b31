"""``clearance classify --report``: ``Summary_Report<suf>.html`` and ``.pdf`` beside gogen's files, from the run's
own summed figures (the ones ``gogen.json`` holds)."""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from streams import RULESET_VERSION, __version__
from streams.errors import ClearanceError
from streams.offline.files import result_paths, summary_paths
from streams.offline.provenance import RunRecord, file_digest, run_json_path
from streams.offline.settings import ClassifySettings
from streams.report.model import Report, eligibility_choices, offline_figures, output_files


def _pattern(path: str, count: int) -> str:
    """``All_Results_1.csv`` … as BEAR wrote them: ``All_Results_[1-3].csv``."""
    name = os.path.basename(path)
    return name if count == 1 else name.replace("_1", f"_[1-{count}]", 1)


def offline_report(
    args: argparse.Namespace,
    settings: ClassifySettings,
    inputs: list[str],
    record: RunRecord,
    started: datetime,
    generated_at: datetime,
) -> Report:
    assert record.counts is not None and record.document is not None
    suffix = args.file_name_suffix or ""
    first = result_paths(args.outputs, 1, len(inputs), suffix)
    names = {
        "prop64": _pattern(first.prop64, len(inputs)),
        "condensed": _pattern(first.condensed, len(inputs)),
        "all": _pattern(first.all_results, len(inputs)),
        "summary": " and ".join(os.path.basename(p) for p in summary_paths(args.outputs, suffix)),
        "run": os.path.basename(run_json_path(args.outputs, suffix)),
    }
    entries = []
    for path in inputs:
        size, digest = file_digest(path)
        entries.append({"path": path, "bytes": size, "rows": record.rows.get(path, 0), "sha256": digest})
    options = dict(settings.flow.options)
    provenance = [
        ("County", settings.county),
        ("Flow", f"{settings.flow.name} — {FLOW_SUMMARY.get(settings.flow.name, '')}".rstrip(" —")),
        ("Rules evaluated at (compute-at)", settings.compute_at.date().isoformat()),
        ("Eligibility options file", getattr(args, "eligibility_options", None) or "— (this flow takes none)"),
        ("Ruleset", RULESET_VERSION),
        ("Package version", __version__),
        ("Run started", started.isoformat(timespec="seconds")),
        ("Outputs folder", os.path.abspath(args.outputs)),
        ("Full provenance", f"{names['run']} (options as given and as parsed, SHA-256 of every output)"),
    ]
    return Report(
        source="offline",
        generated_at=generated_at,
        version=__version__,
        ruleset=RULESET_VERSION,
        counties=(offline_figures(record.counts, record.document),),
        choices=eligibility_choices(settings.flow.name, options),
        files=output_files(names, len(inputs)),
        input_count=len(inputs),
        provenance=tuple(provenance),
        inputs=tuple(entries),
    )


def _summaries() -> dict[str, str]:
    from streams.rules.flows.registry import FLOWS

    return {name: spec.summary for name, spec in FLOWS.items()}


FLOW_SUMMARY = _summaries()


def write_offline_report(
    args: argparse.Namespace,
    settings: ClassifySettings,
    inputs: list[str],
    record: RunRecord,
    html_path: str,
    pdf_path: str,
    started: datetime,
    generated_at: datetime,
) -> list[str]:
    """Write the HTML, then print it to PDF; returns warnings for stderr (a missing browser costs only the PDF)."""
    from streams.report.html import write_html
    from streams.report.pdf import write_pdf

    report = offline_report(args, settings, inputs, record, started, generated_at.astimezone())
    write_html(report, html_path)
    record.outputs.append(html_path)
    try:
        write_pdf(html_path, pdf_path)
    except ClearanceError as exc:
        return [f"clearance classify: warning: {os.path.basename(pdf_path)} not written: {exc}; "
                f"{os.path.basename(html_path)} was"]
    record.outputs.append(pdf_path)
    return []
