"""The project's own single-node Apache Kafka broker (KRaft, loopback only), run as a detached JVM.

Layout under ``<data dir>/kafka``: ``data/`` (log.dirs, formatted once), ``logs/`` (``server.log`` from log4j2
and ``kafkaServer.out`` with the JVM's own output), ``server.properties`` (rendered on every start),
``cluster.id`` (chosen once, so re-formatting is never needed) and ``broker.pid``. The pid is trusted only
while that process's command line still names this data directory's ``server.properties``, so a stale pid file
after a reboot or a recycled pid can never make ``stop`` signal an unrelated program.

``clearance broker start|stop|status`` and ``python -m streams.kafka.broker fetch`` are thin wrappers around
:class:`LocalBroker`, which the test fixture and the demo use directly.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.kafka import jars
from streams.kafka.broker_config import (
    Endpoint,
    ListenerSecurity,
    advertised_bootstrap,
    broker_jvm_options,
    local_endpoint,
    new_cluster_id,
    read_properties,
    render_properties,
)
from streams.kafka.errors import KafkaSetupError
from streams.settings import Settings

DEFAULT_START_TIMEOUT_S = 90.0
DEFAULT_STOP_TIMEOUT_S = 30.0
FORMAT_TIMEOUT_S = 120.0
_TAIL_LINES = 25
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    running: bool
    bootstrap: str
    pid: int | None
    data_dir: Path

    def describe(self) -> str:
        state = f"running  pid={self.pid}" if self.running else "stopped"
        return f"{state}  bootstrap={self.bootstrap}  data={self.data_dir}"


def _run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from synchronous code, even when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # like Kafka: TIME_WAIT leftovers do not count
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port_near(host: str, port: int) -> int:
    """The first free port after ``port`` (9093 for the default 9092), else any port the kernel offers."""
    for candidate in range(port + 1, min(port + 11, 65536)):
        if _port_free(host, candidate):
            return candidate
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = _TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log yet)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty)"


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM the JVM if the process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class LocalBroker:
    """One broker per data directory, serving ``bootstrap`` (a single loopback ``host:port``).

    ``die_with_parent`` (Linux) ties the JVM's life to the starting process: the test fixture uses it so a
    killed test run cannot leave a broker behind; the CLI leaves it off because its broker must outlive the
    command. ``security`` adds TLS and SASL_SSL listeners (on the same loopback host) for the clients' tests.
    """

    def __init__(
        self,
        data_dir: Path,
        bootstrap: str,
        *,
        home: Path = jars.DEFAULT_HOME,
        die_with_parent: bool = False,
        security: ListenerSecurity | None = None,
    ) -> None:
        endpoint = local_endpoint(bootstrap)
        if endpoint is None:
            raise KafkaSetupError(
                f"{bootstrap!r} is not a single loopback host:port; the local broker only serves one"
            )
        self.endpoint: Endpoint = endpoint
        self.bootstrap = str(endpoint)
        self.home = home
        self.die_with_parent = die_with_parent
        self.security = security
        self.root = Path(data_dir).resolve() / "kafka"
        self.data = self.root / "data"
        self.logs = self.root / "logs"
        self.properties = self.root / "server.properties"
        self.pid_file = self.root / "broker.pid"
        self.cluster_id_file = self.root / "cluster.id"
        self.console_log = self.logs / "kafkaServer.out"
        self._process: subprocess.Popen[bytes] | None = None

    # -- queries --

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _is_our_broker(self, pid: int) -> bool:
        """Alive, not a zombie, and (where /proc exists) running kafka.Kafka with our properties file."""
        if self._process is not None and self._process.pid == pid and self._process.poll() is not None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False  # someone else's process now holds the pid
        proc = Path(f"/proc/{pid}")
        if not proc.exists():
            return True  # no procfs: the signal check is all we have
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        if state == "Z":
            self._reap(pid)
            return False
        return b"kafka.Kafka" in argv and str(self.properties).encode() in argv

    def _reap(self, pid: int) -> None:
        """Collect the exit status of a broker this process started, so it does not linger as a zombie."""
        if self._process is not None and self._process.pid == pid:
            self._process.poll()
            return
        with contextlib.suppress(ChildProcessError):  # not our child: init reaps it
            os.waitpid(pid, os.WNOHANG)

    def _running_pid(self) -> int | None:
        pid = self._recorded_pid()
        return pid if pid is not None and self._is_our_broker(pid) else None

    def is_running(self) -> bool:
        return self._running_pid() is not None

    def listener_bootstrap(self, protocol: str) -> str:
        """``host:port`` of the extra ``SSL`` or ``SASL_SSL`` listener (KafkaSetupError when there is none)."""
        ports = dict(self.security.listeners()) if self.security is not None else {}
        if protocol not in ports:
            raise KafkaSetupError(f"this broker has no {protocol} listener")
        return f"{self.endpoint.listener_host}:{ports[protocol]}"

    def running_bootstrap(self) -> str:
        """The bootstrap the last start rendered (what a running broker actually serves)."""
        try:
            found = advertised_bootstrap(read_properties(self.properties.read_text()))
        except FileNotFoundError:
            found = None
        return found or self.bootstrap

    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        bootstrap = self.running_bootstrap() if pid is not None else self.bootstrap
        return BrokerStatus(running=pid is not None, bootstrap=bootstrap, pid=pid, data_dir=self.root.parent)

    # -- commands --

    def fetch(self, report: Callable[[str], None] = lambda _: None) -> bool:
        """Fetch the jars unless ``deploy/kafka/lib`` already matches the pom; returns whether Maven ran."""
        return jars.fetch_jars(self.home, report=report)

    def start(
        self, timeout: float = DEFAULT_START_TIMEOUT_S, report: Callable[[str], None] = lambda _: None
    ) -> bool:
        """Start the broker and wait until it answers metadata requests; ``False`` if it was already running.

        ``timeout`` covers the JVM's start-up, not the one-off jar fetch.
        """
        pid = self._running_pid()
        if pid is not None:
            serving = self.running_bootstrap()
            if serving != self.bootstrap:
                raise KafkaSetupError(
                    f"the broker of {self.root.parent} (pid {pid}) is running on {serving}, "
                    f"not {self.bootstrap}: stop it before changing CLEARANCE_KAFKA_BOOTSTRAP"
                )
            return False
        java = jars.java_executable()
        host, port = self.endpoint.bind_host, self.endpoint.port
        if not _port_free(host, port):
            raise KafkaSetupError(
                f"{self.bootstrap} is already in use by another program (not the broker of "
                f"{self.root.parent}); stop it or point CLEARANCE_KAFKA_BOOTSTRAP at a free port"
            )
        self.fetch(report)
        for folder in (self.data, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        template = (self.home / "server.properties.template").read_text()
        controller_port = _free_port_near(host, port)
        self.properties.write_text(
            render_properties(template, self.endpoint, controller_port, self.data, self.security)
        )
        self._format_once(java)
        self._launch(java)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return True

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT_S) -> bool:
        """SIGTERM (Kafka's controlled shutdown), SIGKILL after ``timeout``; ``False`` if none ran."""
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):  # it may exit on its own between check and signal
            os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 10.0)
        self.pid_file.unlink(missing_ok=True)
        self._process = None
        return True

    # -- steps --

    def _cluster_id(self) -> str:
        try:
            return self.cluster_id_file.read_text().strip()
        except FileNotFoundError:
            cluster_id = new_cluster_id()
            self.cluster_id_file.write_text(cluster_id + "\n")
            return cluster_id

    def _format_once(self, java: str) -> None:
        """KRaft refuses unformatted storage; format it on first start only (``-g`` also tolerates a race)."""
        if (self.data / "meta.properties").exists():
            return
        args = ["format", "-g", "-t", self._cluster_id(), "-c", str(self.properties)]
        if self.security is not None:
            args += self.security.format_arguments()
        command = jars.java_argv("kafka.tools.StorageTool", args, home=self.home, java=java)
        done = subprocess.run(command, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S, check=False)
        if done.returncode != 0:
            output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-_TAIL_LINES:])
            raise KafkaSetupError(f"formatting {self.data} failed (exit {done.returncode}):\n{output}")

    def _launch(self, java: str) -> None:
        options = broker_jvm_options(os.environ, self.logs, self.home / "log4j2.xml")
        command = jars.java_argv(
            "kafka.Kafka", [str(self.properties)], home=self.home, jvm_options=options, java=java
        )
        # A file, never a pipe: nobody drains the JVM's output once this process exits.
        with self.console_log.open("wb") as console:
            self._process = subprocess.Popen(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the starting terminal must not reach the broker
                preexec_fn=_die_with_parent if self.die_with_parent and sys.platform == "linux" else None,
            )
        self.pid_file.write_text(f"{self._process.pid}\n")

    def _wait_ready(self, timeout: float) -> None:
        from streams.kafka.clients import broker_answers

        assert self._process is not None
        settings = Settings(bootstrap=self.bootstrap, security_protocol="PLAINTEXT")
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise KafkaSetupError(
                    f"the broker exited with status {code} while starting; end of {self.console_log}:\n"
                    f"{_tail(self.console_log)}\n(full log: {self.logs / 'server.log'})"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KafkaSetupError(
                    f"the broker did not answer on {self.bootstrap} within {timeout:g} s; last lines of "
                    f"{self.logs / 'server.log'}:\n{_tail(self.logs / 'server.log')}"
                )
            if _run_coroutine(broker_answers(settings, timeout=min(2.0, remaining))):
                return
            time.sleep(0.1)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._is_our_broker(pid):
                self._settle(pid)
                return True
            time.sleep(0.05)
        return not self._is_our_broker(pid)

    def _settle(self, pid: int, timeout: float = 2.0) -> None:
        """A dying process drops its command line before it becomes a zombie; wait for that and reap it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                return
            if state == "Z":
                self._reap(pid)
                return
            time.sleep(0.02)


# -- command line --


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _external_cluster_status(settings: Settings) -> int:
    from streams.kafka.clients import broker_answers

    reachable = _run_coroutine(broker_answers(settings, timeout=5.0))
    print(f"external  bootstrap={settings.bootstrap}  {'reachable' if reachable else 'unreachable'}")
    return 0 if reachable else 3


def run_cli(args: argparse.Namespace) -> int:
    """``clearance broker start|stop|status``; ``status`` exits 0 if running, 3 if stopped (LSB)."""
    settings = Settings()
    if local_endpoint(settings.bootstrap) is None:
        if args.action == "status":
            return _external_cluster_status(settings)
        _say(
            f"CLEARANCE_KAFKA_BOOTSTRAP={settings.bootstrap} is an existing cluster: "
            f"`clearance broker {args.action}` does nothing"
        )
        return 0
    broker = LocalBroker(settings.data_dir, settings.bootstrap)
    try:
        if args.action == "start":
            started = broker.start(report=_say)
            pid = broker.status().pid
            _say(f"broker {'started' if started else 'already running'} on {broker.bootstrap} (pid {pid})")
        elif args.action == "stop":
            _say("broker stopped" if broker.stop() else "broker not running")
        else:
            status = broker.status()
            print(status.describe())
            return 0 if status.running else 3
    except KafkaSetupError as exc:
        _say(f"error: {exc}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m streams.kafka.broker fetch`` (``scripts/setup.sh --kafka``) and the CLI's actions."""
    parser = argparse.ArgumentParser(
        prog="python -m streams.kafka.broker", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=("fetch", "start", "stop", "status"))
    parser.add_argument(
        "--force", action="store_true", help="fetch: re-run Maven even if the jars are current"
    )
    args = parser.parse_args(argv)
    if args.action != "fetch":
        return run_cli(args)
    try:
        fetched = jars.fetch_jars(force=args.force, report=_say)
    except KafkaSetupError as exc:
        _say(f"error: {exc}")
        return 1
    if not fetched:
        _say(f"Kafka jars are current in {jars.lib_dir()}")
    return 0


__all__ = ["BrokerStatus", "LocalBroker", "main", "run_cli"]

if __name__ == "__main__":
    raise SystemExit(main())
