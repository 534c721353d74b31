"""The local broker's lifecycle: start, stop and status, through the Python API and ``clearance broker``."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_kafka import BROKER_START_TIMEOUT_S, free_port

from streams.kafka.broker import LocalBroker, run_cli
from streams.kafka.errors import KafkaSetupError


def _cli(action: str) -> int:
    return run_cli(argparse.Namespace(action=action))


def _use(monkeypatch: pytest.MonkeyPatch, data_dir: Path, bootstrap: str) -> None:
    monkeypatch.setenv("CLEARANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CLEARANCE_KAFKA_BOOTSTRAP", bootstrap)


@pytest.fixture
def spare_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A second broker's coordinates (not started); stopped afterwards whatever the test did."""
    broker = LocalBroker(tmp_path / "var", f"127.0.0.1:{free_port()}")
    yield broker
    broker.stop()


def test_a_non_loopback_bootstrap_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(monkeypatch, tmp_path, "kafka-1.example.org:9092,kafka-2.example.org:9092")
    assert _cli("start") == 0
    assert _cli("stop") == 0
    assert capsys.readouterr().err.count("is an existing cluster") == 2
    assert not (tmp_path / "kafka").exists()
    with pytest.raises(KafkaSetupError, match="not a single loopback"):
        LocalBroker(tmp_path, "kafka-1.example.org:9092")


def test_status_of_a_broker_never_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broker = LocalBroker(tmp_path, "127.0.0.1:19999")
    assert not broker.is_running()
    assert broker.status().pid is None
    assert broker.stop() is False


def test_a_stale_pid_file_never_signals_an_unrelated_process(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path, "127.0.0.1:19999")
    broker.root.mkdir(parents=True)
    broker.pid_file.write_text(f"{os.getpid()}\n")  # alive, but it is this test run, not a broker
    assert not broker.is_running()
    assert broker.stop() is False
    assert not broker.pid_file.exists()


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path, "127.0.0.1:19999")
    broker.root.mkdir(parents=True)
    # Looks like our broker to the pid check (same argv markers) but shrugs off SIGTERM.
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); "
            "time.sleep(60)",
            "kafka.Kafka",
            str(broker.properties),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert stubborn.stdout is not None
        stubborn.stdout.readline()  # the SIGTERM handler is in place
        broker.pid_file.write_text(f"{stubborn.pid}\n")
        assert broker.is_running()
        started = time.monotonic()
        assert broker.stop(timeout=0.5) is True
        assert time.monotonic() - started >= 0.5  # SIGTERM was ignored; only SIGKILL ended it
        assert not Path(f"/proc/{stubborn.pid}").exists()  # gone and reaped (stop collected its status)
        assert not broker.pid_file.exists()
    finally:
        stubborn.kill()
        stubborn.wait()


def test_a_port_taken_by_another_program_is_reported(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = LocalBroker(tmp_path, f"127.0.0.1:{port}")
        with pytest.raises(KafkaSetupError, match=f"127.0.0.1:{port} is already in use by another program"):
            broker.start()
    assert not broker.pid_file.exists()


def test_missing_java_stops_start_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KafkaSetupError, match="`java` not found"):
        LocalBroker(tmp_path, f"127.0.0.1:{free_port()}").start()


@pytest.mark.kafka
def test_session_broker_reports_running(kafka_broker: LocalBroker | None, kafka_bootstrap: str) -> None:
    if kafka_broker is None:
        pytest.skip("external cluster")
    status = kafka_broker.status()
    assert status.running
    assert status.bootstrap == kafka_bootstrap
    assert status.pid == int(kafka_broker.pid_file.read_text())
    assert (kafka_broker.data / "meta.properties").exists()
    assert (kafka_broker.logs / "server.log").stat().st_size > 0  # the logging binding works


@pytest.mark.kafka
def test_cli_on_the_running_session_broker_is_idempotent(
    kafka_broker: LocalBroker | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if kafka_broker is None:
        pytest.skip("external cluster")
    _use(monkeypatch, kafka_broker.root.parent, kafka_broker.bootstrap)
    pid = kafka_broker.status().pid
    assert _cli("status") == 0
    assert f"running  pid={pid}  bootstrap={kafka_broker.bootstrap}" in capsys.readouterr().out
    assert _cli("start") == 0
    assert f"already running on {kafka_broker.bootstrap} (pid {pid})" in capsys.readouterr().err
    assert kafka_broker.status().pid == pid

    _use(monkeypatch, kafka_broker.root.parent, f"127.0.0.1:{free_port()}")
    assert _cli("start") == 1
    assert f"is running on {kafka_broker.bootstrap}" in capsys.readouterr().err
    assert kafka_broker.status().pid == pid


@pytest.mark.kafka
def test_cli_lifecycle_of_a_second_broker(
    kafka_broker: LocalBroker | None,
    spare_broker: LocalBroker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """start → start → status → stop → stop → status → start again on the same (already formatted) storage."""
    _use(monkeypatch, spare_broker.root.parent, spare_broker.bootstrap)
    assert _cli("start") == 0
    assert f"broker started on {spare_broker.bootstrap}" in capsys.readouterr().err
    first_pid = spare_broker.status().pid
    cluster_id = spare_broker.cluster_id_file.read_text()
    assert first_pid is not None

    assert _cli("start") == 0
    assert "already running" in capsys.readouterr().err
    assert _cli("status") == 0
    assert f"running  pid={first_pid}" in capsys.readouterr().out

    assert _cli("stop") == 0
    assert "broker stopped" in capsys.readouterr().err
    assert not spare_broker.is_running()
    assert (spare_broker.data / ".kafka_cleanshutdown").exists()  # SIGTERM gave Kafka a controlled shutdown
    assert _cli("stop") == 0
    assert "broker not running" in capsys.readouterr().err
    assert _cli("status") == 3
    assert capsys.readouterr().out.startswith("stopped  bootstrap=")

    assert _cli("start") == 0
    assert spare_broker.cluster_id_file.read_text() == cluster_id
    assert spare_broker.status().pid not in (None, first_pid)


@pytest.mark.kafka
def test_a_broker_that_dies_while_starting_shows_its_log(
    kafka_broker: LocalBroker | None, spare_broker: LocalBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_HEAP_OPTS", "-Xmx1k")  # the JVM refuses to start with such a heap
    with pytest.raises(KafkaSetupError, match=r"(?s)exited with status \d+ while starting.*heap"):
        spare_broker.start(timeout=BROKER_START_TIMEOUT_S)
    assert not spare_broker.is_running()
    assert not spare_broker.pid_file.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_die_with_parent_ends_the_child_when_its_starter_exits() -> None:
    """What keeps a killed test run from leaving its session broker behind (fixture: die_with_parent=True)."""
    starter = (  # launched like the broker: own session, no pipe shared with the starter
        "import subprocess; from streams.kafka.broker import _die_with_parent; "
        "print(subprocess.Popen(['sleep', '60'], start_new_session=True, stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent).pid)"
    )
    done = subprocess.run([sys.executable, "-c", starter], capture_output=True, text=True, check=True)
    child = Path(f"/proc/{int(done.stdout)}/stat")
    deadline = time.monotonic() + 10
    while child.exists() and child.read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the orphaned child is still running"
        time.sleep(0.05)
