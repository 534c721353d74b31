"""The reader and the writer against Go's own ``encoding/csv`` (tests/data/go_csv_oracle.go).

Thousands of random files and records, biased towards the hard cases (quotes, ``\\r``, blank lines, headers,
white space, ``\\.``), are answered by the Go oracle and by this package; every answer must be identical,
error messages included. Needs a Go toolchain (the project's machines have one); skipped without it.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from streams.doj import reader
from streams.errors import DojParseError
from streams.gocompat.gocsv import GoCsvWriter, encode_record

ORACLE_SOURCE = Path(__file__).resolve().parent.parent / "data" / "go_csv_oracle.go"
PIECES = ["a", "b", ",", '"', "\r", "\n", " ", "\t", "\\", ".", "\x85", "\u3000", "é", "\x1c", "\r\n", '""']


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        pytest.skip("no Go toolchain to build the encoding/csv oracle")
    binary = tmp_path_factory.mktemp("oracle") / "oracle"
    built = subprocess.run([go, "build", "-o", str(binary), str(ORACLE_SOURCE)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"the Go toolchain could not build the oracle: {built.stderr.strip()[:200]}")
    return binary


def _ask(binary: Path, args: list[str], questions: list[object]) -> list[object]:
    payload = "".join(json.dumps(question) + "\n" for question in questions).encode()
    out = subprocess.run([str(binary), *args], input=payload, capture_output=True, check=True).stdout
    return [json.loads(item) for item in out.decode().split("\n") if item]


def _text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, size)))


def test_writer_matches_go(oracle: Path) -> None:
    rng = random.Random(20190821)
    records = [[_text(rng, 4) for _ in range(rng.randint(1, 6))] for _ in range(5000)]
    records += [[""], ["\\."], [" x", "\\."], ["", ""]]
    expected = _ask(oracle, ["write"], list(records))
    for record, want in zip(records, expected, strict=True):
        out = io.StringIO()
        with GoCsvWriter(out) as writer:
            writer.writerow(record)
        assert (encode_record(record) + "\n", out.getvalue()) == (want, want), record


def _file(rng: random.Random) -> str:
    if rng.random() < 0.5:
        text = _text(rng, 30)
    else:  # mostly well-formed files with three fields, then damaged a little
        rows = [[_text(rng, 3) for _ in range(3)] for _ in range(rng.randint(0, 4))]
        text = "".join(encode_record(row) + rng.choice(["\n", "\r\n"]) for row in rows)
        if rng.random() < 0.3:
            text = text.rstrip("\n")
        if rng.random() < 0.3:
            text = "RECORD_ID,x" + rng.choice(["\n", "\r\n", ",,,\n"]) + text
        if text and rng.random() < 0.3:
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(PIECES) + text[at:]
    return text


def _read(text: str) -> dict[str, object]:
    try:
        rows = list(reader._rows(io.StringIO(text, newline="\n"), None, 3))
    except DojParseError as exc:
        return {"error": str(exc)}
    return {"rows": rows}


def test_reader_matches_go(oracle: Path) -> None:
    rng = random.Random(1135711358)
    files = [_file(rng) for _ in range(5000)]
    expected = _ask(oracle, ["read", "3"], list(files))
    for text, want in zip(files, expected, strict=True):
        if "rows" in want and want["rows"] is None:
            want = {"rows": []}
        assert _read(text) == want, text
