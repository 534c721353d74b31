"""Statewide size end to end: a ~10M-row / ~1M-person backfill through W workers, in one run.

    python bench/statewide_bench.py [--people 1000000] [--workers 1,2] [--partitions 8] [--live-rate 1000]

Generates (once, cached in ``bench/data``) ``--people`` people across all 58 California counties, starts the
project's broker on a free loopback port, and for each W of ``--workers``: creates fresh topics with
``--partitions`` partitions, starts ``clearance worker --processes W`` (W workers, one consumer group, RocksDB),
backfills the file through ``clearance replay`` (a child process, as a user runs it) while one-record live events
of other people are offered at ``--live-rate`` per second, and reports:

* records/s and events/s end to end: from the first input message to the last determination (broker CreateTime);
* CPU seconds of each worker, of the broker and of the replay; peak RSS (VmHWM) of each worker;
* state size: the workers' RocksDB directories and the changelog topic's log segments on the broker's disk;
* restore: every worker stopped, worker 0's local state deleted, all started again — seconds until worker 0 has
  restored its partitions from the changelog and consumes (``clearance_worker_recovering`` 0 with its lag series
  present: ``restore_seconds``), then until it has also re-checked every person it holds (the check after an
  assignment, run in slices between events: ``restore_and_check_seconds``), and the subjects it then holds;
  ``--profile-restore FILE`` samples the restore with py-spy;
* live latency p50/p99 of the one-record events during the backfill;
* with ``--time-refresh``, one simulated day of time refresh at this size (``bench/time_bench.py --days 2``).

Results go to ``bench/results/statewide.json`` (one entry per W) and a table on stdout. Targets (issue #13): 10M rows
< 4 minutes where the raw pipe does ≥ 150k records/s, two workers ≥ 1.6× one, restore of 1M subjects < 60 s, live
p99 < 250 ms during the backfill.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import shutil
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

from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: E402
from pipeline_bench import build_events, free_port, latency, metrics, pct, policies, settings_for  # noqa: E402

from streams.cli import main as cli_main  # noqa: E402
from streams.doj import columns as C  # noqa: E402
from streams.doj.counties import CALIFORNIA_COUNTIES  # noqa: E402
from streams.kafka.broker import LocalBroker  # noqa: E402
from streams.kafka.topics import create_topics  # noqa: E402
from streams.settings import DETERMINATIONS, RECORD_CHANGES, Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "statewide.json"
DATA = ROOT / "bench" / "data"
CHANGELOG = "clearance-streams-subjects-changelog"


def clock_ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / clock_ticks()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return sorted(int(p) for p in out)


def dir_mb(path: Path) -> float:
    """Disk used (allocated blocks: Kafka's index files are preallocated sparse files of 10 MB)."""
    if not path.exists():
        return 0.0
    return round(sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def generate(people: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    doj = DATA / f"statewide_{people}.csv"
    if not doj.exists():
        partial = doj.with_suffix(".tmp")
        counties = ",".join(sorted(CALIFORNIA_COUNTIES))
        assert cli_main(["generate-doj", "--people", str(people), "--seed", "58", "--counties", counties,
                         "--output", str(partial)]) == 0
        partial.rename(doj)
    return doj


def live_people(path: Path) -> Path:
    """4,000 generated people for the live events, their subject ids prefixed with ``L`` (the generator numbers
    people the same way in every file, so unprefixed they would be people of the backfill)."""
    if not path.exists():
        raw = path.with_suffix(".raw")
        assert cli_main(["generate-doj", "--people", "4000", "--seed", "59", "--output", str(raw)]) == 0
        with raw.open(newline="") as src, path.open("w", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
            writer.writerow(next(reader))
            for row in reader:
                row[C.SUBJECT_ID] = f"L{row[C.SUBJECT_ID]}"
                writer.writerow(row)
        raw.unlink()
    return path


def start_workers(settings: Settings, policy: Path, processes: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": settings.bootstrap, "CLEARANCE_TOPIC_PREFIX":
           settings.topic_prefix, "CLEARANCE_DATA_DIR": str(settings.data_dir), "CLEARANCE_STORE": "rocksdb://",
           "CLEARANCE_METRICS_PORT": str(settings.metrics_port)}
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "streams", "worker", "--policies", str(policy),
                                 "--loglevel", "info", "--processes", str(processes)], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def scrape(port: int) -> dict[str, float]:
    try:
        return metrics(port)
    except OSError:  # down, or its answer cut off by an exit
        return {}


def wait_for(predicate: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)
    return time.monotonic() - started


def _reader(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, auto_offset_reset="earliest", group_id=None,
                            enable_auto_commit=False, max_partition_fetch_bytes=8 * 2**20)


async def first_input_timestamp(settings: Settings, partitions: int) -> int:
    """CreateTime (ms) of the earliest first message of the input's partitions."""
    reader = _reader(settings)
    await reader.start()
    try:
        tps = [TopicPartition(settings.topic(RECORD_CHANGES), p) for p in range(partitions)]
        reader.assign(tps)
        ends = await reader.end_offsets(tps)
        pending = {tp for tp, end in ends.items() if end}
        first: list[int] = []
        while pending:
            for tp, records in (await reader.getmany(*pending, timeout_ms=1000, max_records=1)).items():
                if records:
                    first.append(records[0].timestamp)
                    pending.discard(tp)
    finally:
        await reader.stop()
    return min(first)


async def last_backfill_determination(settings: Settings, partitions: int, live: set[bytes]) -> tuple[int, int]:
    """(CreateTime (ms) of the last determination of a backfill person, their determinations): the live people's
    (``live``: subject ids) are left out."""
    reader = _reader(settings)
    await reader.start()
    try:
        tps = [TopicPartition(settings.topic(DETERMINATIONS), p) for p in range(partitions)]
        reader.assign(tps)
        ends = await reader.end_offsets(tps)
        last = count = seen = 0
        pending = {tp for tp, end in ends.items() if end}
        while pending:
            for records in (await reader.getmany(timeout_ms=1000, max_records=50_000)).values():
                seen += len(records)
                for r in records:
                    if r.key is not None and r.key.split(b":", 1)[0] not in live:
                        count += 1
                        last = max(last, r.timestamp)
            pending = {tp for tp in pending if await reader.position(tp) < ends[tp]}
    finally:
        await reader.stop()
    if not last:
        print(f"determinations: ends {ends}, {seen} read, none of the backfill", file=sys.stderr)
    return last, count


def span(settings: Settings, partitions: int, live: set[bytes]) -> tuple[float, int]:
    """(seconds from the first input message to the last backfill determination, backfill determinations)."""
    first = asyncio.run(first_input_timestamp(settings, partitions))
    last, count = asyncio.run(last_backfill_determination(settings, partitions, live))
    if not last:
        raise SystemExit("no determinations of the backfill")
    return (last - first) / 1000, count


def lag_zero_everywhere(ports: list[int]) -> bool:
    """Every worker up, not recovering, and its input partitions read to their end."""
    for port in ports:
        m = scrape(port)
        if not m or m.get("clearance_worker_recovering", 1) != 0 or m.get("clearance_consumer_lag", 1) != 0:
            return False
    return True


def consumed(ports: list[int]) -> float:
    return sum(scrape(port).get("clearance_events_consumed_total", 0.0) for port in ports)


def run_one(broker: LocalBroker, work: Path, doj: Path, live: Path, processes: int, partitions: int,
            live_rate: float, profile_restore: Path | None = None) -> dict[str, Any]:
    prefix = f"statewide-w{processes}-{int(time.time())}."
    base = replace(settings_for(broker.bootstrap, prefix, work / f"w{processes}"), metrics_port=free_port())
    while any(not _free(base.metrics_port + i) for i in range(processes)):
        base = replace(base, metrics_port=free_port())
    ports = [base.metrics_port + i for i in range(processes)]
    asyncio.run(create_topics(base, partitions))
    policy = policies(work / "policies.json")
    log = work / f"workers-{processes}.log"
    supervisor = start_workers(base, policy, processes, log)
    broker_pid = int(broker.pid_file.read_text().strip())  # the bench reads the broker's CPU
    result: dict[str, Any] = {"workers": processes, "partitions": partitions}
    try:
        wait_for(lambda: all(scrape(p) for p in ports), 120, "the workers' /metrics")
        broker_cpu0 = cpu_seconds(broker_pid)
        env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": base.bootstrap, "CLEARANCE_TOPIC_PREFIX": prefix}
        replay = subprocess.Popen([sys.executable, "-m", "streams", "replay", "--input-doj", str(doj)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
        time.sleep(10)  # the backfill is under way: offer live events meanwhile
        lat = asyncio.run(latency(base, live, live_rate, 30)) if live_rate else []
        replay_cpu = cpu_seconds(replay.pid)
        output = replay.communicate()[0].decode(errors="replace")
        if replay.returncode != 0:
            raise SystemExit(f"replay failed:\n{output[-2000:]}")
        wait_for(lambda: lag_zero_everywhere(ports) and _settled(ports), 7200, "the backfill to be consumed")
        live_ids = {key for key, _, _ in build_events(live, 1)}
        seconds, determinations = span(base, partitions, live_ids)
        pids = children(supervisor.pid) if processes > 1 else [supervisor.pid]  # one: no supervisor
        rows = sum(1 for _ in doj.open("rb")) - 1
        result |= {
            "rows": rows, "replay_output": output.strip().splitlines()[-1:],
            "seconds": round(seconds, 1), "records_per_second": round(rows / seconds),
            "determinations": determinations,
            "worker_cpu_seconds": [round(cpu_seconds(p), 1) for p in pids],
            "worker_peak_rss_mb": [peak_rss_mb(p) for p in pids],
            "broker_cpu_seconds": round(cpu_seconds(broker_pid) - broker_cpu0, 1),
            "replay_cpu_seconds": round(replay_cpu, 1),
            # answered: live events whose determination came back within 3 s of the 30 s offer window (the rest
            # waited behind the backfill in their partitions); percentiles over the answered ones
            "live": {"offered_per_second": live_rate, "offered": int(live_rate * 30), "answered": len(lat),
                     "p50_ms": round(pct(lat, 0.5), 1) if lat else None,
                     "p99_ms": round(pct(lat, 0.99), 1) if lat else None},
        }
        stop(supervisor)
        state = base.data_dir / "processes" if processes > 1 else base.data_dir / "worker"
        result["state_mb"] = dir_mb(state)
        result["changelog_mb"] = round(sum(dir_mb(d) for d in broker.data.glob(f"{prefix}{CHANGELOG}-*")), 1)
        # restore: worker 0 loses its disk; all start again
        shutil.rmtree(state / "0" if processes > 1 else state)
        supervisor = start_workers(base, policy, processes, log)
        started = time.monotonic()
        spy = py_spy(supervisor.pid, profile_restore.with_suffix(f".w{processes}.txt")) if profile_restore else None
        try:
            wait_for(lambda: _serving(scrape(ports[0])), 3600, "worker 0 to restore its partitions")
            result["restore_seconds"] = round(time.monotonic() - started, 1)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its samples when interrupted
                spy.wait(120)
        # then the worker re-checks every person it holds (in slices between events, so it already consumes)
        wait_for(lambda: _checked(ports[0]), 3600, "worker 0 to re-check its restored subjects")
        result["restore_and_check_seconds"] = round(time.monotonic() - started, 1)
        result["restored_subjects"] = int(scrape(ports[0]).get("clearance_subjects_in_state", 0))
    finally:
        stop(supervisor)
    return result


def py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """Sample the restoring worker(s) (``pid`` and its children) with py-spy into collapsed stacks (``--format
    raw``: one line per distinct stack with its sample count), to see where a restore's time goes. A profiler
    slows what it samples a little: a profiled run's restore seconds are not the figure to quote."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        raise SystemExit("--profile-restore needs py-spy (pip install py-spy)")
    output.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--subprocesses", "--rate", "50", "--format", "raw",
                             "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_model() -> str:
    """The CPU's model name (``platform.processor()`` is often just the architecture on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _settled(ports: list[int]) -> bool:
    """No consumption between two looks a second apart (lag series can lag the last fetch)."""
    before = consumed(ports)
    time.sleep(1)
    return consumed(ports) == before


def _serving(m: dict[str, float]) -> bool:
    """Restored and consuming (``m``: one scrape): not recovering, with the lag series of its assigned partitions
    (before the first assignment the gauge reads 0 with no lag series)."""
    return m.get("clearance_worker_recovering", 1) == 0 and "clearance_consumer_lag" in m


def _checked(port: int) -> bool:
    """The post-assignment re-check of every held person is done (the held-subjects gauge is published after it)."""
    m = scrape(port)
    return _serving(m) and m.get("clearance_subjects_in_state", 0) > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--live-rate", type=float, default=1000.0, help="live events/s during the backfill (0: none)")
    parser.add_argument("--time-refresh", action="store_true", help="also run bench/time_bench.py at this size")
    parser.add_argument("--profile-restore", type=Path, help="py-spy the restore into FILE.w<W>.txt (collapsed stacks)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results file (default: statewide.json)")
    args = parser.parse_args()
    doj = generate(args.people)
    live = live_people(DATA / "statewide_live.csv")
    runs = []
    with tempfile.TemporaryDirectory(prefix="statewide-bench-") as tmp:
        work = Path(tmp)
        broker = LocalBroker(work / "broker", f"127.0.0.1:{free_port()}", die_with_parent=True)
        broker.start(timeout=120)
        try:
            for processes in (int(w) for w in args.workers.split(",")):
                runs.append(run_one(broker, work, doj, live, processes, args.partitions, args.live_rate,
                                    args.profile_restore))
                print(json.dumps(runs[-1]), flush=True)
        finally:
            broker.stop()
    result: dict[str, Any] = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "people": args.people, "runs": runs, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    if len(runs) >= 2 and runs[0]["workers"] == 1:
        result["speedup"] = {str(r["workers"]): round(r["records_per_second"] / runs[0]["records_per_second"], 2)
                             for r in runs}
    if args.time_refresh:
        subprocess.run([sys.executable, str(ROOT / "bench" / "time_bench.py"), "--people", str(args.people),
                        "--days", "2"], check=True, cwd=ROOT)
        result["time_refresh"] = json.loads((ROOT / "bench" / "results" / "time.json").read_text())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'W':>2} | {'rows':>10} | {'s':>7} | {'records/s':>9} | {'restore s':>9} | {'p99 ms':>7} | peak RSS MB")
    for r in runs:
        print(f"{r['workers']:>2} | {r['rows']:>10} | {r['seconds']:>7} | {r['records_per_second']:>9} | "
              f"{r['restore_seconds']:>9} | {r['live']['p99_ms']!s:>7} | {r['worker_peak_rss_mb']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
