"""Soak: distinct long record values through the worker's per-event shell keep its memory bounded (issue #10, 5).

A child process (so its RSS is its own, not pytest's) builds the worker's :class:`EventHandler` on a
:class:`DictStore` with a producer that drops what it is given, and feeds record-change events in which every
OFFENSE_DESCR (hence the code section), COMMENT_TEXT, SENT_LENGTH and every other PRI_DOB is a value never seen
before, 2-50 KB long. The events cycle over a few subjects, each event replacing the subject's one record, so what
the worker must hold (the states) stays the same size all along: any growth is memory kept for values that are gone
— the rules' caches, before they were bounded in bytes (300 MB of such input once raised RSS by 691 MB).

The child reports VmRSS (``/proc/self/status``) after a warm-up (imports, first allocations, the states of every
subject at full size) and after each tenth of the feed, and VmHWM (the peak). The bound, :data:`GROWTH_BOUND_MB`
over a feed of :data:`FEED_MB`: no long value is cached at all (the caches keep texts of at most 256 characters;
their byte budgets for short values are tested in tests/rules/test_caches.py) and the states keep their size, so
what remains is the allocator keeping some freed pages of the large strings (glibc returns only the top of its heap):
4-17 MB measured over 100-300 MB. The code this replaced grew by about 1.5 times what it was fed (180 MB here).

Run by hand (figures on stdout, JSON): ``python tests/worker/test_soak.py --megabytes 300``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FEED_MB = 120  # distinct long values fed after the warm-up
SUBJECTS = 16
GROWTH_BOUND_MB = 32


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _text(rng: random.Random, low: int, high: int) -> str:
    """A value never seen before, ``low``-``high`` bytes: upper-case letters and spaces (some rules' patterns run
    on them) around a random core, so no two share a cache key."""
    size = rng.randint(low, high)
    core = "".join(rng.choices(string.ascii_uppercase + " ", k=64))
    return (core * (size // 64 + 1))[:size - 16] + f"{rng.getrandbits(64):016x}"


def _record(rng: random.Random, n: int) -> dict[str, str]:
    record = {
        "SUBJECT_ID": "", "PRI_NAME": "DOE,JANE", "PRI_DOB": "19800101", "STP_EVENT_DATE": "20100101",
        "STP_TYPE_DESCR": "COURT ACTION", "STP_ORI_CNTY_NAME": "LOS ANGELES", "CNT_ORDER": "001001001000",
        "OFN": "CASE001", "DISP_DESCR": "CONVICTED-JAIL", "CONV_STAT_DESCR": "FELONY",
        # a Prop 64 section whose text goes on for kilobytes, before the "-" that ends a code section
        "OFFENSE_DESCR": "11357(B) HS " + _text(rng, 2_000, 50_000) + "-POSSESS",
        "COMMENT_TEXT": "11359 HS " + _text(rng, 2_000, 50_000),  # names another Prop 64 section: read by the rules
        "SENT_LENGTH": "1" * rng.randint(2_000, 8_000) + str(rng.getrandbits(32)),
        "SENT_TIME_CODE": "D",
    }
    if n % 2:
        record["PRI_DOB"] = _text(rng, 2_000, 20_000)  # not a date: Go's zero time, as gogen reads it
    return record


def _event(subject: str, record: dict[str, str], n: int) -> bytes:
    record["SUBJECT_ID"] = subject
    return json.dumps({
        "schema": "record-change.v1", "event_id": f"e{n}", "type": "record.upserted", "source_agency": "TEST",
        "emitted_at": datetime.now(UTC).isoformat(), "subject_id": subject,
        "changes": [{"op": "upserted", "record_key": "r0", "sequence": n, "record": record}],
    }).encode()


class _DroppingProducer:
    """Sends nothing and keeps nothing: only the worker's own memory is measured."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None, *_: Any) -> None:
        self.sent += 1


async def _soak(megabytes: int, subjects: int, seed: int) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry

    from streams.settings import Settings
    from streams.worker.gauges import Gauges
    from streams.worker.handler import EventHandler
    from streams.worker.metrics import Metrics
    from streams.worker.policies import parse_policies
    from streams.worker.store import DictStore

    settings = Settings(bootstrap="127.0.0.1:1", topic_prefix="p.", metrics_port=0, partitions=4)
    metrics = Metrics.create(CollectorRegistry())
    producer = _DroppingProducer()
    policies = parse_policies({"counties": {"LOS ANGELES": {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
    store = DictStore()
    handler = EventHandler(producer, settings, policies, metrics, store, Gauges(metrics, "p.court.record-changes"),
                           today=lambda: date(2024, 1, 1))
    rng = random.Random(seed)
    n = fed = 0
    dead_letters_before = metrics.registry.get_sample_value("clearance_invalid_events_total", {"kind": "processing"})

    async def feed(until_bytes: int) -> int:
        nonlocal n
        total = 0
        while total < until_bytes:
            subject = f"S{n % subjects}"
            raw = _event(subject, _record(rng, n), n)
            await handler.handle(subject.encode(), raw, "p.court.record-changes", 0, n)
            total += len(raw)
            n += 1
        return total

    await feed(max(8, megabytes // 10) << 20)  # warm-up: every subject's state at full size, twice over
    warm_rss = _status_kb("VmRSS")
    warm_events, warm_sent = n, producer.sent
    samples = []  # VmRSS (MB) after each tenth of the feed
    fed = 0
    for _ in range(10):
        fed += await feed((megabytes << 20) // 10)
        samples.append(round(_status_kb("VmRSS") / 1024, 1))
    processing = metrics.registry.get_sample_value("clearance_invalid_events_total", {"kind": "processing"})
    return {
        "events": n - warm_events,
        "fed_mb": round(fed / 2**20, 1),
        "warm_rss_mb": round(warm_rss / 1024, 1),
        "final_rss_mb": round(_status_kb("VmRSS") / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
        "growth_mb": round((_status_kb("VmRSS") - warm_rss) / 1024, 1),
        "rss_samples_mb": samples,
        "subjects_held": len(store.data),
        "state_mb": round(sum(map(len, store.data.values())) / 2**20, 1),
        "sent": producer.sent - warm_sent,
        "processing_errors": (processing or 0) - (dead_letters_before or 0),
    }


def _restore(megabytes: int, folder: Path) -> dict[str, Any]:
    """Write ``megabytes`` of distinct 5 KB states into one partition's RocksDB database opened as the worker's app
    opens it (its table's store options, faust's opener with the WAL off), as a changelog restore does, then read
    every one back, as the start-up re-check does."""
    from prometheus_client import CollectorRegistry

    from streams.settings import Settings
    from streams.worker.app import TABLE, create_app
    from streams.worker.metrics import Metrics
    from streams.worker.policies import parse_policies

    settings = Settings(bootstrap="127.0.0.1:1", data_dir=folder, store="rocksdb://", metrics_port=0, partitions=1)
    policies = parse_policies({"counties": {"LOS ANGELES": {"flow": "los_angeles"}}})
    app = create_app(settings, policies, Metrics.create(CollectorRegistry()))
    options = app.tables[TABLE].data.rocksdb_options
    db = options.open(folder / "partition-0.db")
    value = os.urandom(2_560).hex().encode()
    start = _status_kb("VmRSS")
    written = 0
    for i in range(0, (megabytes << 20) // len(value)):
        db[f"S{i:09d}".encode()] = f"{i:09d}".encode() + value[9:]
        written += len(value)
    after_writes = _status_kb("VmRSS")
    read = sum(len(db[key]) for key in db.keys())  # noqa: SIM118  # rocksdict: keys, then a lookup each, as the scan
    return {
        "written_mb": round(written / 2**20, 1),
        "read_mb": round(read / 2**20, 1),
        "start_rss_mb": round(start / 1024, 1),
        "growth_after_writes_mb": round((after_writes - start) / 1024, 1),
        "growth_after_reads_mb": round((_status_kb("VmRSS") - start) / 1024, 1),
        "write_buffer_mb": options.write_buffer_size >> 20,
        "write_buffers": options.max_write_buffer_number,
        "block_cache_mb": options.block_cache_size >> 20,
    }


def _child(*args: str) -> dict[str, Any]:
    """The figures one run of this file as a script prints, in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def run_soak(megabytes: int = FEED_MB, subjects: int = SUBJECTS, seed: int = 10) -> dict[str, Any]:
    """The figures of one soak."""
    return _child("--megabytes", str(megabytes), "--subjects", str(subjects), "--seed", str(seed))


def test_distinct_long_values_do_not_grow_the_workers_memory() -> None:
    figures = run_soak()
    print(json.dumps(figures))
    # the feed did what it says: every event classified (no dead letters), answers sent, states replaced in place
    assert figures["processing_errors"] == 0
    assert figures["sent"] >= figures["events"]
    assert figures["subjects_held"] == SUBJECTS
    assert figures["fed_mb"] >= FEED_MB
    assert figures["growth_mb"] < GROWTH_BOUND_MB, figures


HELD = 20_000
GAUGE_BYTES_PER_HELD = 160


async def test_held_people_cost_the_gauges_a_dict_entry_each() -> None:
    """The gauges keep every held person's contribution, so a worker holding a million people must not keep a
    million sets of Counters: equal contributions are shared. Before, ~900 bytes per held person (900 MB for a
    million); now the key and its dict entry."""
    import gc
    import tracemalloc

    from prometheus_client import CollectorRegistry

    from streams.settings import Settings
    from streams.worker.gauges import Gauges
    from streams.worker.handler import EventHandler
    from streams.worker.metrics import Metrics
    from streams.worker.policies import parse_policies
    from streams.worker.store import DictStore

    metrics = Metrics.create(CollectorRegistry())
    gauges = Gauges(metrics, "p.court.record-changes")
    policies = parse_policies({"counties": {"LOS ANGELES": {"flow": "los_angeles", "compute_at": "2019-11-11"}}})
    handler = EventHandler(_DroppingProducer(), Settings(bootstrap="127.0.0.1:1", metrics_port=0), policies, metrics,
                           DictStore(), gauges, today=lambda: date(2024, 1, 1))
    record = {**_record(random.Random(1), 0), "OFFENSE_DESCR": "11357(B) HS-POSSESS", "COMMENT_TEXT": "",
              "SENT_LENGTH": "30"}
    await handler.handle(b"S0", _event("S0", record, 0), "p.court.record-changes", 0, 0)
    state = handler.store.get(b"S0")
    assert state is not None and any(e.candidate for e in state.emitted.values())  # a candidate: gauges count it
    keys = [f"SUBJECT{i:09d}".encode() for i in range(HELD)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i, key in enumerate(keys):
            gauges.account(key, i % 4, state)
        gc.collect()
        per_held = (tracemalloc.get_traced_memory()[0] - before) / HELD
    finally:
        tracemalloc.stop()
    gauges.publish()
    assert metrics.registry.get_sample_value("clearance_subjects_in_state") == HELD + 1
    print(f"{per_held:.0f} bytes per held person")
    assert per_held < GAUGE_BYTES_PER_HELD, f"{per_held:.0f} bytes per held person"


RESTORE_MB = 256
RESTORE_GROWTH_BOUND_MB = 64


def test_a_restore_into_rocksdb_keeps_a_bounded_amount_in_memory(tmp_path: Path) -> None:
    """A changelog restore writes every held person into RocksDB and the start-up re-check reads every one back:
    what stays resident is the memtables (at most ``max_write_buffer_number`` of ``write_buffer_size`` per database
    before RocksDB flushes them to files) and the block cache. The bounds: the worker's 2 x 16 MB memtables with
    room for RocksDB's own structures, then its 64 MB block cache on top. faust's defaults (3 x 64 MB memtables, a
    2 GB block cache) kept 134 MB after writing 256 MB and 305 MB after reading it back — per partition a worker
    holds: the whole table, materialised in native memory."""
    figures = _child("--restore", str(RESTORE_MB), "--folder", str(tmp_path))
    print(json.dumps(figures))
    assert figures["written_mb"] >= RESTORE_MB * 0.99 and figures["read_mb"] == figures["written_mb"]
    assert figures["growth_after_writes_mb"] < RESTORE_GROWTH_BOUND_MB, figures
    assert figures["growth_after_reads_mb"] < RESTORE_GROWTH_BOUND_MB + figures["block_cache_mb"], figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="feed distinct long values through the worker's EventHandler")
    parser.add_argument("--megabytes", type=int, default=FEED_MB)
    parser.add_argument("--subjects", type=int, default=SUBJECTS)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--restore", type=int, default=0, help="instead: write this many MB into RocksDB")
    parser.add_argument("--folder", type=Path, help="where --restore keeps its database")
    args = parser.parse_args()
    if args.restore:
        print(json.dumps(_restore(args.restore, args.folder)))
    else:
        print(json.dumps(asyncio.run(_soak(args.megabytes, args.subjects, args.seed))))
