"""docker-compose.yml: valid against the Compose Specification schema and consistent with code and repo."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from streams.cli import build_parser
from streams.settings import RECORD_CHANGES, Settings

DATA = Path(__file__).resolve().parent / "data"
SERVICES = {"kafka", "topics", "worker", "prometheus", "grafana"}


@pytest.fixture(scope="module")
def compose(load_yaml: Callable[[Path], Any], repo: Path) -> dict[str, Any]:
    return load_yaml(repo / "docker-compose.yml")


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DATA / "compose-spec.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def entrypoint_from_dockerfile(dockerfile: list[tuple[str, str]]) -> list[str]:
    (arguments,) = [args for instruction, args in dockerfile if instruction == "ENTRYPOINT"]
    return json.loads(arguments)


def test_compose_file_matches_the_compose_specification(
    compose: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda doc: doc["services"]["worker"].update(ports={"9108": 9108}),
        lambda doc: doc["services"]["worker"].update(depends_on={"topics": {"condition": "finished"}}),
        lambda doc: doc["services"]["kafka"].update(healthcheck={"test": "x", "intervall": "10s"}),
        lambda doc: doc.update(servics={}),
    ],
)
def test_the_schema_rejects_broken_variants(
    compose: dict[str, Any],
    validator: jsonschema.protocols.Validator,
    break_it: Callable[[dict[str, Any]], None],
) -> None:
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert list(validator.iter_errors(broken))


def test_vendored_schema_names_its_source_and_licence() -> None:
    notes = (DATA / "README.md").read_text(encoding="utf-8")
    assert "compose-spec/compose-spec" in notes and "schema/compose-spec.json" in notes
    assert "Apache License" in (DATA / "compose-spec.LICENSE").read_text(encoding="utf-8")


def test_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES


def test_every_published_port_binds_to_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)


def test_kafka_is_a_single_kraft_node_of_apache_kafka_4(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tuple(int(part) for part in tag.split(".")) >= (4, 1, 1)
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["PLAINTEXT"] == "kafka:9092"
    host_port = advertised["PLAINTEXT_HOST"].rpartition(":")[2]
    assert f"127.0.0.1:{host_port}:{host_port}" in kafka["ports"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    assert set(listeners) == set(
        env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(":PLAINTEXT", "").split(",")
    )
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka{listeners['CONTROLLER']}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])  # a base64 UUID, or storage format fails
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    assert any(volume.endswith(":" + env["KAFKA_LOG_DIRS"]) for volume in kafka["volumes"])


def test_topics_are_created_once_kafka_is_healthy(compose: dict[str, Any]) -> None:
    topics = compose["services"]["topics"]
    args = build_parser().parse_args(topics["entrypoint"][1:])
    assert topics["entrypoint"][0] == "clearance"
    assert (args.command, args.action) == ("topics", "create")
    assert args.partitions >= 1
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["restart"] == "no"


def test_worker_waits_for_its_topics(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert worker["build"]["context"] == "." and worker["build"]["dockerfile"] == "Dockerfile"
    assert compose["services"]["topics"]["image"] == worker["image"]


@pytest.mark.parametrize("service", ["topics", "worker"])
def test_clearance_environment_uses_only_settings_names(
    compose: dict[str, Any], settings_env_names: frozenset[str], service: str
) -> None:
    env = compose["services"][service]["environment"]
    assert set(env) <= settings_env_names
    assert env["CLEARANCE_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_worker_settings_resolve_as_intended(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feed the compose environment to the real Settings class: what the container will see."""
    for name, value in compose["services"]["worker"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = Settings()
    assert settings.bootstrap == "kafka:9092"
    assert settings.metrics_host == "0.0.0.0"
    assert str(settings.data_dir) == "/var/lib/clearance"
    assert settings.topic(RECORD_CHANGES) == RECORD_CHANGES
    worker = compose["services"]["worker"]
    assert f"127.0.0.1:{settings.metrics_port}:{settings.metrics_port}" in worker["ports"]
    assert any(v.endswith(f":{settings.data_dir}") and not v.startswith(".") for v in worker["volumes"])


def test_worker_mounts_the_policies_file_where_the_image_reads_it(
    compose: dict[str, Any], dockerfile: list[tuple[str, str]], repo: Path
) -> None:
    entrypoint = entrypoint_from_dockerfile(dockerfile)
    args = build_parser().parse_args(entrypoint[1:])
    assert args.command == "worker"
    mounts = compose["services"]["worker"]["volumes"]
    assert f"./deploy/policies/statewide.json:{args.policies}:ro" in mounts


def test_bind_mounts_exist_in_the_repository(compose: dict[str, Any], repo: Path) -> None:
    binds = [
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert binds
    for source in binds:
        assert (repo / source).exists(), source


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    named = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith(("./", "/"))
    }
    assert named == set(compose["volumes"])


def test_prometheus_runs_the_compose_config_with_the_project_rules(
    compose: dict[str, Any], repo: Path
) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = dict(v.rsplit(":", 2)[:2] for v in prometheus["volumes"] if v.startswith("./"))
    config = next(arg.split("=", 1)[1] for arg in prometheus["command"] if arg.startswith("--config.file="))
    for source, target in mounts.items():
        if config.startswith(target + "/"):
            assert (repo / source / config.removeprefix(target + "/")).is_file()
            break
    else:
        pytest.fail(f"{config} is not inside a mounted folder")


def test_grafana_is_provisioned(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.endswith("/clearance-streams.json")
    assert any(v.endswith(":" + home.rpartition("/")[0] + ":ro") for v in grafana["volumes"])
