"""Benchmark of decode_record_change (and, for comparison, jsonschema) on replay-like events.

Run: ``.venv/bin/python tests/events/bench_codec.py``. Not collected by pytest: speed targets are checked by
benchmarks, never by timed tests. The worker's budget is ≥30,000 records/s on 2 cores for everything, i.e.
≲66 µs per record per core; decoding should stay a small share of it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from streams.doj.columns import INDEX, NUM_COLUMNS
from streams.events.builders import record_change_event
from streams.events.codec import decode_record_change, encode
from streams.events.schemas import validator

DIGEST = "0123456789abcdef" * 4


def _row(rng: random.Random, subject: str, count: int) -> list[str]:
    """A DOJ row with the ~35 non-empty columns a real court-action row has."""
    fields = [""] * NUM_COLUMNS
    values = {
        "RECORD_ID": str(rng.randrange(10**9)),
        "SUBJECT_STATUS": "A",
        "SUBJECT_ID": subject,
        "REQ_SEG_SEP": "#",
        "PII_SEG_SEP": "#",
        "CII_NUMBER": f"A{rng.randrange(10**8):08d}",
        "PRI_NAME": "SKYWALKER,LUKE",
        "GENDER": "M",
        "PRI_DOB": "19700101",
        "PDR_SEG_SEP": "#",
        "RACE_CODE": "W",
        "RACE_DESCR": "WHITE",
        "HEIGHT": "510",
        "WEIGHT": "170",
        "CYC_SEG_SEP": "#",
        "CYC_ORDER": f"{count:03d}",
        "CYC_DATE": "20150310",
        "STP_SEG_SEP": "#",
        "STP_ORDER": "001",
        "STP_EVENT_DATE": "20150612",
        "STP_TYPE_CODE": "C",
        "STP_TYPE_DESCR": "COURT ACTION",
        "STP_ORI_TYPE": "C",
        "STP_ORI_CODE": "CA0340000",
        "STP_ORI_DESCR": "CASCSACRAMENTO",
        "STP_ORI_CNTY_CODE": "34",
        "STP_ORI_CNTY_NAME": "SACRAMENTO",
        "CNT_SEG_SEP": "#",
        "CNT_ORDER": f"{count:03d}001001000",
        "DISP_DATE": "20150612",
        "OFN": "15F01234",
        "OFFENSE_DESCR": "11359 HS-POSSESS MARIJUANA FOR SALE",
        "OFFENSE_TOC": "F",
        "DISP_DESCR": "CONVICTED-PROBATION",
        "CONV_STAT_DESCR": "FELONY",
        "SENT_SEG_SEP": "#",
        "SENT_LOC_DESCR": "PROBATION",
        "SENT_LENGTH": "3",
        "SENT_TIME_CODE": "Y",
        "CYC_AGE": "45",
        "END_OF_REC": "~",
    }
    for name, value in values.items():
        fields[INDEX[name]] = value
    return fields


def event_bytes(records: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = [(i, _row(rng, "100200300", i)) for i in range(records)]
    return encode(
        record_change_event(
            subject_id="100200300",
            rows=rows,
            file_digest=DIGEST,
            source_agency="CA-DOJ-BULK",
            emitted_at="2024-05-01T16:30:05Z",
        )
    )


def best_of(run: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best mean seconds per call over ``repeat`` rounds of ``number`` calls (the least disturbed round)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def main() -> None:
    print(f"{'records':>7} {'bytes':>7} {'decode µs':>10} {'µs/record':>10} {'records/s (1 core)':>19}")
    for records in (1, 20, 40, 1000):
        raw = event_bytes(records)
        seconds = best_of(lambda raw=raw: decode_record_change(raw), max(20, 20_000 // records))
        print(
            f"{records:>7} {len(raw):>7} {seconds * 1e6:>10.1f} {seconds * 1e6 / records:>10.2f} "
            f"{records / seconds:>19,.0f}"
        )
    import orjson

    raw = event_bytes(20)
    check = validator("record-change.v1").is_valid
    seconds = best_of(lambda: check(orjson.loads(raw)), 20, repeat=3)
    print(
        f"jsonschema (Draft202012Validator, compiled once), 20 records: {seconds * 1e6:,.0f} µs/event, "
        f"{seconds * 1e6 / 20:,.0f} µs/record"
    )


if __name__ == "__main__":
    main()
