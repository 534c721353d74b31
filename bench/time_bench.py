"""What time costs the worker: revisions emitted per simulated day, and the longest hold of the event loop.

Builds the state of ``--people`` generated people (default 100,000, all counties, the statewide policies evaluated
at the processing date, i.e. without compute_at) through the worker's pure core, then lets ``--days`` processing
dates pass through the worker's own ``Refresher`` (a dict store, a recording producer): each day only the people due
that day are re-evaluated. Reports revisions per day (before this design every held determination of such a county
got a new revision every day, because its compute_at and years-since figures changed), people re-evaluated per day,
and the longest time one slice held the event loop.

    python bench/time_bench.py [--people 100000] [--days 30] [--start 2026-01-01]

Results go to ``bench/results/time.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry  # noqa: E402

from streams.doj.generate import generate  # noqa: E402
from streams.events.builders import snapshot_event  # noqa: E402
from streams.events.validation import parse_record_change  # noqa: E402
from streams.settings import Settings  # noqa: E402
from streams.tools.replay import subject_snapshots  # noqa: E402
from streams.worker.apply import apply_event  # noqa: E402
from streams.worker.gauges import Gauges  # noqa: E402
from streams.worker.handler import EventHandler  # noqa: E402
from streams.worker.metrics import Metrics  # noqa: E402
from streams.worker.policies import parse_policies  # noqa: E402
from streams.worker.reclassify import reclassify  # noqa: E402
from streams.worker.refresh import Refresher  # noqa: E402
from streams.worker.state import SubjectState  # noqa: E402
from streams.worker.store import DictStore  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "time.json"


class Recorder:
    def __init__(self) -> None:
        self.determinations = 0

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None, *_: Any) -> None:
        if "determinations" in topic:
            self.determinations += 1


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    doc = json.loads((ROOT / "deploy" / "policies" / "statewide.json").read_text())
    for spec in doc["counties"].values():
        spec.pop("compute_at", None)  # evaluated at the processing date: the case time matters for
    policies = parse_policies(doc)
    store = DictStore()
    started = time.perf_counter()
    held_determinations = 0
    for subject_id, parts in subject_snapshots(generate(args.people, 7), 5000):
        event = parse_record_change(snapshot_event(subject_id=subject_id, rows=parts[0], source="CA-DOJ-BULK",
                                                   extract_id="x", part=1, parts=1, emitted_at=datetime.now(UTC)))
        state = SubjectState(subject_id)
        apply_event(state, event)
        held_determinations += len(reclassify(state, policies, args.start, event.event_id).determinations)
        state.last_offset = (0, 0)
        store.put(subject_id.encode(), state, 0)
    build_seconds = time.perf_counter() - started
    # the bench holds every person as Python objects, which a worker keeps in RocksDB: the cyclic collector's
    # full passes over them (40-60 ms at 20,000 people) would be counted as holds of the scan, so it is off
    gc.collect()
    gc.disable()
    metrics = Metrics.create(CollectorRegistry())
    recorder = Recorder()
    handler = EventHandler(recorder, Settings(metrics_port=0), policies, metrics, store,
                           Gauges(metrics, "court.record-changes"))
    refresher = Refresher(handler)
    await refresher.refresh_all(args.start)  # a start: builds the due index (nothing is due yet)
    due_total = len(handler.due)
    days: list[dict[str, Any]] = []
    for offset in range(1, args.days + 1):
        day = args.start + timedelta(days=offset)
        before, checked_before = recorder.determinations, _checked(metrics)
        t0 = time.perf_counter()
        await refresher.refresh_due(day)
        days.append({"day": day.isoformat(), "revisions": recorder.determinations - before,
                     "people_due": _checked(metrics) - checked_before,
                     "seconds": round(time.perf_counter() - t0, 4)})
    revisions = [d["revisions"] for d in days]
    result = {
        "people": len(store.data),
        "held_determinations": held_determinations,
        "people_with_a_due_date": due_total,
        "state_build_seconds": round(build_seconds, 1),
        "revisions_per_day_before": held_determinations,
        "revisions_per_day_after": {"mean": round(sum(revisions) / len(revisions), 1), "max": max(revisions)},
        "people_due_per_day_max": max(d["people_due"] for d in days),
        "longest_event_loop_hold_ms": round(refresher.longest_hold * 1000, 1),
        "days": days,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "days"}, indent=2))
    return 0


def _checked(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("clearance_reevaluated_subjects_total",
                                             {"cause": "date", "result": "checked"}) or 0.0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
