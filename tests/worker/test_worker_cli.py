"""``clearance worker`` refuses bad settings before it touches Kafka or starts Faust."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from streams.worker.cli import run_cli

STATEWIDE = Path(__file__).resolve().parents[2] / "deploy" / "policies" / "statewide.json"


def _args(policies: Path) -> argparse.Namespace:
    return argparse.Namespace(policies=str(policies), metrics_port=None, loglevel="info")


def test_an_unknown_event_loop_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CLEARANCE_EVENT_LOOP", "tokio")
    monkeypatch.setenv("CLEARANCE_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # never reached
    assert run_cli(_args(STATEWIDE)) == 2
    assert "CLEARANCE_EVENT_LOOP must be one of uvloop, aio, not 'tokio'" in capsys.readouterr().err


def test_a_bad_policies_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "policies.json"
    bad.write_text('{"counties": {"LOS ANGELES": {"flow": "no_such_flow"}}}')
    assert run_cli(_args(bad)) == 2
    assert capsys.readouterr().err.startswith("clearance worker: ")


def test_a_setting_that_is_not_a_number_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CLEARANCE_MAX_EVENT_BYTES", "1MB")
    assert run_cli(_args(STATEWIDE)) == 2
    assert "CLEARANCE_MAX_EVENT_BYTES must be a whole number, got '1MB'" in capsys.readouterr().err
