"""``clearance worker --processes W``: W workers on one machine, one per core, under one supervisor.

A Python worker uses one core (the GIL), so a machine with W cores runs W workers. Each child is an ordinary
``clearance worker`` in the same consumer group — Kafka splits the input's partitions among them, and a child's
partitions move to the others when it stops — with its own state directory (two processes' RocksDB files must not
mix) and its own ports: metrics ``base + i``, live explain ``base + i`` when it is on. The supervisor restarts a
child that exits unasked (a crash, or the worker's own watchdog asking for a restart) after a growing delay,
and gives up when children fail too often in a short time — it then stops the others and exits non-zero, because
a crash loop is for a person (or the outer supervisor: systemd, k8s) to see, not to hide. SIGTERM or SIGINT stops
every child (SIGTERM, then SIGKILL after a grace period) and the supervisor exits 0.

The decisions (ports, directories, restart budget) are plain functions and a small class; :func:`supervise` is the
loop around them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 30.0


def child_env(base: Mapping[str, str], settings: Settings, index: int) -> dict[str, str]:
    """The environment of child ``index`` (0-based): the parent's, with the child's own state directory, metrics
    port and explain port. Everything else (topics, app id, policies…) is shared, so the children form one group."""
    env = dict(base)
    env["CLEARANCE_DATA_DIR"] = str(child_data_dir(settings.data_dir, index))
    env["CLEARANCE_METRICS_PORT"] = str(settings.metrics_port + index if settings.metrics_port else 0)
    if settings.explain_port:
        env["CLEARANCE_EXPLAIN_PORT"] = str(settings.explain_port + index)
    return env


def child_data_dir(data_dir: Path, index: int) -> Path:
    """``<data dir>/processes/<i>``: stable per index, so a restarted child reopens its own RocksDB state."""
    return data_dir / "processes" / str(index)


def backoff_seconds(failures: int) -> float:
    """Delay before restarting a child that has failed ``failures`` times in the current window: 1, 2, 4 … 30 s."""
    return float(min(30, 2 ** max(0, failures - 1)))


@dataclass
class RestartBudget:
    """At most ``limit`` failed exits in ``window`` seconds, across all children; past it, give up."""

    limit: int = 5
    window: float = 300.0
    failures: list[float] = field(default_factory=list)

    def fail(self, now: float) -> bool:
        """Note a failed exit at ``now``; True when a restart is still allowed."""
        self.failures = [t for t in self.failures if now - t < self.window]
        self.failures.append(now)
        return len(self.failures) <= self.limit

    @property
    def recent(self) -> int:
        return len(self.failures)


@dataclass
class _Child:
    index: int
    proc: Any  # subprocess.Popen[bytes]
    restart_at: float | None = None  # when a failed child is due to start again


class Supervisor:
    """Starts, watches and stops the children; :meth:`run` returns the supervisor's exit code."""

    def __init__(
        self,
        command: Sequence[str],
        envs: Sequence[Mapping[str, str]],
        *,
        budget: RestartBudget | None = None,
        popen: Callable[..., Any] = subprocess.Popen,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.command = list(command)
        self.envs = list(envs)
        self.budget = budget or RestartBudget()
        self.popen = popen
        self.clock = clock
        self.sleep = sleep
        self.children: list[_Child] = []
        self.stopping = False

    def _start(self, index: int) -> Any:
        log.info("starting worker process %d of %d", index + 1, len(self.envs))
        return self.popen(self.command, env=dict(self.envs[index]), stdin=subprocess.DEVNULL)

    def request_stop(self, *_: Any) -> None:
        self.stopping = True

    def step(self) -> int | None:
        """One look at every child; an exit code when the supervisor is done."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.proc = self._start(child.index)
                    child.restart_at = None
                continue
            code = child.proc.poll()
            if code is None:
                continue
            # any exit the supervisor did not ask for (0 too: someone stopped that one child) is restarted, so W
            # workers keep running; only the budget ends the loop
            if not self.budget.fail(now):
                log.error("worker process %d exited with %d; %d failed exits in %.0f s: giving up", child.index + 1,
                          code, self.budget.recent, self.budget.window)
                return self.stop(1)
            delay = backoff_seconds(self.budget.recent)
            log.warning("worker process %d exited with %d: restarting it in %.0f s", child.index + 1, code, delay)
            child.restart_at = now + delay
        return None

    def stop(self, code: int) -> int:
        """Stop every running child: SIGTERM, then SIGKILL after :data:`STOP_GRACE_SECONDS`."""
        running = [c.proc for c in self.children if c.restart_at is None and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = self.clock() + STOP_GRACE_SECONDS
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return code

    def run(self) -> int:
        self.children = [_Child(i, self._start(i)) for i in range(len(self.envs))]
        while True:
            if self.stopping:
                return self.stop(0)
            code = self.step()
            if code is not None:
                return code
            self.sleep(POLL_SECONDS)


def worker_command(policies: Path, loglevel: str, extra: Sequence[str] = ()) -> list[str]:
    """The child's command line: the same ``clearance worker`` without ``--processes``."""
    return [sys.executable, "-m", "streams", "worker", "--policies", str(policies), "--loglevel", loglevel, *extra]


def supervise(settings: Settings, processes: int, command: Sequence[str]) -> int:
    """Run ``processes`` children of ``command`` until stopped; the exit code of the whole."""
    if not logging.getLogger().handlers:  # the children log through faust; the supervisor's own lines say who
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [supervisor %(process)d] %(message)s")
    envs = [child_env(os.environ, settings, i) for i in range(processes)]
    for i in range(processes):
        child_data_dir(settings.data_dir, i).mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(command, envs)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    ports = ", ".join(str(settings.metrics_port + i) for i in range(processes)) if settings.metrics_port else "off"
    print(f"clearance worker: {processes} processes (metrics ports {ports}; state under "
          f"{settings.data_dir / 'processes'})", file=sys.stderr)
    return supervisor.run()
