"""Micro-benchmark of ``next_change`` (``streams/rules/schedule.py``): microseconds per evaluated conviction.

The worker computes it for every conviction it re-classifies, so it must stay a small multiple of one
``flow.decide``. People come from the synthetic generator (``generate(people, seed)``); each flow sees them as it
does in the engine (``subject_for``) and is timed over the convictions it evaluates, best of ``--repeat`` runs,
beside the cost of one ``flow.decide`` of the same convictions for scale.

    python bench/schedule_bench.py [--people 2000] [--seed 1] [--compute-at 2020-07-01] [--repeat 5]

Prints a table; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.doj.columns import SUBJECT_ID  # noqa: E402
from streams.doj.generate import generate  # noqa: E402
from streams.rules.engine import subject_for  # noqa: E402
from streams.rules.flows.base import RuleFlow  # noqa: E402
from streams.rules.flows.registry import make_flow  # noqa: E402
from streams.rules.schedule import next_change, next_window_change  # noqa: E402
from streams.rules.subject import Subject, build_subject  # noqa: E402

ALL = ["11357", "11358", "11359", "11360"]
BEAR = {  # BEAR's defaults (spec §8.1): the statewide policy of every county but Los Angeles
    "baselineEligibility": {"dismiss": ALL, "reduce": []},
    "additionalRelief": {"yearsSinceConvictionThreshold": 5, "yearsCrimeFreeThreshold": 5,
                         "subjectHasOnlyProp64Charges": True},
}  # fmt: skip
TIMED = {  # a policy where the time rules decide most felonies: the expensive case
    "baselineEligibility": {"dismiss": [], "reduce": ALL},
    "additionalRelief": {"subjectAgeThreshold": 50, "yearsSinceConvictionThreshold": 10,
                         "yearsCrimeFreeThreshold": 5, "subjectUnder21AtConviction": True},
}  # fmt: skip


def flows() -> list[tuple[str, RuleFlow]]:
    return [
        ("configurable, BEAR defaults (SACRAMENTO)", make_flow("configurable", "SACRAMENTO", options=BEAR)),
        ("configurable, reduce all + age/years (SACRAMENTO)", make_flow("configurable", "SACRAMENTO", options=TIMED)),
        ("los_angeles", make_flow("los_angeles", "LOS ANGELES")),
        ("sacramento", make_flow("sacramento", "SACRAMENTO")),
        ("san_joaquin", make_flow("san_joaquin", "SAN JOAQUIN")),
        ("contra_costa", make_flow("contra_costa", "CONTRA COSTA")),
    ]


def subjects(people: int, seed: int) -> list[Subject]:
    rows = enumerate(generate(people, seed))
    return [build_subject(key, list(group)) for key, group in groupby(rows, key=lambda row: row[1][SUBJECT_ID])]


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compute-at", default="2020-07-01")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    compute_at = datetime.strptime(args.compute_at, "%Y-%m-%d")
    people = subjects(args.people, args.seed)
    convictions = sum(len(subject.convictions) for subject in people)
    print(f"{len(people)} people, {convictions} convictions, compute-at {compute_at:%Y-%m-%d}")
    print(f"{'flow':<52} {'convictions':>11} {'changes':>8} {'next_change µs':>15} {'decide µs':>10}")
    total_time = total_count = 0.0
    for label, flow in flows():
        work = []
        for subject in people:
            view = subject_for(subject, flow)
            work += [(view, c) for c in view.convictions if flow.evaluates(view, c)]
        changes = sum(next_change(view, flow, c, compute_at) is not None for view, c in work)
        scheduled = best(args.repeat, lambda w=work, f=flow: [next_change(v, f, c, compute_at) for v, c in w])
        decided = best(args.repeat, lambda w=work, f=flow: [f.decide(v, c, compute_at) for v, c in w])
        total_time += scheduled
        total_count += len(work)
        print(f"{label:<52} {len(work):>11} {changes:>8} {scheduled / len(work) * 1e6:>15.2f} "
              f"{decided / len(work) * 1e6:>10.2f}")  # fmt: skip
    every = [c for subject in people for c in subject.convictions]
    window = best(args.repeat, lambda: [next_window_change(c, compute_at) for c in every])
    print(f"{'all flows':<52} {int(total_count):>11} {'':>8} {total_time / total_count * 1e6:>15.2f}")
    print(f"next_window_change over all {len(every)} convictions: {window / len(every) * 1e6:.2f} µs each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
