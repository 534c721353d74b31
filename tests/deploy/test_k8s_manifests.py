"""deploy/k8s: every manifest is valid for a fixed Kubernetes version, and the manifests agree with each other
(selectors, ports, names), with the Prometheus job and with the code (settings, CLI, policies file)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from streams.cli import build_parser

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
DATA = Path(__file__).resolve().parent / "data"
KUBERNETES_VERSION = "1.33.0"
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "PodMonitor")}


@pytest.fixture(scope="module")
def manifests(load_yaml: Callable[[Path], Any]) -> dict[str, dict[str, Any]]:
    """Every resource listed by the kustomization, keyed by kind (each kind appears once except ConfigMap)."""
    kustomization = load_yaml(K8S / "kustomization.yaml")
    found: dict[str, dict[str, Any]] = {}
    for name in kustomization["resources"]:
        doc = load_yaml(K8S / name)
        key = doc["kind"] if doc["kind"] != "ConfigMap" else f"ConfigMap/{doc['metadata']['name']}"
        assert key not in found, key
        found[key] = doc
    return found


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(workload)["containers"]
    return container


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


def test_kustomization_lists_every_manifest(load_yaml: Callable[[Path], Any]) -> None:
    listed = load_yaml(K8S / "kustomization.yaml")["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_manifest_is_valid_for_the_pinned_kubernetes_version(
    load_yaml: Callable[[Path], Any], name: str
) -> None:
    doc = load_yaml(K8S / name)
    if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
        schema = json.loads((DATA / "podmonitor.schema.json").read_text(encoding="utf-8"))
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
        assert errors == []
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_validation_catches_a_misspelt_field(manifests: dict[str, dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(manifests["StatefulSet"]))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_podmonitor_schema_catches_a_misspelt_field(manifests: dict[str, dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(manifests["PodMonitor"]))
    broken["spec"]["podMetricEndpoints"] = broken["spec"].pop("podMetricsEndpoints")
    schema = json.loads((DATA / "podmonitor.schema.json").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_manifests_are_namespace_agnostic(manifests: dict[str, dict[str, Any]]) -> None:
    assert [key for key, doc in manifests.items() if "namespace" in doc["metadata"]] == []


def test_selectors_match_the_worker_pods(manifests: dict[str, dict[str, Any]]) -> None:
    statefulset = manifests["StatefulSet"]
    labels = pod_labels(statefulset)
    assert selects(statefulset["spec"]["selector"]["matchLabels"], labels)
    assert selects(manifests["Service"]["spec"]["selector"], labels)
    assert selects(manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"], labels)
    assert selects(manifests["PodMonitor"]["spec"]["selector"]["matchLabels"], labels)
    assert not selects(
        manifests["PodMonitor"]["spec"]["selector"]["matchLabels"], pod_labels(manifests["Job"])
    )


def test_podmonitor_job_label_yields_the_prometheus_job_of_the_rules(
    manifests: dict[str, dict[str, Any]], load_yaml: Callable[[Path], Any], repo: Path
) -> None:
    job_label = manifests["PodMonitor"]["spec"]["jobLabel"]
    job = pod_labels(manifests["StatefulSet"])[job_label]
    config = load_yaml(repo / "deploy" / "prometheus" / "prometheus.yml")
    assert job in {scrape["job_name"] for scrape in config["scrape_configs"]}
    assert f'job="{job}"' in (repo / "deploy" / "prometheus" / "rules" / "alerts.yml").read_text(
        encoding="utf-8"
    )


def test_metrics_port_is_consistent(manifests: dict[str, dict[str, Any]]) -> None:
    settings = manifests["ConfigMap/clearance-settings"]["data"]
    container = only_container(manifests["StatefulSet"])
    (port,) = [p for p in container["ports"] if p["name"] == "metrics"]
    assert port["containerPort"] == int(settings["CLEARANCE_METRICS_PORT"])
    assert settings["CLEARANCE_METRICS_HOST"] == "0.0.0.0"
    (service_port,) = manifests["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == "metrics" and service_port["port"] == port["containerPort"]
    # the worker's health endpoints (streams/worker/metrics.py serves them beside /metrics; any other path is 404)
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[probe]["httpGet"] == {"path": path, "port": "metrics"}, probe
    (endpoint,) = manifests["PodMonitor"]["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")


def test_podmonitor_timeout_is_shorter_than_its_interval(manifests: dict[str, dict[str, Any]]) -> None:
    (endpoint,) = manifests["PodMonitor"]["spec"]["podMetricsEndpoints"]
    seconds = {key: int(endpoint[key].removesuffix("s")) for key in ("interval", "scrapeTimeout")}
    assert seconds["scrapeTimeout"] < seconds["interval"]


def test_statefulset_uses_the_headless_service(manifests: dict[str, dict[str, Any]]) -> None:
    assert manifests["StatefulSet"]["spec"]["serviceName"] == manifests["Service"]["metadata"]["name"]
    assert manifests["Service"]["spec"]["clusterIP"] == "None"


def test_replicas_do_not_exceed_the_partitions_the_job_creates(manifests: dict[str, dict[str, Any]]) -> None:
    command = only_container(manifests["Job"])["command"]
    args = build_parser().parse_args(command[1:])
    assert (command[0], args.command, args.action) == ("clearance", "topics", "create")
    replicas = manifests["StatefulSet"]["spec"]["replicas"]
    assert 1 <= replicas <= args.partitions
    assert f"{args.partitions} partitions" in (K8S / "statefulset.yaml").read_text(encoding="utf-8")
    assert manifests["PodDisruptionBudget"]["spec"]["maxUnavailable"] < replicas or replicas == 1


@pytest.mark.parametrize("kind", ["StatefulSet", "Job"])
def test_environment_comes_from_settings_names(
    manifests: dict[str, dict[str, Any]], settings_env_names: frozenset[str], kind: str
) -> None:
    container = only_container(manifests[kind])
    config_maps = [source["configMapRef"]["name"] for source in container["envFrom"]]
    assert config_maps == ["clearance-settings"]
    assert set(manifests["ConfigMap/clearance-settings"]["data"]) <= settings_env_names
    assert {entry["name"] for entry in container.get("env", [])} <= settings_env_names
    for entry in container.get("env", []):
        secret = entry["valueFrom"]["secretKeyRef"]
        assert secret["optional"] is True  # the Secret exists only on clusters with SASL


def test_worker_state_and_policies_are_mounted_where_settings_and_cli_expect(
    manifests: dict[str, dict[str, Any]],
) -> None:
    statefulset = manifests["StatefulSet"]
    container = only_container(statefulset)
    mounts = {mount["name"]: mount for mount in container["volumeMounts"]}
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    data_dir = manifests["ConfigMap/clearance-settings"]["data"]["CLEARANCE_DATA_DIR"]
    assert mounts[claim["metadata"]["name"]]["mountPath"] == data_dir
    args = build_parser().parse_args(container["command"][1:])
    assert (container["command"][0], args.command) == ("clearance", "worker")
    volumes = {volume["name"]: volume for volume in pod_spec(statefulset)["volumes"]}
    policies_volume = volumes[mounts["policies"]["name"]]["configMap"]
    (item,) = policies_volume["items"]
    assert args.policies == f"{mounts['policies']['mountPath']}/{item['path']}"
    config_map = manifests[f"ConfigMap/{policies_volume['name']}"]
    assert item["key"] in config_map["data"]


def test_policies_configmap_is_the_repository_policies_file(
    manifests: dict[str, dict[str, Any]], repo: Path
) -> None:
    """Same bytes as compose mounts, so both deployments report the same policies fingerprint."""
    embedded = manifests["ConfigMap/clearance-policies"]["data"]["policies.json"]
    source = (repo / "deploy" / "policies" / "statewide.json").read_text(encoding="utf-8")
    assert embedded == source, "run deploy/k8s/sync-policies.sh"


@pytest.mark.parametrize("kind", ["StatefulSet", "Job"])
def test_pods_run_locked_down(manifests: dict[str, dict[str, Any]], kind: str) -> None:
    pod = pod_spec(manifests[kind])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 1000
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    container = only_container(manifests[kind])
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    resources = container["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_worker_and_job_run_this_version_of_the_image(
    manifests: dict[str, dict[str, Any]], repo: Path
) -> None:
    version = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    images = {only_container(manifests[kind])["image"] for kind in ("StatefulSet", "Job")}
    assert images == {f"clearance-streams:{version}"}


def test_kustomization_does_not_pin_a_namespace(load_yaml: Callable[[Path], Any]) -> None:
    assert "namespace" not in load_yaml(K8S / "kustomization.yaml")
