"""Failover: how long after one of two workers dies the other serves its partitions, with and without a standby.

For each standby setting (``CLEARANCE_STANDBY_REPLICAS`` 0 and 1): a fresh topic set with 4 partitions, two workers
(RocksDB, own state directories), a backfill of ``--people`` generated people through them, then ``kill -9`` of
the second worker. From that moment probe events — one new person with one Prop 64 conviction, keyed so that each
input partition gets its own probes — are offered every 100 ms per partition; a partition is *served* when the
first probe sent after the kill comes back as a determination. The partitions the dead worker held come back after
Kafka's session timeout (10 s: a killed process does not leave its group), the rebalance, and — without a standby —
the restore of their table partitions from the changelog; the survivor's own partitions never stop.

    python bench/failover_bench.py [--people 50000]

Starts its own broker on a free loopback port; results go to ``bench/results/failover.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
from aiokafka import AIOKafkaConsumer  # noqa: E402
from pipeline_bench import free_port, metrics, policies, settings_for  # noqa: E402

from streams.cli import main as cli_main  # noqa: E402
from streams.doj import columns as C  # noqa: E402
from streams.doj.record import code_section_of  # noqa: E402
from streams.events.builders import record_change_event  # noqa: E402
from streams.events.codec import encode  # noqa: E402
from streams.kafka.broker import LocalBroker  # noqa: E402
from streams.kafka.clients import producer  # noqa: E402
from streams.kafka.partitioner import partition_for_key  # noqa: E402
from streams.kafka.topics import create_topics  # noqa: E402
from streams.settings import DETERMINATIONS, RECORD_CHANGES, Settings  # noqa: E402
from streams.tools.replay import replay  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "failover.json"
DATA = ROOT / "bench" / "data"
PARTITIONS = 4
PROBE_EVERY = 0.1
SERVED_TIMEOUT = 300.0


def probe_row(doj: Path) -> list[str]:
    """A Prop 64 conviction row of the file (the probes are copies of it under new subject ids)."""
    with doj.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            section = code_section_of(row[C.OFFENSE_DESCR], row[C.COMMENT_TEXT])
            if section.startswith(("11357", "11358", "11359", "11360")) and row[C.DISP_DESCR].startswith("CONVICTED"):
                return row
    raise SystemExit("no Prop 64 conviction in the generated file")


class Probes:
    """Fresh one-conviction people keyed to a chosen partition."""

    def __init__(self, row: list[str]) -> None:
        self.row = row
        self.count = 0

    def next_for(self, partition: int) -> tuple[bytes, bytes, str]:
        while True:
            self.count += 1
            sid = f"PROBE{self.count:09d}"
            if partition_for_key(sid.encode(), PARTITIONS) == partition:
                break
        row = list(self.row)
        row[C.SUBJECT_ID] = sid
        event = record_change_event(subject_id=sid, rows=[(0, row)], file_digest=f"probe-{sid}", source_agency="BENCH",
                                    emitted_at=datetime.now(UTC))
        return sid.encode(), encode(event), sid


def start_worker(settings: Settings, policy: Path, log: Path, standby: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": settings.bootstrap, "CLEARANCE_TOPIC_PREFIX":
           settings.topic_prefix, "CLEARANCE_DATA_DIR": str(settings.data_dir), "CLEARANCE_STORE": "rocksdb://",
           "CLEARANCE_METRICS_PORT": str(settings.metrics_port), "CLEARANCE_STANDBY_REPLICAS": str(standby)}
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "streams", "worker", "--policies", str(policy),
                                 "--loglevel", "info"], env=env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def consumed(settings: Settings) -> float:
    try:
        return metrics(settings.metrics_port).get("clearance_events_consumed_total", 0.0)
    except OSError:
        return 0.0


def wait_backfill(workers: list[Settings], events: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while sum(consumed(s) for s in workers) < events:
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the backfill")
        time.sleep(1)


async def served_after_kill(settings: Settings, victim: subprocess.Popen[bytes], row: list[str]) -> dict[int, float]:
    """Kill -9 ``victim``; seconds until each partition answers a probe sent after the kill."""
    reader = AIOKafkaConsumer(settings.topic(DETERMINATIONS), bootstrap_servers=settings.bootstrap,
                              auto_offset_reset="latest", group_id=None)
    await reader.start()
    await reader.seek_to_end()
    out = producer(settings, linger_ms=0)
    await out.start()
    probes = Probes(row)
    waiting: dict[str, int] = {}
    served: dict[int, float] = {}
    try:
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.perf_counter()
        last_probe = 0.0
        while len(served) < PARTITIONS and time.perf_counter() - killed < SERVED_TIMEOUT:
            if time.perf_counter() - last_probe >= PROBE_EVERY:
                last_probe = time.perf_counter()
                for partition in range(PARTITIONS):
                    if partition not in served:
                        key, value, sid = probes.next_for(partition)
                        waiting[sid] = partition
                        await out.send(settings.topic(RECORD_CHANGES), value, key=key)
            batch = await reader.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batch.values():
                for msg in records:
                    partition = waiting.get(orjson.loads(msg.value).get("subject_id"))
                    if partition is not None and partition not in served:
                        served[partition] = now - killed
    finally:
        await out.stop()
        await reader.stop()
    return served


def run_one(broker: str, work: Path, doj: Path, standby: int) -> dict[str, Any]:
    prefix = f"failover-{standby}-{int(time.time())}."
    base = settings_for(broker, prefix, work / f"s{standby}")
    asyncio.run(create_topics(base, PARTITIONS))
    policy = policies(work / "policies.json")
    a = replace(base, data_dir=work / f"s{standby}" / "a", metrics_port=free_port())
    b = replace(base, data_dir=work / f"s{standby}" / "b", metrics_port=free_port())
    procs = [start_worker(s, policy, work / f"worker-{standby}-{n}.log", standby) for n, s in (("a", a), ("b", b))]
    try:
        time.sleep(5)
        _rows, events = asyncio.run(replay(base, doj, progress=False))
        wait_backfill([a, b], events)
        time.sleep(5)  # standbys catch up with the changelog
        served = asyncio.run(served_after_kill(base, procs[1], probe_row(doj)))
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(60)
    moved = {p: t for p, t in served.items() if t > 1.0}
    return {"standby_replicas": standby, "events": events, "served_seconds": {str(p): round(t, 2)
                                                                             for p, t in sorted(served.items())},
            "moved_partitions": sorted(moved), "failover_seconds": round(max(served.values(), default=float("nan")),
                                                                        2),
            "all_served": len(served) == PARTITIONS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50_000)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    doj = DATA / f"failover_{args.people}.csv"
    if not doj.exists():
        assert cli_main(["generate-doj", "--people", str(args.people), "--seed", "7", "--output", str(doj)]) == 0
    with tempfile.TemporaryDirectory(prefix="failover-bench-") as tmp:
        work = Path(tmp)
        broker = LocalBroker(work / "broker", f"127.0.0.1:{free_port()}", die_with_parent=True)
        broker.start(timeout=120)
        try:
            runs = [run_one(broker.bootstrap, work, doj, standby) for standby in (0, 1)]
        finally:
            broker.stop()
    result = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}", "people": args.people, "runs": runs,
              "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'standby replicas':>16} | {'events':>8} | {'moved partitions':>16} | failover (s) | per partition (s)")
    for run in runs:
        print(f"{run['standby_replicas']:>16} | {run['events']:>8} | {run['moved_partitions']!s:>16} | "
              f"{run['failover_seconds']:>12} | {run['served_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
