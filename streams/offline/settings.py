"""What ``clearance classify`` runs with, validated from its arguments in gogen's order with gogen's messages.

The flow and its options come from the flow registry: a flow with an options document reads it from the flag of
the same name (``--eligibility-options``), a flow with named settings reads those flags
(``--individual-age``, ``--years-conviction-free``), falling back to the flow's defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams.doj.reader import go_open_error
from streams.errors import OptionsError
from streams.gocompat.dates import parse_day
from streams.gocompat.gounmarshal import BOOL, INT, STRING, GoJsonError, GoSlice, GoStruct, unmarshal
from streams.offline.guide import check_option_keys
from streams.rules.flows.base import Flow
from streams.rules.flows.registry import flow_spec
from streams.rules.flows.whatif import dismiss_all_prop64

MISSING_REQUIRED = "missing required field: Run gogen --help for more info"
INVALID_COMPUTE_AT = "invalid --compute-at date: Must be a valid date in the format YYYY-MM-DD"

# gogen's EligibilityOptions (G:data/eligibility_flow.go:15-34): the Go type its json.Unmarshal fills from the
# options file, which decides what a document means and the text of its errors.
OPTIONS_GO_TYPE = GoStruct("data.EligibilityOptions", (
    ("baselineEligibility", GoStruct("data.BaselineEligibility", (
        ("dismiss", GoSlice(STRING)), ("reduce", GoSlice(STRING))))),
    ("additionalRelief", GoStruct("data.AdditionalRelief", (
        ("subjectUnder21AtConviction", BOOL), ("subjectHasOnlyProp64Charges", BOOL), ("subjectIsDeceased", BOOL),
        ("subjectAgeThreshold", INT), ("yearsSinceConvictionThreshold", INT), ("yearsCrimeFreeThreshold", INT)))),
))
_EXPECTED = {"int": "a whole number", "bool": "true or false", "[]string": "a list of code sections",
             "string": "code sections (text)"}


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
        """The "dismiss all Prop 64" what-if of the summary, seeing code sections as the chosen flow does
        (gogen_pilots ran it on the subjects it built for the pilot flow; quirk 21)."""
        return dismiss_all_prop64(self.county, pilot_code_sections=self.flow.pilot_code_sections)

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
    """An options file as gogen reads it (G:gogen.go:69-84): ``os.Open``, ``ReadAll``, ``json.Unmarshal`` into
    :data:`OPTIONS_GO_TYPE`. The one reader of options files; the flow validates the content.

    Every field is in the result (Go's zero value where the file sets none), so a file holding ``null`` is an
    empty document, as in gogen. Errors carry Go's text for ``gogen.err`` (:class:`OptionsFileError`).
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError as exc:  # Go opens a directory; reading it fails
        raise OptionsError(f"read {path}: is a directory") from exc
    except OSError as exc:
        raise OptionsError(go_open_error(path, exc)) from exc
    try:
        return unmarshal(data, OPTIONS_GO_TYPE)
    except GoJsonError as exc:
        raise OptionsFileError(_explained(exc, data), str(exc)) from exc


def _explained(exc: GoJsonError, data: bytes) -> str:
    """The stderr message of an options file Go rejects: where, and what was expected, then Go's text."""
    if exc.offset is not None:
        before = data[: max(exc.offset - 1, 0)]
        line, column = before.count(b"\n") + 1, len(before) - (before.rfind(b"\n") + 1) + 1
        return f"eligibility options are not valid JSON: {exc} (line {line}, column {column})"
    if not exc.field:
        return f"eligibility options must be a JSON object, got {exc.value} ({exc})"
    expected = _EXPECTED.get(exc.go_type, "a JSON object")
    return f"eligibility options: {exc.field} must be {expected}, got {exc.value} ({exc})"


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
