"""``faust -A streams.worker.app worker`` runs the app, and faust's web server (its /table views would serve people's
records) stays off even though faust's own CLI turns it on by default."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fixtures_kafka import free_port
from fixtures_worker import ROOT, STATEWIDE

from streams.settings import Settings

pytestmark = pytest.mark.kafka


def test_faust_cli_worker_serves_metrics_but_no_web_views(
    worker_factory, kafka_settings: Settings, tmp_path: Path
) -> None:
    worker_factory({"counties": {}})  # creates the topics
    web_port = free_port()
    env = {**os.environ, "CLEARANCE_KAFKA_BOOTSTRAP": kafka_settings.bootstrap,
           "CLEARANCE_TOPIC_PREFIX": kafka_settings.topic_prefix, "CLEARANCE_DATA_DIR": str(tmp_path),
           "CLEARANCE_METRICS_PORT": str(kafka_settings.metrics_port), "CLEARANCE_POLICIES": str(STATEWIDE)}
    faust_bin = Path(sys.executable).with_name("faust")
    with (tmp_path / "faust.log").open("wb") as log:
        proc = subprocess.Popen([str(faust_bin), "-A", "streams.worker.app", "worker", "-l", "info", "--web-port",
                                 str(web_port)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        url = f"http://127.0.0.1:{kafka_settings.metrics_port}/metrics"
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and "clearance_worker_recovering 0.0" not in text:
            assert proc.poll() is None, (tmp_path / "faust.log").read_text()[-3000:]
            with contextlib.suppress(OSError):
                text = urllib.request.urlopen(url, timeout=2).read().decode()
            time.sleep(0.5)
        assert "clearance_build_info" in text
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", web_port), timeout=2):
            pass
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
