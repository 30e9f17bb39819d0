"""The demo's data: snapshots the real kubernetes client accepts, and a coherent fleet repo."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import yaml
from kubernetes import client

ROOT = pathlib.Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "reconciler" / "demo" / "snapshots"
TEMPLATE = ROOT / "repo-template"
CLUSTERS = ("onprem", "cloud")


def load_snapshot(cluster: str) -> dict[str, Any]:
    doc = yaml.safe_load((SNAPSHOTS / f"{cluster}.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def items(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in doc["items"] if i["kind"] == kind]


def deserialize(obj: dict[str, Any], model: str) -> Any:
    """Parse one object exactly as the client parses an API response body."""
    return client.ApiClient().deserialize(json.dumps(obj), model, "application/json")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_snapshot_is_a_kubectl_list(cluster: str) -> None:
    doc = load_snapshot(cluster)
    assert doc["apiVersion"] == "v1"
    assert doc["kind"] == "List"
    assert doc["metadata"] == {"resourceVersion": ""}
    uids = [i["metadata"]["uid"] for i in doc["items"]]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_nodes_and_pods_deserialize_with_the_kubernetes_client(cluster: str) -> None:
    doc = load_snapshot(cluster)
    nodes = [deserialize(n, "V1Node") for n in items(doc, "Node")]
    pods = [deserialize(p, "V1Pod") for p in items(doc, "Pod")]
    replicasets = [deserialize(r, "V1ReplicaSet") for r in items(doc, "ReplicaSet")]
    assert nodes and pods and replicasets
    for node in nodes:
        assert node.status.allocatable["cpu"] and node.status.allocatable["memory"]
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert [c.status for c in ready] == ["True"]
    for pod in pods:
        assert pod.spec.containers and all(c.name and c.image for c in pod.spec.containers)
        assert pod.metadata.creation_timestamp is not None


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_owner_reference_points_into_the_file(cluster: str) -> None:
    doc = load_snapshot(cluster)
    by_uid = {i["metadata"]["uid"]: i for i in doc["items"]}
    for obj in items(doc, "Pod") + items(doc, "RayCluster"):
        refs = obj["metadata"]["ownerReferences"]
        assert [r["controller"] for r in refs] == [True]
        owner = by_uid.get(refs[0]["uid"])
        assert owner is not None, obj["metadata"]["name"]
        assert (owner["kind"], owner["metadata"]["name"]) == (refs[0]["kind"], refs[0]["name"])
        assert owner["metadata"]["namespace"] == obj["metadata"]["namespace"]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_pending_pods_are_unschedulable_and_unbound(cluster: str) -> None:
    doc = load_snapshot(cluster)
    for pod in items(doc, "Pod"):
        scheduled = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"]
        assert len(scheduled) == 1
        if pod["status"]["phase"] == "Pending":
            assert "nodeName" not in pod["spec"]
            assert (scheduled[0]["status"], scheduled[0]["reason"]) == ("False", "Unschedulable")
            assert "Insufficient cpu" in scheduled[0]["message"]
        else:
            assert pod["status"]["phase"] == "Running"
            assert pod["spec"]["nodeName"] in {n["metadata"]["name"] for n in items(doc, "Node")}
            assert scheduled[0]["status"] == "True"


def test_onprem_shows_the_stalled_upgrade() -> None:
    doc = load_snapshot("onprem")
    (service,) = items(doc, "RayService")
    status = service["status"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["UpgradeInProgress"] == ("True", "BothActivePendingClustersExist")
    assert conditions["Ready"] == ("True", "NonZeroServeEndpoints")
    pending = status["pendingServiceStatus"]["rayClusterName"]
    assert status["activeServiceStatus"]["rayClusterName"] == "ray-pred-x7k2p"
    pending_pods = [
        p for p in items(doc, "Pod") if p["metadata"]["labels"].get("ray.io/cluster") == pending
    ]
    assert len(pending_pods) == 3
    assert all(p["status"]["phase"] == "Pending" for p in pending_pods)
    # The RayService in the cluster is the one the fleet repo declares (the new config).
    manifest = yaml.safe_load(
        (TEMPLATE / "clusters/onprem/groups/ray-pred/rayservice.yaml").read_text()
    )
    assert service["spec"] == manifest["spec"]


def test_repo_template_yaml_parses() -> None:
    files = sorted(TEMPLATE.rglob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, path


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_each_group_is_listed_in_its_cluster_kustomization(cluster: str) -> None:
    groups_dir = TEMPLATE / "clusters" / cluster / "groups"
    kustomization = yaml.safe_load((groups_dir / "kustomization.yaml").read_text())
    directories = sorted(p.name for p in groups_dir.iterdir() if p.is_dir())
    assert directories
    assert sorted(kustomization["resources"]) == directories
    for group in directories:
        group_dir = groups_dir / group
        listed = yaml.safe_load((group_dir / "kustomization.yaml").read_text())["resources"]
        assert "placement.yaml" not in listed
        assert all((group_dir / name).is_file() for name in listed)
        for name in listed:
            for doc in yaml.safe_load_all((group_dir / name).read_text()):
                assert doc["kind"] != "Namespace"
