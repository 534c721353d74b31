"""Packaging and set-up scripts: a plain ``pip install`` gives a worker that can start, and the set-up never kills
programs it did not start."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_default_store_needs_no_extra() -> None:
    """CLEARANCE_STORE defaults to rocksdb://, which faust cannot open without rocksdict."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "rocksdict" in _requirement_names(project["dependencies"])
    assert '"CLEARANCE_STORE", "rocksdb://"' in (REPO / "streams" / "settings.py").read_text(encoding="utf-8")


def test_scripts_kill_nothing_by_name() -> None:
    """``pkill -x prometheus`` would also end a user's own Prometheus: scripts stop only what they started (init
    system or pid file)."""
    for script in sorted((REPO / "scripts").glob("*.sh")):
        text = script.read_text(encoding="utf-8")
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        assert not re.search(r"\b(pkill|killall)\b", code), script.name
