"""The live explain on the real worker and broker: a replayed person explained by the worker that holds them gives
the offline explain's convictions and answers; no port opens when the endpoint is not configured."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fixtures_worker import latest_active, statewide_policies

from streams.cli import main as cli_main
from streams.explain_live import fetch
from streams.rules.flows.registry import FLOWS
from streams.settings import Settings
from streams.tools.replay import replay

pytestmark = pytest.mark.kafka
TOKEN = "live-explain-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _offline(sid: str, doj: Path, county: str, spec: dict[str, Any], work: Path,
             capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = ["explain", sid, "--input-doj", str(doj), "--county", county, "--flow", spec["flow"],
            "--compute-at", spec["compute_at"], "--json"]
    if spec["flow"] == "configurable":
        options = work / "options.json"
        options.write_text(json.dumps(spec["eligibility_options"]))
        args += ["--eligibility-options", str(options)]
    for setting in FLOWS[spec["flow"]].settings:
        if setting in spec:
            args += [f"--{setting.replace('_', '-')}", str(spec[setting])]
    capsys.readouterr()
    assert cli_main(args) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _answers(document: dict[str, Any], county: str) -> list[tuple[Any, ...]]:
    return sorted((c["count_order"], c["code_section"], c["determination"], c["reason"], c["rule"])
                  for c in document["convictions"] if c["county"] == county)


def test_live_explain_equals_the_offline_explain(
    worker_factory, kafka_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doj = tmp_path / "sample.csv"
    assert cli_main(["generate-doj", "--people", "300", "--seed", "11", "--output", str(doj)]) == 0
    policies = statewide_policies()
    port = _free_port()
    worker = worker_factory(policies)
    worker.extra_env = {"CLEARANCE_EXPLAIN_PORT": str(port), "CLEARANCE_EXPLAIN_TOKEN": TOKEN}
    worker.start()
    _rows, events = asyncio.run(replay(kafka_settings, doj, progress=False))
    worker.wait_consumed(events)
    counties: dict[str, set[str]] = defaultdict(set)
    for det in latest_active(kafka_settings):
        counties[det["subject_id"]].add(det["county"])
    chosen = sorted(counties, key=lambda sid: (-len(counties[sid]), sid))[:5]
    assert chosen
    url = f"http://127.0.0.1:{port}"
    for sid in chosen:
        live = fetch(sid, [url], TOKEN)
        assert live["subject_id"] == sid and live["source"] == "live"
        for conviction in live["convictions"]:  # each answer says which event revised it last
            assert conviction["history"][-1]["revision"] == conviction["revision"]
            assert conviction["history"][-1]["cause"] == "event" and conviction["history"][-1]["event_id"]
        for county in sorted(counties[sid]):
            offline = _offline(sid, doj, county, policies["counties"][county], tmp_path, capsys)
            assert _answers(live, county) == _answers(offline, county), (sid, county)
            assert _answers(live, county)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/subjects/{chosen[0]}", timeout=5)
    assert refused.value.code == 401
    log = worker.log.read_text(errors="replace")
    assert "live explain on http://127.0.0.1:" in log
    lookups = [line for line in log.splitlines() if "explain lookup" in line]
    assert lookups and not any(sid in line for line in lookups for sid in chosen)


def test_no_explain_port_without_configuration(worker_factory) -> None:
    worker = worker_factory({"counties": {}})
    worker.start()
    assert "live explain on" not in worker.log.read_text(errors="replace")
