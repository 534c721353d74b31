"""Dockerfile and .dockerignore: multi-stage build, non-root runtime stage, agreement with the code."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streams.cli import build_parser

Instructions = list[tuple[str, str]]


def stages(dockerfile: Instructions) -> list[Instructions]:
    """Split into build stages; instructions before the first FROM (global ARGs) are dropped."""
    result: list[Instructions] = []
    for instruction, arguments in dockerfile:
        if instruction == "FROM":
            result.append([])
        if result:
            result[-1].append((instruction, arguments))
    return result


def global_args(dockerfile: Instructions) -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction, arguments in dockerfile:
        if instruction == "FROM":
            break
        if instruction == "ARG":
            name, _, default = arguments.partition("=")
            found[name] = default
    return found


def env_of(stage: Instructions) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments in stage:
        if instruction == "ENV":
            env |= dict(item.split("=", 1) for item in shlex.split(arguments))
    return env


def last(stage: Instructions, wanted: str) -> str:
    values = [arguments for instruction, arguments in stage if instruction == wanted]
    assert values, f"no {wanted} in the runtime stage"
    return values[-1]


@pytest.fixture(scope="module")
def runtime(dockerfile: Instructions) -> Instructions:
    return stages(dockerfile)[-1]


def test_multi_stage_build_on_python_3_11_slim(dockerfile: Instructions) -> None:
    froms = [stage[0][1] for stage in stages(dockerfile)]
    assert len(froms) >= 2
    base = global_args(dockerfile)["PYTHON_IMAGE"]
    assert base == "python:3.11-slim"
    assert froms[0] == "${PYTHON_IMAGE} AS builder"
    assert froms[-1].startswith("${PYTHON_IMAGE}")


def test_builder_makes_wheels_of_the_project_with_the_rocksdb_extra(
    dockerfile: Instructions, repo: Path
) -> None:
    builder = stages(dockerfile)[0]
    runs = " ".join(arguments for instruction, arguments in builder if instruction == "RUN")
    assert re.search(r"pip wheel .*\"\.\[rocksdb\]\"", runs)
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    assert "rocksdb" in pyproject["project"]["optional-dependencies"]


def test_runtime_installs_only_what_the_builder_made(runtime: Instructions) -> None:
    runs = " ".join(arguments for instruction, arguments in runtime if instruction == "RUN")
    assert "from=builder" in runs
    assert "--no-index" in runs and "clearance-streams[rocksdb]" in runs


def test_runtime_runs_as_a_non_root_user(
    runtime: Instructions, load_yaml: Callable[[Path], Any], repo: Path
) -> None:
    user = last(runtime, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, user  # numeric, so runAsNonRoot can verify it
    statefulset = load_yaml(repo / "deploy" / "k8s" / "statefulset.yaml")
    assert statefulset["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)


def test_state_directory_is_a_volume_and_the_data_dir(runtime: Instructions) -> None:
    env = env_of(runtime)
    assert env["CLEARANCE_DATA_DIR"] == "/var/lib/clearance"
    assert json.loads(last(runtime, "VOLUME")) == [env["CLEARANCE_DATA_DIR"]]


def test_metrics_listen_on_all_interfaces_on_the_exposed_port(runtime: Instructions) -> None:
    env = env_of(runtime)
    assert env["CLEARANCE_METRICS_HOST"] == "0.0.0.0"
    assert last(runtime, "EXPOSE") == env["CLEARANCE_METRICS_PORT"] == "9108"
    assert "/healthz" in last(runtime, "HEALTHCHECK") and "CLEARANCE_METRICS_PORT" in last(
        runtime, "HEALTHCHECK"
    )


def test_environment_names_are_settings_names(
    runtime: Instructions, settings_env_names: frozenset[str]
) -> None:
    names = {name for name in env_of(runtime) if name.startswith("CLEARANCE_")}
    assert names and names <= settings_env_names


def test_entrypoint_is_the_worker_with_the_policies_file(runtime: Instructions) -> None:
    entrypoint = json.loads(last(runtime, "ENTRYPOINT"))
    assert entrypoint == ["clearance", "worker", "--policies", "/etc/clearance/policies.json"]
    args = build_parser().parse_args(entrypoint[1:])
    assert (args.command, args.policies) == ("worker", "/etc/clearance/policies.json")


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins, ``!`` re-includes, a folder pattern covers its files."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").removeprefix("**/").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or fnmatch.fnmatch(
            parts[-1], pattern
        ):
            result = not negate
    return result


def test_copied_paths_exist_and_are_in_the_build_context(dockerfile: Instructions, repo: Path) -> None:
    patterns = [
        line.strip()
        for line in (repo / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for instruction, arguments in dockerfile
        if instruction == "COPY" and "--from=" not in arguments
        for source in shlex.split(arguments)[:-1]
        if not source.startswith("--")
    ]
    assert copied
    for source in copied:
        assert (repo / source).exists(), source
        assert not ignored(source, patterns), f"{source} is excluded by .dockerignore"
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["readme"] in copied  # the wheel build reads it
    assert "streams" in copied


@pytest.mark.parametrize("secretive", [".git", ".venv", "var", "tests", "deploy/kafka/lib", "x/__pycache__"])
def test_dockerignore_keeps_local_state_out_of_the_context(repo: Path, secretive: str) -> None:
    patterns = [
        line.strip()
        for line in (repo / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored(secretive, patterns)
