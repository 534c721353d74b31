"""The functional core never reads the clock: compute-at (or the processing date the shell passes in) is its only
"now" (style lesson 2). The core: Go semantics, DOJ parsing, the rules, the summary, the event builders and the
worker's pure step."""

from __future__ import annotations

import re
from pathlib import Path

import streams

PACKAGE = Path(streams.__file__).parent
CORE = (
    "gocompat", "doj", "rules", "summary.py", "events/builders.py", "events/model.py", "events/ids.py",
    "worker/reclassify.py", "worker/state.py", "worker/policies.py", "worker/watchdog.py",
)
CLOCK = re.compile(
    r"\b(?:datetime|date)\s*\.\s*(?:now|today|utcnow)\b|\btime\s*\.\s*(?:time|time_ns|monotonic|perf_counter)\b"
    r"|\bfrom\s+time\s+import\b"
)


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        path = PACKAGE / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_the_core_never_reads_the_clock() -> None:
    files = _core_files()
    assert len(files) > 25 and all(path.exists() for path in files)
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if CLOCK.search(line)
    ]
    assert offenders == []


def test_the_grep_would_catch_a_clock_call() -> None:
    for line in (
        "now = datetime.now()",
        "datetime.utcnow()",
        "date.today()",
        "t = time.time()",
        "from time import time",
    ):
        assert CLOCK.search(line), line
