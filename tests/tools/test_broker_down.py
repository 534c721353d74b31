"""Every Kafka-facing command says in one line that no broker answers (a closed port on 127.0.0.1), never a
traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [
    ["export", "--output", "out.jsonl"],
    ["report"],
    ["report", "--html", "report.html"],
    ["topics", "list"],
    ["topics", "create"],
])
def test_no_traceback_when_the_broker_is_down(command: list[str], tmp_path: Path) -> None:
    port = closed_port()
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"}
    done = subprocess.run([sys.executable, "-m", "streams", *command], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"no Kafka broker answers at 127.0.0.1:{port}" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing half-written
