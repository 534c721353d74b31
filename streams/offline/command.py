"""``clearance classify`` as a user runs it: gogen's run (:func:`streams.offline.run.run_cli`) inside the overwrite
policy, ``run.json``, the optional summary report and LA pilot outputs, and one closing line on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from streams.offline import run as gogen_run
from streams.offline.guide import closing_line
from streams.offline.parallel import jobs_from_args
from streams.offline.provenance import (
    RunRecord,
    earlier_run,
    file_digests,
    input_entries,
    output_entries,
    refusal,
    remove_earlier,
    report_paths,
    run_document,
    run_file_names,
    run_json_path,
    write_run_json,
)
from streams.offline.settings import ClassifySettings
from streams.rules.flows.registry import FLOWS


def _now() -> datetime:
    return datetime.now(UTC)


def _options_given(args: argparse.Namespace) -> Any:
    """The options exactly as the user gave them: the options file's JSON, or the named settings on the CLI."""
    spec = FLOWS.get(args.flow)
    if spec is None:
        return None
    if spec.document:
        path = getattr(args, spec.document, None)
        if not path:
            return None
        try:
            with open(path, "rb") as handle:
                return {"file": path, "document": json.loads(handle.read())}
        except (OSError, ValueError) as exc:
            return {"file": path, "unreadable": str(exc)}
    return {key: getattr(args, key, None) for key in spec.settings}


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    keep = ("input_doj", "county", "outputs", "flow", "eligibility_options", "compute_at", "individual_age",
            "years_conviction_free", "file_name_suffix", "report", "overwrite", "la_pilot_outputs")
    return {key: getattr(args, key) for key in keep if hasattr(args, key)}


def run_cli(args: argparse.Namespace, clock: Callable[[], datetime] = _now) -> int:
    suffix = args.file_name_suffix or ""
    inputs = args.input_doj.split(",") if args.input_doj else []
    outputs = args.outputs
    if outputs:
        earlier = earlier_run(outputs, len(inputs), suffix)
        if earlier.blocks and not args.overwrite:
            print(f"clearance classify: {refusal(outputs, earlier, suffix)}", file=sys.stderr)
            return 1
        if earlier.present or (args.overwrite and earlier.listed):
            if earlier.failed and not args.overwrite:
                print(f"clearance classify: replacing what a failed earlier run left in {outputs}", file=sys.stderr)
            remove_earlier(earlier)
    started = clock()
    record = RunRecord()
    chosen: list[ClassifySettings] = []
    status = gogen_run.run_cli(args, record, chosen)
    settings = chosen[0] if chosen else None
    if status == 0 and settings is not None and record.counts is not None and record.document is not None:
        if getattr(args, "la_pilot_outputs", False):
            status = _pilot_outputs(args, settings, inputs, record) or status
        if getattr(args, "report", False):
            _report(args, settings, inputs, record, started, clock)
    if outputs and os.path.isdir(outputs):
        _write_run_json(args, inputs, settings, record, started, clock(), status)
    if status == 0 and record.counts is not None:
        print(closing_line(record.counts, outputs), file=sys.stderr)
    return status


def _write_run_json(
    args: argparse.Namespace,
    inputs: list[str],
    settings: ClassifySettings | None,
    record: RunRecord,
    started: datetime,
    finished: datetime,
    status: int,
) -> None:
    suffix = args.file_name_suffix or ""
    target = run_json_path(args.outputs, suffix)
    produced = [p for p in run_file_names(args.outputs, len(inputs), suffix) if p != target]
    present = [path for path in produced if os.path.isfile(path)]
    digests = file_digests([*inputs, *present], workers=jobs_from_args(args).count)
    document = run_document(
        arguments=_arguments(args),
        inputs=input_entries(inputs, record.rows, digests),
        county=args.county,
        flow=None if settings is None else settings.flow.name,
        options_given=_options_given(args),
        options_parsed=None if settings is None else json.loads(json.dumps(dict(settings.flow.options))),
        compute_at=None if settings is None else settings.compute_at,
        started_at=started,
        finished_at=finished,
        status=status,
        record=record,
        outputs=output_entries(present, digests),
    )
    try:
        write_run_json(target, document)
    except OSError as exc:
        print(f"clearance classify: cannot write {target}: {exc.strerror}", file=sys.stderr)


def _report(
    args: argparse.Namespace,
    settings: ClassifySettings,
    inputs: list[str],
    record: RunRecord,
    started: datetime,
    clock: Callable[[], datetime],
) -> None:
    from streams.offline.summary_report import write_offline_report

    suffix = args.file_name_suffix or ""
    html_path, pdf_path = report_paths(args.outputs, suffix)
    for message in write_offline_report(args, settings, inputs, record, html_path, pdf_path, started, clock()):
        print(message, file=sys.stderr)


def _pilot_outputs(args: argparse.Namespace, settings: ClassifySettings, inputs: list[str], record: RunRecord) -> int:
    from streams.offline.pilots import write_pilot_outputs

    return write_pilot_outputs(args, settings, inputs, record)
