"""The functional core never reads the clock: compute-at is its only "now" (style lesson 2)."""

from __future__ import annotations

import re
from pathlib import Path

import streams.rules

RULES_DIR = Path(streams.rules.__file__).parent
CLOCK = re.compile(
    r"\b(?:datetime|date)\s*\.\s*(?:now|today|utcnow)\b|\btime\s*\.\s*(?:time|time_ns|monotonic|perf_counter)\b"
    r"|\bfrom\s+time\s+import\b"
)


def test_rules_package_never_reads_the_clock() -> None:
    offenders = [
        f"{path.relative_to(RULES_DIR)}:{number}: {line.strip()}"
        for path in sorted(RULES_DIR.rglob("*.py"))
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
