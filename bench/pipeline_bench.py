"""Benchmark the streaming pipeline on a real local Kafka broker, in one run, over the same records.

(a) a raw aiokafka batch pipe: consume (getmany) → orjson decode → produce one message per event → commit;
(b) the Faust worker (``clearance worker``, RocksDB store) classifying the same pre-loaded events, timed from its
    first to its last determination (their CreateTime stamps);
(c) latency: one-record live events offered at a fixed rate while the worker runs; p50/p99 from the moment an
    event is handed to the producer to the moment its determination is read back from the determinations topic.

    python bench/pipeline_bench.py [--people 25000] [--rate 1000] [--seconds 30]

Starts its own broker on a free loopback port (or uses $CLEARANCE_KAFKA_BOOTSTRAP when set); results go to
``bench/results/pipeline.json`` and a table on stdout. Targets (issue #13, measured in the same run because machines
differ): (b) ≥ 0.3 of (a)'s records/s, (c) p99 < 250 ms at 1,000 events/s. (c) can only time the events that
produce a determination (a row that adds no Prop 64 conviction and changes no answer emits nothing): ``samples``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: E402
from aiokafka.admin import NewTopic  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from streams.cli import main as cli_main  # noqa: E402
from streams.doj.reader import iter_rows  # noqa: E402
from streams.events.builders import record_change_event  # noqa: E402
from streams.events.codec import encode  # noqa: E402
from streams.kafka.broker import LocalBroker  # noqa: E402
from streams.kafka.clients import consumer, producer, started_admin  # noqa: E402
from streams.kafka.topics import create_topics  # noqa: E402
from streams.settings import DETERMINATIONS, RECORD_CHANGES, Settings  # noqa: E402
from streams.tools.replay import file_digest, subject_runs  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "pipeline.json"
DATA = ROOT / "bench" / "data"
TARGET_RATIO = 0.3  # (b) / (a): the worker's records/s against the raw pipe's, in one run
TARGET_P99_MS = 250
PARTITIONS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(bootstrap: str, prefix: str, data_dir: Path) -> Settings:
    return Settings(bootstrap=bootstrap, security_protocol="PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="",
                    sasl_password="", ssl_cafile="", data_dir=data_dir, topic_prefix=prefix,
                    app_id="clearance-streams", store="rocksdb://", metrics_port=free_port(),
                    metrics_host="127.0.0.1")


def policies(path: Path) -> Path:
    doc = json.loads((ROOT / "deploy" / "policies" / "statewide.json").read_text())
    for spec in doc["counties"].values():
        spec["compute_at"] = "2020-07-01"
    path.write_text(json.dumps(doc))
    return path


def build_events(doj: Path, max_records: int) -> list[tuple[bytes, bytes, int]]:
    digest = file_digest(doj)
    now = datetime.now(UTC)
    return [(sid.encode(), encode(record_change_event(subject_id=sid, rows=run, file_digest=digest,
                                                      source_agency="BENCH", emitted_at=now)), len(run))
            for sid, run in subject_runs(iter_rows(str(doj)), max_records)]


async def load(settings: Settings, events: list[tuple[bytes, bytes, int]]) -> None:
    client = producer(settings, linger_ms=20)
    await client.start()
    try:
        futures = [await client.send(settings.topic(RECORD_CHANGES), value, key=key) for key, value, _ in events]
        await client.flush()
        await asyncio.gather(*futures)
    finally:
        await client.stop()


async def raw_pipe(settings: Settings, events: int) -> float:
    """(a): a consumer group pipe with state and one output per event; returns seconds for all events."""
    src = settings.topic(RECORD_CHANGES)
    async with started_admin(settings) as admin:  # the project's broker does not auto-create topics
        await admin.create_topics([NewTopic(settings.topic("raw-out"), PARTITIONS, 1)])
    client = consumer(settings, src, group_id=f"{settings.topic_prefix}raw-pipe", enable_auto_commit=False,
                      max_poll_records=5000)
    out = producer(settings, linger_ms=5)
    await client.start()
    await out.start()
    state: dict[bytes, int] = {}
    seen = 0
    started = None
    try:
        while seen < events:
            batch = await client.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for msg in records:
                    started = started or time.perf_counter()
                    event = orjson.loads(msg.value)
                    state[msg.key] = state.get(msg.key, 0) + len(event["changes"])
                    await out.send(settings.topic("raw-out"), orjson.dumps({"n": state[msg.key]}), key=msg.key)
                    seen += 1
            if batch:
                await out.flush()
                await client.commit()
    finally:
        await out.stop()
        await client.stop()
    return time.perf_counter() - (started or time.perf_counter())


def metrics(port: int) -> dict[str, float]:
    """The worker's samples summed over labels; OSError when it is not serving (an answer cut off by the process
    ending mid-answer, an HTTPException to urllib, included)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except http.client.HTTPException as exc:
        raise ConnectionError(f"/metrics answer cut off: {exc!r}") from exc
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def start_worker(settings: Settings, policy: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": settings.bootstrap, "CLEARANCE_TOPIC_PREFIX":
           settings.topic_prefix, "CLEARANCE_DATA_DIR": str(settings.data_dir), "CLEARANCE_STORE": "rocksdb://",
           "CLEARANCE_METRICS_PORT": str(settings.metrics_port)}
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "streams", "worker", "--policies", str(policy)], env=env,
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def wait_consumed(settings: Settings, proc: subprocess.Popen[bytes], events: int, timeout: float) -> None:
    """Poll /metrics twice a second until the worker has consumed ``events`` (each scrape costs the worker CPU,
    so the timing itself comes from the output topic, not from this loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("worker died; see its log")
        try:
            done = metrics(settings.metrics_port).get("clearance_events_consumed_total", 0.0)
        except OSError:
            done = 0.0
        if done >= events:
            return
        time.sleep(0.5)
    raise SystemExit("timed out waiting for the worker")


async def output_span(settings: Settings) -> float:
    """Seconds between the first and the last determination the worker produced (their CreateTime stamps, set
    by the worker's producer when it queues each message), i.e. the worker's busy time over the bulk load."""
    topic = settings.topic(DETERMINATIONS)
    reader = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, auto_offset_reset="earliest",
                              group_id=None, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        reader.assign(partitions)
        ends = await reader.end_offsets(partitions)
        first = last = None
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            for records in (await reader.getmany(timeout_ms=500, max_records=10000)).values():
                stamps = [msg.timestamp for msg in records]
                first = min(stamps) if first is None else min(first, *stamps)
                last = max(stamps) if last is None else max(last, *stamps)
            pending = {tp for tp in pending if await reader.position(tp) < ends[tp]}
    finally:
        await reader.stop()
    if first is None or last is None:
        raise SystemExit("the worker produced no determinations")
    return (last - first) / 1000


async def latency(settings: Settings, doj: Path, rate: float, seconds: float) -> list[float]:
    """(c): offer one-record events at ``rate``/s; read determinations back; latencies in ms. ``doj`` must hold
    people the worker has not seen (a replayed row that changes nothing emits nothing)."""
    events = build_events(doj, 1)[: int(rate * seconds)]
    sent_at: dict[str, float] = {}
    reader = AIOKafkaConsumer(settings.topic(DETERMINATIONS), bootstrap_servers=settings.bootstrap,
                              auto_offset_reset="latest", group_id=None)
    await reader.start()
    await reader.seek_to_end()
    out = producer(settings, linger_ms=0)
    await out.start()
    lat: list[float] = []

    async def read() -> None:
        while True:
            batch = await reader.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for msg in records:
                    sid = orjson.loads(msg.value).get("source_event_id")
                    if sid in sent_at:
                        lat.append((now - sent_at.pop(sid)) * 1000)

    task = asyncio.create_task(read())
    started = time.perf_counter()
    for i, (key, value, _) in enumerate(events):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        event_id = orjson.loads(value)["event_id"]
        sent_at[event_id] = time.perf_counter()
        await out.send(settings.topic(RECORD_CHANGES), value, key=key)
    await asyncio.sleep(3)
    task.cancel()
    await out.stop()
    await reader.stop()
    return sorted(lat)


def rates(seconds: float, records: int, events: int) -> dict[str, float] | None:
    if seconds != seconds:  # not measured (NaN)
        return None
    return {"seconds": round(seconds, 3), "records_per_second": round(records / seconds),
            "messages_per_second": round(events / seconds)}


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--parts", default="abc", help="which measurements: a raw pipe, b worker, c latency")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    doj = DATA / f"pipeline_{args.people}_{args.seed}.csv"
    if not doj.exists():
        cli_main(["generate-doj", "--people", str(args.people), "--seed", str(args.seed), "--output", str(doj)])
    live = DATA / f"pipeline_live_{args.seed + 1}.csv"  # other people, for the latency phase
    if not live.exists():
        people = max(100, int(args.rate * args.seconds / 9))
        cli_main(["generate-doj", "--people", str(people), "--seed", str(args.seed + 1), "--output", str(live)])
    events = build_events(doj, 1000)
    records = sum(n for _, _, n in events)
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    broker = None
    bootstrap = os.environ.get("CLEARANCE_KAFKA_BOOTSTRAP")
    if not bootstrap:
        broker = LocalBroker(work / "kafka", f"127.0.0.1:{free_port()}")
        broker.start()
        bootstrap = broker.bootstrap
    worker = None
    try:
        run = datetime.now(UTC).strftime("%H%M%S")  # fresh topics even on a shared cluster
        a = settings_for(bootstrap, f"bench-{run}-a.", work)
        asyncio.run(create_topics(a, PARTITIONS))
        asyncio.run(load(a, events))
        raw_s = asyncio.run(raw_pipe(a, len(events))) if "a" in args.parts else float("nan")

        b = settings_for(bootstrap, f"bench-{run}-b.", work)
        asyncio.run(create_topics(b, PARTITIONS))
        asyncio.run(load(b, events))
        worker = start_worker(b, policies(work / "policies.json"), work / "worker.log")
        wait_consumed(b, worker, len(events), 900)
        worker_s = asyncio.run(output_span(b))
        lat = asyncio.run(latency(b, live, args.rate, args.seconds)) if "c" in args.parts else []
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(60)
        if broker is not None:
            broker.stop()
    result: dict[str, Any] = {
        "records": records,
        "events": len(events),
        "raw_pipe": rates(raw_s, records, len(events)),
        "worker": rates(worker_s, records, len(events)),
        "ratio_worker_to_raw": round(raw_s / worker_s, 3) if raw_s == raw_s else None,
        "latency": {"offered_events_per_second": args.rate, "seconds": args.seconds, "samples": len(lat),
                    "p50_ms": round(pct(lat, 0.50), 1), "p99_ms": round(pct(lat, 0.99), 1)},
        "targets": {"ratio_worker_to_raw": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    ratio = result["ratio_worker_to_raw"]
    result["meets_targets"] = (ratio is not None and ratio >= TARGET_RATIO
                               and result["latency"]["p99_ms"] < TARGET_P99_MS)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
