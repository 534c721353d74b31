"""A change of the policies rolls the workers (issue #10): rendered with kustomize itself (``kubectl kustomize``,
what ``kubectl apply -k`` runs), the policies ConfigMap's name carries a hash of its content and the StatefulSet's
pod template names it, so a changed policies.json is a changed pod template — which is what makes the StatefulSet
controller replace its pods — and an unchanged one leaves the template as it was (no needless roll).

Before, the ConfigMap was a plain resource named ``clearance-policies``: editing it changed no pod template, and
the workers kept the policies they had read at start until someone restarted them by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "PodMonitor")}


@pytest.fixture(scope="module")
def kustomize() -> list[str]:
    """The kustomize command: kubectl's built-in one, or a standalone kustomize."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    built = K8S.parents[1] / ".venv" / "bin" / "kustomize"  # scripts/setup.sh --kustomize builds it there
    if built.exists():
        return [str(built), "build"]
    if os.environ.get("CI"):
        pytest.fail("kubectl (or kustomize) is missing: the rendered manifests cannot be checked")
    pytest.skip("kubectl (or kustomize) not installed")


def render(kustomize: list[str], folder: Path) -> dict[str, dict[str, Any]]:
    done = subprocess.run([*kustomize, str(folder)], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in yaml.safe_load_all(done.stdout) if doc}


def pod_template(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["StatefulSet/clearance-worker"]["spec"]["template"]  # type: ignore[no-any-return]


def policies_map(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (name,) = [key for key in rendered if key.startswith("ConfigMap/clearance-policies")]
    return rendered[name]


@pytest.fixture
def copy_of_k8s(tmp_path: Path) -> Path:
    folder = tmp_path / "k8s"
    shutil.copytree(K8S, folder)
    return folder


def test_the_pod_template_names_the_policies_by_a_hash_of_their_content(kustomize: list[str]) -> None:
    rendered = render(kustomize, K8S)
    config_map = policies_map(rendered)
    name = config_map["metadata"]["name"]
    assert name.startswith("clearance-policies-") and len(name) > len("clearance-policies-")
    assert config_map["data"]["policies.json"] == (K8S / "policies.json").read_text(encoding="utf-8")
    volumes = {v["name"]: v for v in pod_template(rendered)["spec"]["volumes"]}
    assert volumes["policies"]["configMap"]["name"] == name


def test_the_rendered_manifests_are_valid_for_the_pinned_kubernetes_version(kustomize: list[str]) -> None:
    for key, doc in render(kustomize, K8S).items():
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:  # the PodMonitor's schema: test_k8s_manifests.py
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{key}: {exc}")


def test_changing_the_policies_changes_the_pod_template(kustomize: list[str], copy_of_k8s: Path) -> None:
    before = render(kustomize, copy_of_k8s)
    path = copy_of_k8s / "policies.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["counties"]["ALAMEDA"]["eligibility_options"]["additionalRelief"]["yearsCrimeFreeThreshold"] = 7
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    after = render(kustomize, copy_of_k8s)
    assert pod_template(after) != pod_template(before)
    assert policies_map(after)["metadata"]["name"] != policies_map(before)["metadata"]["name"]
    assert json.loads(policies_map(after)["data"]["policies.json"]) == document


def test_the_same_policies_written_again_leave_the_pod_template_as_it_was(kustomize: list[str],
                                                                         copy_of_k8s: Path) -> None:
    before = render(kustomize, copy_of_k8s)
    path = copy_of_k8s / "policies.json"
    path.write_bytes(path.read_bytes())  # a new file of the same bytes (as sync-policies.sh writes it)
    assert pod_template(render(kustomize, copy_of_k8s)) == pod_template(before)
