"""Streaming fixtures: a real ``clearance worker`` process against the session broker, and helpers around it.

The worker runs as a subprocess (as in production) so tests can kill -9 it; it uses the RocksDB store, and its
/metrics endpoint tells the tests how far it got, so no test sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import csv
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from fixtures_kafka import free_port
from prometheus_client.parser import text_string_to_metric_families

from streams.cli import main as cli_main
from streams.kafka.clients import consumer, producer
from streams.kafka.topics import create_topics, partition_count
from streams.rules.flows.registry import FLOWS
from streams.settings import DETERMINATIONS, Settings
from streams.tools.export import active_determinations, read_latest

ROOT = Path(__file__).resolve().parents[1]
STATEWIDE = ROOT / "deploy" / "policies" / "statewide.json"
ACCEPTED_KINDS = ("not_json", "schema", "unknown_type", "oversized")


def statewide_policies(compute_at: str = "2020-07-01") -> dict[str, Any]:
    """The shipped statewide default with a fixed compute-at date, so answers do not depend on today."""
    doc = json.loads(STATEWIDE.read_text())
    for spec in doc["counties"].values():
        spec["compute_at"] = compute_at
    return doc


def metrics_text(port: int) -> str:
    """The /metrics page of the worker on ``port``; OSError when it is not serving, including an answer cut off
    because the process ended mid-answer (e.g. a fenced exit), which urllib raises as an HTTPException."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            return str(resp.read().decode())
    except http.client.HTTPException as exc:
        raise ConnectionError(f"/metrics answer cut off: {exc!r}") from exc


@dataclass
class WorkerProcess:
    settings: Settings
    policies: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "CLEARANCE_KAFKA_BOOTSTRAP": s.bootstrap,
            "CLEARANCE_TOPIC_PREFIX": s.topic_prefix,
            "CLEARANCE_APP_ID": "clearance-streams",
            "CLEARANCE_DATA_DIR": str(s.data_dir),
            "CLEARANCE_STORE": "rocksdb://",
            "CLEARANCE_METRICS_PORT": str(s.metrics_port),
            "CLEARANCE_METRICS_HOST": "127.0.0.1",
            **self.extra_env,
        }

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker", "--policies", str(self.policies), "--loglevel", "info"],
                env=self.env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=ROOT,
            )
        self.wait_for(lambda m: "clearance_build_info" in m, 60, "the worker to serve /metrics")

    def metrics(self) -> dict[str, float]:
        """Every sample summed over its labels (``name{...}`` also kept with labels for lookups)."""
        sums: dict[str, float] = {}
        for family in text_string_to_metric_families(metrics_text(self.settings.metrics_port)):
            for sample in family.samples:
                sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                sums[f"{sample.name}{{{labels}}}"] = sample.value
        return sums

    def wait_for(self, predicate: Callable[[dict[str, float]], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if predicate(self.metrics()):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}")

    def wait_consumed(self, events: int, timeout: float = 120) -> None:
        """Until the worker has consumed ``events`` messages of its input (counted since this process started)."""
        self.wait_for(lambda m: self._consumed(m) >= events, timeout, f"{events} events consumed")

    @staticmethod
    def _consumed(m: dict[str, float]) -> float:
        return m.get("clearance_events_consumed_total", 0.0) + sum(
            m.get(f"clearance_invalid_events_total{{kind={k}}}", 0.0) for k in ACCEPTED_KINDS)

    def wait_lag_zero(self, timeout: float = 120) -> None:
        """Until every input partition is consumed to its end (after a restart, counters start from zero)."""
        def done(m: dict[str, float]) -> bool:
            lags = [v for k, v in m.items() if k.startswith("clearance_consumer_lag{")]
            return bool(lags) and sum(lags) == 0 and m.get("clearance_worker_recovering", 1) == 0
        self.wait_for(done, timeout, "consumer lag 0")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)

    def signal(self, sig: int) -> None:
        """Send ``sig`` (SIGSTOP, SIGCONT: a GC pause or a VM freeze) to the worker without waiting for it."""
        assert self.proc is not None and self.proc.poll() is None, "the worker is not running"
        os.killpg(self.proc.pid, sig)

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def worker_factory(kafka_settings: Settings, tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], WorkerProcess]]:
    """Make topics, then build (not start) a worker for a policies document; every worker is stopped at the end."""
    asyncio.run(create_topics(kafka_settings, 4))
    workers: list[WorkerProcess] = []

    def make(policies: dict[str, Any], name: str = "", extra_env: dict[str, str] | None = None) -> WorkerProcess:
        """A worker; a ``name`` gives it its own data dir, metrics port and log (several workers in one group);
        ``extra_env``: more CLEARANCE_* variables for it."""
        path = tmp_path / f"policies-{len(workers)}.json"
        path.write_text(json.dumps(policies))
        settings, log = kafka_settings, tmp_path / "worker.log"
        if name:
            (tmp_path / name).mkdir()
            settings = replace(kafka_settings, data_dir=tmp_path / name, metrics_port=free_port())
            log = tmp_path / f"worker-{name}.log"
        worker = WorkerProcess(settings, path, log, extra_env=dict(extra_env or {}))
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()


async def _send(settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
    client = producer(settings)
    await client.start()
    count = 0
    try:
        for key, value in messages:
            await client.send(topic, value, key=key)
            count += 1
        await client.flush()
    finally:
        await client.stop()
    return count


def send(settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
    return asyncio.run(_send(settings, topic, messages))


async def _group_behind(settings: Settings, topic: str) -> int:
    """Messages of ``topic`` past the worker group's committed offsets, summed over its partitions (the group is
    only asked; this client joins nothing)."""
    group = settings.topic("clearance-streams")  # the app id the worker processes run with (WorkerProcess.env)
    partitions = await partition_count(settings, topic)
    assert partitions, f"no topic {topic}"
    client = consumer(settings, group_id=group, enable_auto_commit=False)
    await client.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await client.end_offsets(tps)
        behind = 0
        for tp in tps:
            behind += ends[tp] - (await client.committed(tp) or 0)
        return behind
    finally:
        await client.stop()


def group_behind(settings: Settings, topic: str) -> int:
    return asyncio.run(_group_behind(settings, topic))


async def _read_records(settings: Settings, topic: str, idle: float) -> list[Any]:
    client = consumer(settings, topic, group_id=None, enable_auto_commit=False)
    await client.start()
    out: list[Any] = []
    try:
        last = time.monotonic()
        while time.monotonic() - last < idle:
            batch = await client.getmany(timeout_ms=200)
            for records in batch.values():
                out.extend(records)
                last = time.monotonic()
    finally:
        await client.stop()
    return out


def read_records(settings: Settings, topic: str, idle: float = 2.0) -> list[Any]:
    """Every record of a topic (aiokafka's ConsumerRecord: partition, offset, key, value), each partition in order."""
    return asyncio.run(_read_records(settings, topic, idle))


def read_all(settings: Settings, topic: str, idle: float = 2.0) -> list[Any]:
    """Every message of a topic (all partitions), decoded as JSON."""
    return [json.loads(record.value) for record in asyncio.run(_read_records(settings, topic, idle))]


def latest_active(settings: Settings, idle: float = 2.0) -> list[dict[str, Any]]:
    """The current determination events, as ``clearance export`` reads them."""
    return active_determinations(asyncio.run(read_latest(settings, settings.topic(DETERMINATIONS), idle)))


def exported(settings: Settings, idle: float = 2.0) -> dict[str, tuple[str, str]]:
    return {d["conviction_id"]: (d["determination"], d["reason"]) for d in latest_active(settings, idle)}


def classify_reference(doj: Path, policies: dict[str, Any], work: Path) -> dict[str, tuple[str, str]]:
    """What ``clearance classify`` says, run once per county that has rows and a policy (conviction id → answer).

    Each county's summary.json is left in ``work/classify-<COUNTY>/``; see :func:`classify_summaries`."""
    with doj.open(newline="") as fh:
        counties = {row["STP_ORI_CNTY_NAME"] for row in csv.DictReader(fh)}
    expected: dict[str, tuple[str, str]] = {}
    for county in sorted(counties & policies["counties"].keys()):
        spec = policies["counties"][county]
        out = work / f"classify-{county.replace(' ', '_')}"
        args = ["classify", "--input-doj", str(doj), "--county", county, "--outputs", str(out),
                "--flow", spec["flow"], "--compute-at", spec["compute_at"], "--no-progress",
                "--overwrite"]  # a reference may be computed again into the same folder
        if spec["flow"] == "configurable":
            options = work / "options.json"
            options.write_text(json.dumps(spec["eligibility_options"]))
            args += ["--eligibility-options", str(options)]
        for setting in FLOWS[spec["flow"]].settings:  # absent: the flow's default, as in the policies file
            if setting in spec:
                args += [f"--{setting.replace('_', '-')}", str(spec[setting])]
        assert cli_main(args) == 0
        with (out / "Prop64_Results.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                cid = f"{row['SUBJECT_ID']}:{row['CNT_ORDER']}"
                expected[cid] = (row["Eligibility Determination"], row["Eligibility Reason"])
    return expected


def classify_summaries(work: Path) -> dict[str, dict[str, Any]]:
    """County → the summary.json written by :func:`classify_reference` into ``work``."""
    out = {}
    for path in sorted(work.glob("classify-*/summary.json")):
        doc = json.loads(path.read_text())
        out[doc["county"]] = doc
    return out
