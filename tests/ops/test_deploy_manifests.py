"""deploy/: the kustomize manifests, checked as a reviewer would check them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli.main import _parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
Obj = dict[str, Any]
SECRET_LOOKING = re.compile(r"(gh[pousr]_|github_pat_|-----BEGIN|eyJ[A-Za-z0-9_-]{10,})")


def load(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def objects() -> list[Obj]:
    kustomization = load(DEPLOY / "kustomization.yaml")[0]
    return [obj for name in kustomization["resources"] for obj in load(DEPLOY / name)]


def one(objects: list[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} found"
    return found[0]


@pytest.fixture(scope="module")
def pod(objects: list[Obj]) -> Obj:
    return dict(one(objects, "Deployment")["spec"]["template"]["spec"])


@pytest.fixture(scope="module")
def container(pod: Obj) -> Obj:
    [container] = pod["containers"]
    return dict(container)


def test_every_file_is_valid_yaml_and_listed_in_the_kustomization() -> None:
    kustomization = load(DEPLOY / "kustomization.yaml")[0]
    files = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    for name in files:
        for doc in load(DEPLOY / name):
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), name
    assert kustomization["namespace"] == "placement-reconciler"


def test_probes_watch_healthz_and_readyz_on_the_metrics_port(container: Obj) -> None:
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 9090}
    assert "--metrics-port=9090" in container["args"]
    live, ready = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    assert (live["path"], live["port"]) == ("/healthz", "metrics")
    assert (ready["path"], ready["port"]) == ("/readyz", "metrics")


def test_resources_are_requested(container: Obj) -> None:
    requests = container["resources"]["requests"]
    assert {"cpu", "memory"} <= requests.keys()
    assert "memory" in container["resources"]["limits"]


def test_it_runs_as_non_root_without_privileges(pod: Obj, container: Obj) -> None:
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 10001  # the Dockerfile's USER
    assert context["seccompProfile"]["type"] == "RuntimeDefault"
    own = container["securityContext"]
    assert own["allowPrivilegeEscalation"] is False
    assert own["readOnlyRootFilesystem"] is True
    assert own["capabilities"]["drop"] == ["ALL"]
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert {"/tmp", "/var/cache/placement-reconciler"} <= writable


def test_the_service_account_is_the_one_every_binding_names(objects: list[Obj], pod: Obj) -> None:
    account = one(objects, "ServiceAccount")
    name, namespace = account["metadata"]["name"], account["metadata"]["namespace"]
    assert pod["serviceAccountName"] == name
    bindings = [o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert {b["kind"] for b in bindings} == {"RoleBinding", "ClusterRoleBinding"}
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": name, "namespace": namespace}
        ]
        role = one(objects, binding["roleRef"]["kind"], binding["roleRef"]["name"])
        assert role["metadata"].get("namespace") == binding["metadata"].get("namespace")


def test_the_lease_role_allows_exactly_get_create_update_on_its_lease(
    objects: list[Obj], container: Obj
) -> None:
    role = one(objects, "Role", "placement-reconciler-lease")
    verbs: set[str] = set()
    for rule in role["rules"]:
        assert rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"]
        if "resourceNames" in rule:
            assert rule["resourceNames"] == [_arg(container, "--lease-name")]
        verbs |= set(rule["verbs"])
    assert verbs == {"get", "create", "update"}
    assert "--leader-elect" in container["args"]


def test_the_reader_role_only_reads(objects: list[Obj]) -> None:
    reader = one(objects, "ClusterRole", "placement-reconciler-reader")
    for rule in reader["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}


def test_secrets_are_referenced_never_embedded(
    objects: list[Obj], pod: Obj, container: Obj
) -> None:
    assert not [o for o in objects if o["kind"] == "Secret"]
    for path in DEPLOY.glob("*.yaml"):
        assert not SECRET_LOOKING.search(path.read_text()), path.name
    literal_env = {e["name"]: e.get("value") for e in container["env"]}
    assert "GITHUB_TOKEN" not in literal_env
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert set(secrets.values()) == {
        "placement-reconciler-github",
        "placement-reconciler-kubeconfigs",
    }
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert literal_env["GITHUB_TOKEN_FILE"].startswith(mounts["github"] + "/")
    assert literal_env["KUBECONFIG"].startswith(mounts["kubeconfigs"] + "/")


def test_the_container_arguments_are_accepted_by_the_command_line(
    objects: list[Obj], container: Obj
) -> None:
    kustomization = load(DEPLOY / "kustomization.yaml")[0]
    [generated] = kustomization["configMapGenerator"]
    settings = dict(item.split("=", 1) for item in generated["literals"])
    env: dict[str, str] = {"POD_NAMESPACE": "placement-reconciler", "POD_NAME": "p-0"}
    for item in container["env"]:
        ref = item.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            assert ref["name"] == generated["name"]
            env[item["name"]] = settings[ref["key"]]
    args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container["args"]]
    parsed = _parser().parse_args(args)
    assert parsed.command == "run" and parsed.interval == "60s"
    assert parsed.leader_elect and parsed.log_format == "json"
    assert parsed.lease_namespace == one(objects, "Namespace")["metadata"]["name"]


def test_the_image_is_the_one_the_kustomization_pins(container: Obj) -> None:
    kustomization = load(DEPLOY / "kustomization.yaml")[0]
    names = {image["name"] for image in kustomization["images"]}
    assert container["image"].rsplit(":", 1)[0] in names


def _arg(container: Obj, flag: str) -> str:
    [value] = [a.split("=", 1)[1] for a in container["args"] if a.startswith(flag + "=")]
    return value


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_it_and_keeps_the_lease_name(tmp_path: Path) -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0 and "unknown command" in done.stderr:
        pytest.skip("this kubectl has no kustomize")
    assert done.returncode == 0, done.stderr
    rendered = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    role = one(rendered, "Role", "placement-reconciler-lease")
    # kustomize renames references to generated ConfigMaps, resourceNames included:
    # the Lease's name must not collide with the ConfigMap's.
    assert [r.get("resourceNames") for r in role["rules"]] == [None, ["placement-reconciler"]]
    deployment = one(rendered, "Deployment")
    assert all(
        o["metadata"].get("namespace") == "placement-reconciler"
        for o in rendered
        if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")
    )
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith("ghcr.io/")
