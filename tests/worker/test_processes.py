"""``clearance worker --processes W``: the supervisor's decisions (ports, directories, restarts, budget, stop) with
a recording ``popen``, and two real worker processes under it on the real broker (one killed -9 and restarted)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures_kafka import wait_until
from fixtures_worker import ROOT, classify_reference, exported, metrics_text, statewide_policies

from streams.cli import main as cli_main
from streams.kafka.topics import create_topics
from streams.settings import Settings
from streams.tools.replay import replay
from streams.worker.processes import (
    RestartBudget,
    Supervisor,
    backoff_seconds,
    child_data_dir,
    child_env,
    worker_command,
)


class FakeProc:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.code: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.code = 0

    def wait(self, timeout: float | None = None) -> int:
        assert self.code is not None
        return self.code

    def kill(self) -> None:
        self.code = -9


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _supervisor(processes: int = 2, budget: RestartBudget | None = None) -> tuple[Supervisor, list[FakeProc], Clock]:
    started: list[FakeProc] = []
    clock = Clock()

    def popen(command: list[str], env: dict[str, str], **_: Any) -> FakeProc:
        proc = FakeProc(env)
        started.append(proc)
        return proc

    settings = Settings(bootstrap="127.0.0.1:1", data_dir=Path("/data"), metrics_port=9108, explain_port=9201)
    envs = [child_env({"KEEP": "1"}, settings, i) for i in range(processes)]
    return Supervisor(["worker"], envs, budget=budget, popen=popen, clock=clock, sleep=lambda _: None), started, clock


def test_each_child_has_its_own_state_directory_and_ports() -> None:
    settings = Settings(bootstrap="127.0.0.1:1", data_dir=Path("/data"), metrics_port=9108, explain_port=9201)
    envs = [child_env({"KEEP": "1", "CLEARANCE_APP_ID": "app"}, settings, i) for i in range(2)]
    assert [e["CLEARANCE_DATA_DIR"] for e in envs] == ["/data/processes/0", "/data/processes/1"]
    assert [e["CLEARANCE_METRICS_PORT"] for e in envs] == ["9108", "9109"]
    assert [e["CLEARANCE_EXPLAIN_PORT"] for e in envs] == ["9201", "9202"]
    assert all(e["KEEP"] == "1" and e["CLEARANCE_APP_ID"] == "app" for e in envs)  # one consumer group
    off = child_env({}, Settings(bootstrap="127.0.0.1:1", explain_port=0), 1)
    assert "CLEARANCE_EXPLAIN_PORT" not in off
    assert child_data_dir(Path("/d"), 3) == Path("/d/processes/3")


def test_the_child_command_is_the_same_worker_without_processes() -> None:
    command = worker_command(Path("p.json"), "info")
    assert command[:3] == [sys.executable, "-m", "streams"] and "--processes" not in command
    assert command[3:] == ["worker", "--policies", "p.json", "--loglevel", "info"]


def test_backoff_grows_to_thirty_seconds() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_failed_child_is_restarted_after_its_backoff_and_the_other_keeps_running() -> None:
    sup, started, clock = _supervisor()
    from streams.worker.processes import _Child

    sup.children = [_Child(i, sup._start(i)) for i in range(2)]
    started[1].code = 3  # e.g. the watchdog's exit
    assert sup.step() is None
    assert len(started) == 2  # not yet: backoff
    clock.now = 0.5
    assert sup.step() is None and len(started) == 2
    clock.now = 1.0
    assert sup.step() is None
    assert len(started) == 3 and started[2].env["CLEARANCE_DATA_DIR"].endswith("processes/1")
    assert started[0].signals == []


def test_too_many_failures_stop_the_others_and_exit_non_zero() -> None:
    sup, started, clock = _supervisor(budget=RestartBudget(limit=2, window=300))
    from streams.worker.processes import _Child

    sup.children = [_Child(i, sup._start(i)) for i in range(2)]
    for failure in (1, 2):  # within the budget: restarted after 1 s, then 2 s
        started[-1].code = 1
        assert sup.step() is None
        clock.now += backoff_seconds(failure)
        assert sup.step() is None
        assert len(started) == 2 + failure
    started[-1].code = 1  # the third failure in the window
    assert sup.step() == 1
    assert started[0].signals == [signal.SIGTERM]  # the healthy one is stopped too


def test_failures_outside_the_window_do_not_count() -> None:
    budget = RestartBudget(limit=2, window=60)
    assert budget.fail(0) and budget.fail(10)
    assert not budget.fail(20)
    assert budget.fail(100) and budget.recent == 1


def test_a_stop_request_stops_every_child_with_sigterm() -> None:
    sup, started, _ = _supervisor()
    sup.request_stop()
    assert sup.run() == 0
    assert [p.signals for p in started] == [[signal.SIGTERM], [signal.SIGTERM]]


@pytest.mark.kafka
def test_more_processes_than_partitions_is_refused(kafka_settings: Settings, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(create_topics(kafka_settings, 2))
    policies = tmp_path / "p.json"
    policies.write_text('{"counties": {}}')
    monkeypatch.setenv("CLEARANCE_KAFKA_BOOTSTRAP", kafka_settings.bootstrap)
    monkeypatch.setenv("CLEARANCE_TOPIC_PREFIX", kafka_settings.topic_prefix)
    assert cli_main(["worker", "--policies", str(policies), "--processes", "3"]) == 2
    err = capsys.readouterr().err
    assert "--processes 3 is more than the input's 2 partitions" in err and err[-1] == "\n"


def _assigned(port: int) -> int:
    """Input partitions this child reports a lag for (it holds them)."""
    try:
        return sum(1 for line in metrics_text(port).splitlines() if line.startswith("clearance_consumer_lag{"))
    except OSError:
        return -1


def _lag_zero(port: int) -> bool:
    try:
        lags = [float(line.rsplit(" ", 1)[1]) for line in metrics_text(port).splitlines()
                if line.startswith("clearance_consumer_lag{")]
    except OSError:
        return False
    return bool(lags) and sum(lags) == 0


@pytest.mark.kafka
def test_two_processes_share_the_partitions_and_a_killed_one_is_restarted(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    import json

    asyncio.run(create_topics(kafka_settings, 4))
    doj = tmp_path / "doj.csv"
    assert cli_main(["generate-doj", "--people", "400", "--seed", "5", "--output", str(doj)]) == 0
    doc = statewide_policies()
    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps(doc))
    base = kafka_settings.metrics_port
    from fixtures_kafka import free_port

    second = free_port()
    while second == base + 1:
        second = free_port()
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": kafka_settings.bootstrap,
           "CLEARANCE_TOPIC_PREFIX": kafka_settings.topic_prefix, "CLEARANCE_DATA_DIR": str(tmp_path / "var"),
           "CLEARANCE_STORE": "rocksdb://", "CLEARANCE_METRICS_PORT": str(base), "PYTHONPATH": str(ROOT)}
    log = tmp_path / "supervisor.log"
    with log.open("ab") as out:
        sup = subprocess.Popen([sys.executable, "-m", "streams", "worker", "--policies", str(policies),
                                "--loglevel", "info", "--processes", "2"], env=env, stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    try:
        ports = (base, base + 1)
        wait_until(lambda: all(_assigned(p) == 0 for p in ports), 120, "both processes to serve /metrics", log)
        assert (tmp_path / "var" / "processes" / "0").is_dir() and (tmp_path / "var" / "processes" / "1").is_dir()
        asyncio.run(replay(kafka_settings, doj, progress=False))
        # each holds input partitions (a lag series per partition it read) and has consumed them to the end
        wait_until(lambda: all(_assigned(p) > 0 and _lag_zero(p) for p in ports), 180, "lag 0 on both", log)
        # kill -9 one child: the supervisor starts it again on its port, and it takes partitions back
        children = subprocess.run(["pgrep", "-P", str(sup.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        os.kill(int(children[1]), signal.SIGKILL)
        wait_until(lambda: len(subprocess.run(["pgrep", "-P", str(sup.pid)], capture_output=True,
                                         text=True).stdout.split()) == 2
              and set(subprocess.run(["pgrep", "-P", str(sup.pid)], capture_output=True,
                                     text=True).stdout.split()) != set(children), 60, "a restarted child", log)
        wait_until(lambda: all(_assigned(p) > 0 for p in ports) and all(_lag_zero(p) for p in ports), 180,
              "both processes holding partitions again", log)
        assert "restarting it in" in log.read_text(errors="replace")
        expected = classify_reference(doj, doc, tmp_path)
        assert exported(kafka_settings) == expected
    finally:
        os.killpg(sup.pid, signal.SIGTERM)
        try:
            assert sup.wait(60) == 0
        except subprocess.TimeoutExpired:
            os.killpg(sup.pid, signal.SIGKILL)
            raise
