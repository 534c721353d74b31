"""What ``clearance classify`` runs with, validated from its arguments in gogen's order with gogen's messages.

The flow and its options come from the flow registry: a flow with an options document reads it from the flag of
the same name (``--eligibility-options``), a flow with named settings reads those flags
(``--individual-age``, ``--years-conviction-free``), falling back to the flow's defaults.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams.doj.reader import go_open_error
from streams.errors import OptionsError
from streams.gocompat.dates import parse_day
from streams.offline.guide import check_option_keys
from streams.rules.flows.base import Flow
from streams.rules.flows.registry import flow_spec
from streams.rules.flows.whatif import dismiss_all_prop64

MISSING_REQUIRED = "missing required field: Run gogen --help for more info"
INVALID_COMPUTE_AT = "invalid --compute-at date: Must be a valid date in the format YYYY-MM-DD"


class OptionsFileError(OptionsError):
    """An options file gogen rejects while reading it: ``gogen_message`` is Go's own text, which ``gogen.err``
    keeps (BEAR-like tools read it); the message, shown on stderr, also says where the problem is."""

    def __init__(self, message: str, gogen_message: str) -> None:
        super().__init__(message)
        self.gogen_message = gogen_message


@dataclass(frozen=True, slots=True)
class ClassifySettings:
    """What a run decides with: county, flow, the what-if flow of the summary and compute-at (naive UTC)."""

    county: str
    flow: Flow
    compute_at: datetime

    @property
    def dismiss_all(self) -> Flow:
        return dismiss_all_prop64(self.county)

    def configured_sections(self, key: str) -> tuple[str, ...]:
        """The configurable flow's ``dismiss``/``reduce`` sections (other flows have none)."""
        baseline = self.flow.options.get("baselineEligibility") or {}
        return tuple(baseline.get(key) or ())


def parse_compute_at(text: str | None, today: Callable[[], datetime]) -> datetime:
    """``--compute-at`` like Go's ``time.Parse("2006-01-02")`` (UTC midnight); default: today (UTC)."""
    if text is None:
        now = today()
        return datetime(now.year, now.month, now.day)
    day = parse_day(text)
    if day is None:
        raise OptionsError(INVALID_COMPUTE_AT)
    return day


def load_options_document(path: str) -> dict[str, Any]:
    """The JSON object of an options file (the one reader of options files; the flow validates its content)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise OptionsError(go_open_error(path, exc)) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionsError(f"eligibility options are not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise OptionsError(f"eligibility options must be a JSON object, got {type(document).__name__}")
    return document


def _missing(args: argparse.Namespace, document: str | None) -> str:
    """stderr's version of gogen's "missing required field": which flag, and an example."""
    flags = [f"--{name.replace('_', '-')}" for name in ("outputs", "input_doj", "county") if not getattr(args, name)]
    if document and not getattr(args, document):
        flags.append(f"--{document.replace('_', '-')}")
    needed = " and ".join(flags) or "a required flag"
    example = ""
    if document and not getattr(args, document):
        example = (f" (the {args.flow} flow reads BEAR's eligibility-options JSON, e.g. --{document.replace('_', '-')} "
                   "options.json; other flows: --flow)")
    return f"missing required field: {needed}{example}. Run `clearance classify --help` for an example"


def settings_from_args(
    args: argparse.Namespace, today: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> ClassifySettings:
    """Validate the CLI arguments in gogen's order; raises :class:`OptionsError` with gogen's messages."""
    spec = flow_spec(args.flow)
    document_path = getattr(args, spec.document) if spec.document else "-"
    if not all((args.outputs, args.input_doj, args.county, document_path)):
        raise OptionsFileError(_missing(args, spec.document), MISSING_REQUIRED)
    compute_at = parse_compute_at(args.compute_at, today)
    options: Mapping[str, Any] | None
    if spec.document:
        options = load_options_document(document_path)
        check_option_keys(document_path)  # not gogen's: it ignored unknown keys (an error here, BEAR's UI keys aside)
    else:
        options = {key: value for key in spec.settings if (value := getattr(args, key, None)) is not None}
    flow = spec.build(args.county, options or None)
    return ClassifySettings(county=args.county, flow=flow, compute_at=compute_at)
