"""``clearance`` command line: argument parsing only; each command lives in the module named for its concern.

Handlers are imported lazily so ``clearance classify`` never pays for importing Faust or aiokafka.
Every handler takes the parsed ``argparse.Namespace`` and returns an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from streams import __version__
from streams.rules.flows.registry import DEFAULT_FLOW, FLOW_NAMES, FLOWS


def _handler(target: str):
    """Defer ``module:function`` import until the command runs."""

    def run(args: argparse.Namespace) -> int:
        module, _, func = target.partition(":")
        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def _version(_: argparse.Namespace) -> int:
    print(__version__)
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clearance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("version", help="print the version")
    p.set_defaults(run=_version)

    p = sub.add_parser("classify", help="classify DOJ research files offline (gogen-compatible outputs)")
    # required, but checked by the run as gogen does (gogen.err and exit status 1, not argparse's status 2)
    p.add_argument("--input-doj", help="DOJ file(s), comma-separated; each is processed on its own (required)")
    p.add_argument("--county", help="STP_ORI_CNTY_NAME to evaluate, exact and case-sensitive (required)")
    p.add_argument("--outputs", help="folder for the result files (required)")
    p.add_argument("--flow", choices=FLOW_NAMES, default=DEFAULT_FLOW,
                   help="; ".join(f"{name}: {spec.summary}" for name, spec in FLOWS.items()))
    p.add_argument("--eligibility-options", help="BEAR/gogen options JSON (required by the configurable flow)")
    p.add_argument("--compute-at", help="YYYY-MM-DD date the rules are evaluated at (default: today, UTC)")
    la = FLOWS["los_angeles"].settings
    p.add_argument("--individual-age", type=int,
                   help=f"Los Angeles flow: dismissal age (default {la['individual_age']})")
    p.add_argument("--years-conviction-free", type=int,
                   help=f"Los Angeles flow: years (default {la['years_conviction_free']})")
    p.add_argument("--file-name-suffix", default="", help="appended to output file names as _SUFFIX")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--jobs", type=_positive_int, metavar="N",
                   help="processes that classify a large file in parts, same outputs (default: the usable CPUs, "
                        "at most 2; 1: one process)")
    p.add_argument("--jobs-min-bytes", type=_positive_int, metavar="BYTES",
                   help="files smaller than this are classified in one process (default 8 MiB)")
    p.add_argument("--report", action="store_true",
                   help="also write Summary_Report.html and Summary_Report.pdf (the PDF needs Chromium)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the outputs of an earlier run in --outputs (refused otherwise)")
    p.add_argument("--la-pilot-outputs", action="store_true",
                   help="los_angeles flow: also write gogen_pilots' gogen_pilots_<i>.out report and "
                        "gogen_pilots.json (with individualDismissAge and yearsConvictionFree)")
    p.set_defaults(run=_handler("streams.offline.command:run_cli"))

    p = sub.add_parser("explain", help="one person's convictions, determinations, deciding rules and facts "
                                       "(offline from a DOJ file, or --live from the workers)")
    p.add_argument("subject_id", metavar="SUBJECT_ID", help="the person's SUBJECT_ID in the DOJ file")
    p.add_argument("--input-doj", help="DOJ file(s), comma-separated (the first holding the person; offline: required)")
    p.add_argument("--county", help="STP_ORI_CNTY_NAME to evaluate, exact and case-sensitive (offline: required)")
    p.add_argument("--live", action="store_true",
                   help="ask the running workers' explain endpoints instead of reading a DOJ file")
    p.add_argument("--worker", action="append", metavar="URL",
                   help="--live: a worker's explain URL, e.g. http://127.0.0.1:9201 (repeatable; default: "
                        "CLEARANCE_EXPLAIN_WORKERS, comma-separated); the token is CLEARANCE_EXPLAIN_TOKEN[_FILE]")
    p.add_argument("--flow", choices=FLOW_NAMES, default=DEFAULT_FLOW,
                   help="; ".join(f"{name}: {spec.summary}" for name, spec in FLOWS.items()))
    p.add_argument("--eligibility-options", help="BEAR/gogen options JSON (required by the configurable flow)")
    p.add_argument("--compute-at", help="YYYY-MM-DD date the rules are evaluated at (default: today, UTC)")
    p.add_argument("--individual-age", type=int, help="Los Angeles flow: dismissal age")
    p.add_argument("--years-conviction-free", type=int, help="Los Angeles flow: years")
    p.add_argument("--json", action="store_true", help="print the explain document as JSON")
    p.set_defaults(run=_handler("streams.offline.explain:run_cli"), outputs="-")

    p = sub.add_parser("generate-doj", help="write a realistic synthetic DOJ research file")
    p.add_argument("--people", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", required=True)
    p.add_argument("--counties", help="comma-separated county names (default: a multi-county mix)")
    p.add_argument("--no-header", action="store_true", help="omit the RECORD_ID header line")
    p.add_argument("--messy-rate", type=float, default=0.0,
                   help="share of rows given one of the data errors real extracts have (year-0000 dates, blank "
                        "SUBJECT_ID, bytes that are not UTF-8, …), e.g. 0.001; default 0: none")
    p.set_defaults(run=_handler("streams.doj.generate:run_cli"))

    p = sub.add_parser("broker", help="run the local Apache Kafka broker (KRaft, loopback)")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.set_defaults(run=_handler("streams.kafka.broker:run_cli"))

    p = sub.add_parser("topics", help="manage the project's Kafka topics")
    p.add_argument("action", choices=("create", "list"))
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--fix", action="store_true",
                   help="create: also set the configs a worker needs on existing topics (never their partitions)")
    p.set_defaults(run=_handler("streams.kafka.topics:run_cli"))

    p = sub.add_parser("worker", help="run the streaming classifier (Faust worker)")
    p.add_argument("--policies", required=True, help="policies JSON ({'counties': {...}})")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="port of /metrics (default $CLEARANCE_METRICS_PORT or 9108)")
    p.add_argument("--loglevel", default="warning")
    p.add_argument("--processes", type=int, default=1, metavar="W",
                   help="run W workers on this machine, one per core, supervised (each with its own state "
                        "directory under $CLEARANCE_DATA_DIR/processes/<i> and metrics port base+i; default 1)")
    p.add_argument("--allow-withdrawals", action="store_true",
                   help="accept a policies file that removes a county or may withdraw more than "
                        "CLEARANCE_WITHDRAWAL_THRESHOLD of the current candidates (recorded: later starts need "
                        "no flag)")
    p.set_defaults(run=_handler("streams.worker.cli:run_cli"))

    p = sub.add_parser("replay", help="publish a DOJ file's rows as record-change events")
    p.add_argument("--input-doj", required=True)
    p.add_argument("--rate", type=float, default=0.0, help="rows per second (0 = as fast as possible)")
    p.add_argument("--max-records-per-event", type=int, default=1000,
                   help="rows of one subject per event (1 = live-like single-record events)")
    p.add_argument("--source-agency", default="CA-DOJ-BULK",
                   help="the source the file's records come from (a snapshot replaces only this source's records)")
    p.add_argument("--mode", choices=("snapshot", "upserts"), default="snapshot",
                   help="snapshot (default): each person's rows replace that source's records of the person, and "
                        "people absent from the file lose them; upserts: add the rows as records keyed by file")
    p.add_argument("--extract-id", help="id of this extract (default: the file's digest)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=_handler("streams.tools.replay:run_cli"))

    p = sub.add_parser("export", help="write the latest determination of every conviction as JSON lines")
    p.add_argument("--output", required=True)
    p.add_argument("--wait-idle", type=float, default=5.0, help="stop after the topic end was idle this long (s)")
    p.set_defaults(run=_handler("streams.tools.export:run_cli"))

    p = sub.add_parser("report", help="print gogen's summary figures per county from the determinations topic")
    p.add_argument("--wait-idle", type=float, default=3.0)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--html", metavar="FILE", help="write the summary report (charts, provenance) as HTML")
    p.add_argument("--pdf", metavar="FILE", help="also print it to PDF (needs --html and Chromium)")
    p.add_argument("--county", help="only this county (default: every county and the statewide totals)")
    p.set_defaults(run=_handler("streams.tools.report:run_cli"))
    for name, command in sub.choices.items():
        command.epilog = f"example:\n  {EXAMPLES[name]}"
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


EXAMPLES = {
    "version": "clearance version",
    "classify": "clearance classify --input-doj doj.csv --county SACRAMENTO --outputs out/ "
                "--eligibility-options options.json --compute-at 2020-07-01 --report",
    "explain": "clearance explain 100200300 --input-doj doj.csv --county SACRAMENTO "
               "--eligibility-options options.json --compute-at 2020-07-01   "
               "(live: clearance explain 100200300 --live --worker http://127.0.0.1:9201)",
    "generate-doj": "clearance generate-doj --people 1000 --seed 1 --output sample.csv",
    "broker": "clearance broker start",
    "topics": "clearance topics create --partitions 4",
    "worker": "clearance worker --policies deploy/policies/statewide.json",
    "replay": "clearance replay --input-doj doj.csv",
    "export": "clearance export --output determinations.jsonl",
    "report": "clearance report --html report.html --pdf report.pdf   (statewide; --county SACRAMENTO for one)",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
