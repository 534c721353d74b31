"""Fixtures for the deployment-file tests: repository paths, YAML loading and the Prometheus binaries."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKER_JOB = "clearance-worker"


def _binary(name: str) -> str:
    """Find a Prometheus binary; CI must have it (scripts/setup.sh --prometheus), a laptop may skip."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing; CI installs it with scripts/setup.sh --prometheus")
        pytest.skip(f"{name} not installed (scripts/setup.sh --prometheus)")
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def promtool() -> str:
    return _binary("promtool")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return _binary("prometheus")


@pytest.fixture(scope="session")
def load_yaml() -> Callable[[Path], Any]:
    def load(path: Path) -> Any:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)

    return load


@pytest.fixture(scope="session")
def check_promql(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Iterable[str]], None]:
    """Parse PromQL with promtool (it has no ``promql`` command): each becomes a recording rule."""

    def check(exprs: Iterable[str]) -> None:
        rules = [{"record": f"check:expr_{i}", "expr": expr} for i, expr in enumerate(exprs)]
        assert rules, "no expression to check"
        path = tmp_path_factory.mktemp("promql") / "exprs.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "exprs", "rules": rules}]}), encoding="utf-8")
        result = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr

    return check


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_METRIC = re.compile(r"(?<![\w:])((?:[a-z_]+:)?clearance_[a-z0-9_]+(?::[a-z0-9_]+)?)")


@pytest.fixture(scope="session")
def series_names() -> Callable[[str], set[str]]:
    """Series names of this project used in a PromQL expression (label values are stripped first)."""

    def names(expr: str) -> set[str]:
        return set(_METRIC.findall(_QUOTED.sub('""', expr)))

    return names


@pytest.fixture(scope="session")
def known_series(load_yaml: Callable[[Path], Any]) -> frozenset[str]:
    """Series a query may name: the bundle's metrics (histograms with suffixes) and the recorded rules."""
    from streams.worker.metrics import SPECS

    names: set[str] = set()
    for spec in SPECS.values():
        names.add(spec.name)
        if spec.kind == "histogram":
            names |= {f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count"}
    recording = load_yaml(REPO / "deploy/prometheus/rules/recording.yml")
    names |= {rule["record"] for group in recording["groups"] for rule in group["rules"]}
    return frozenset(names)


@pytest.fixture(scope="session")
def settings_env_names() -> frozenset[str]:
    """Environment variables streams/settings.py reads: the only names deploy files may set for the worker."""
    source = (REPO / "streams" / "settings.py").read_text(encoding="utf-8")
    names = frozenset(re.findall(r'_env\(\s*"(CLEARANCE_[A-Z_]+)"', source))
    assert "CLEARANCE_KAFKA_BOOTSTRAP" in names
    return names


@pytest.fixture(scope="session")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "Dockerfile ends inside a continuation"
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs
