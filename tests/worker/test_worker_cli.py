"""``clearance worker`` refuses bad settings before it touches Kafka or starts Faust."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from streams.settings import Settings
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


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLEARANCE_DLQ_RETENTION_DAYS", "soon", "CLEARANCE_DLQ_RETENTION_DAYS must be a number of days or 'forever'"),
        ("CLEARANCE_DLQ_RETENTION_DAYS", "0", "CLEARANCE_DLQ_RETENTION_DAYS must be at least 1 day"),
        ("CLEARANCE_ALLOW_WITHDRAWALS", "maybe", "CLEARANCE_ALLOW_WITHDRAWALS must be 1 or 0"),
        ("CLEARANCE_WITHDRAWAL_THRESHOLD", "10%", "CLEARANCE_WITHDRAWAL_THRESHOLD must be a share between 0 and 1"),
        ("CLEARANCE_WITHDRAWAL_THRESHOLD", "2", "CLEARANCE_WITHDRAWAL_THRESHOLD must be a share between 0 and 1"),
    ],
)
def test_topic_and_policy_guard_settings_are_one_line_errors(  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch, capsys, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv("CLEARANCE_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # never reached
    monkeypatch.setenv(variable, value)
    assert run_cli(_args(STATEWIDE)) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_the_guard_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLEARANCE_DLQ_RETENTION_DAYS", "CLEARANCE_ALLOW_WITHDRAWALS", "CLEARANCE_WITHDRAWAL_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    assert (Settings().dlq_retention_ms, Settings().allow_withdrawals, Settings().withdrawal_threshold) == (
        90 * 86_400_000, False, 0.1)
    monkeypatch.setenv("CLEARANCE_DLQ_RETENTION_DAYS", "forever")
    monkeypatch.setenv("CLEARANCE_ALLOW_WITHDRAWALS", "yes")
    monkeypatch.setenv("CLEARANCE_WITHDRAWAL_THRESHOLD", "0.25")
    assert (Settings().dlq_retention_ms, Settings().allow_withdrawals, Settings().withdrawal_threshold) == (
        -1, True, 0.25)
