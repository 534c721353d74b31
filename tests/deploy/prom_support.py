"""A real Prometheus for tests: the project's config at 1 s intervals, the rules as shipped, worker targets
templated into targets/workers.yml. Shared by the scrape tests of a bare metrics server and of a real worker."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DEADLINE_SECONDS = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for(what: str, probe: Callable[[], Any], log: Path) -> Any:
    """Poll ``probe`` until it returns something truthy; bounded, so a broken setup fails, never hangs."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            result = probe()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; prometheus log:\n{log.read_text(errors='replace')[-3000:]}")


class Prometheus:
    """HTTP API of the Prometheus under test."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = get_json(f"{self.base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def api(self, path: str) -> Any:
        return get_json(f"{self.base}/api/v1/{path}")["data"]


@contextmanager
def running_prometheus(prometheus_binary: str, metrics_port: int, tmp_path: Path) -> Iterator[tuple[Prometheus, Path]]:
    """Prometheus scraping ``127.0.0.1:metrics_port`` as the only clearance-worker target; stopped on exit."""
    web_port = free_port()
    config_dir = tmp_path / "prometheus"
    shutil.copytree(PROM / "rules", config_dir / "rules")
    config = yaml.safe_load((PROM / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"] |= {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    for job in config["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{web_port}"]}]
    (config_dir / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (config_dir / "targets").mkdir()
    targets = [{"targets": [f"127.0.0.1:{metrics_port}"], "labels": {"env": "test"}}]
    (config_dir / "targets" / "workers.yml").write_text(yaml.safe_dump(targets), encoding="utf-8")
    log = tmp_path / "prometheus.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                prometheus_binary,
                f"--config.file={config_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{web_port}",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        server = Prometheus(web_port)
        wait_for(
            "prometheus to be ready", lambda: urllib.request.urlopen(f"{server.base}/-/ready", timeout=2), log
        )
        yield server, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
