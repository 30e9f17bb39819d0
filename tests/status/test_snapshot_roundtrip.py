"""A snapshot written from a live read reads back as the same cluster state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core.errors import ClusterReadError, UsageError
from reconciler.status.dump import dump_snapshot, write_snapshot
from reconciler.status.live import read_live
from reconciler.status.model import ClusterState
from reconciler.status.snapshot import read_snapshot

from .conftest import cluster
from .fake_apiserver import (
    CREATED,
    FakeFleet,
    node,
    owner,
    pod,
    ray_object,
    ray_service,
    workload,
)


def plan_fields(state: ClusterState) -> dict[str, Any]:
    """What the planner looks at, per node, pod and object."""
    return {
        "nodes": [
            (n.name, n.allocatable, dict(n.labels), n.taints, n.unschedulable, n.ready)
            for n in state.nodes
        ],
        "pods": [
            (
                p.namespace,
                p.name,
                p.node,
                p.phase,
                p.shape.requests,
                p.shape.tolerations,
                dict(p.shape.node_selector),
                p.shape.required_affinity,
                p.owners,
                p.conditions,
                p.created,
            )
            for p in state.pods
        ],
        "objects": [
            (o.kind, o.namespace, o.name, o.owners, o.active_cluster, o.pending_cluster)
            for o in state.objects
        ],
    }


@pytest.fixture
def busy_east(fleet: FakeFleet, monkeypatch: pytest.MonkeyPatch) -> FakeFleet:
    monkeypatch.setattr("reconciler.status.live.PAGE_SIZE", 3)  # pages in both paths
    taint = {"key": "gpu", "value": "true", "effect": "NoSchedule"}
    tracked = pod("tracked", node_name="east-2", gpu="1")
    tracked["metadata"]["managedFields"] = [
        {"manager": "kubelet", "operation": "Update", "time": CREATED, "fieldsType": "FieldsV1"}
    ]
    fleet["east"].add(
        node("east-1", labels={"zone": "a"}),
        node("east-2", gpu="8", taints=[taint]),
        node("east-3", unschedulable=True, ready=False),
        workload("Deployment", "web"),
        workload("ReplicaSet", "web-1", owned_by=owner("Deployment", "web")),
        *(
            pod(f"web-1-{i}", node_name="east-1", owned_by=owner("ReplicaSet", "web-1"))
            for i in range(7)
        ),
        pod("waiting", node_name=None, cpu="64", node_selector={"zone": "b"}),
        tracked,
        workload("Job", "train"),
        ray_service("serve", active="serve-a", pending="serve-b"),
        ray_object("RayCluster", "serve-a", owned_by=owner("RayService", "serve")),
        ray_object("RayJob", "nightly"),
    )
    return fleet


def test_a_snapshot_of_a_live_read_reads_back_identically(
    busy_east: FakeFleet, tmp_path: Path
) -> None:
    live = read_live([cluster("east")], kubeconfig=str(busy_east.kubeconfig))["east"]

    data = dump_snapshot("ctx-east", kubeconfig=str(busy_east.kubeconfig))
    path = write_snapshot(data, directory=tmp_path / "snap", cluster="east")
    snapped = read_snapshot(tmp_path / "snap", cluster="east")

    assert live.known and snapped.known, (live.reason, snapped.reason)
    assert len(live.pods) == 9
    assert (live.nodes, live.pods, live.objects) == (snapped.nodes, snapped.pods, snapped.objects)
    assert plan_fields(live) == plan_fields(snapped)
    assert path == tmp_path / "snap" / "east.yaml"


def test_the_snapshot_is_a_kind_list_with_kinds_set(busy_east: FakeFleet) -> None:
    data = dump_snapshot("ctx-east", kubeconfig=str(busy_east.kubeconfig))

    assert (data["apiVersion"], data["kind"]) == ("v1", "List")
    kinds = {(item["apiVersion"], item["kind"]) for item in data["items"]}
    assert kinds == {
        ("v1", "Node"), ("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"), ("ray.io/v1", "RayService"), ("ray.io/v1", "RayCluster"),
        ("ray.io/v1", "RayJob"),
    }  # fmt: skip
    assert all("managedFields" not in item["metadata"] for item in data["items"])


def test_a_failed_read_writes_no_snapshot(fleet: FakeFleet) -> None:
    fleet["east"].fail("pods", status=403)

    with pytest.raises(ClusterReadError, match=r"^forbidden \(403\): not allowed listing pods"):
        dump_snapshot("ctx-east", kubeconfig=str(fleet.kubeconfig))


def test_write_snapshot_replaces_the_file_without_leftovers(tmp_path: Path) -> None:
    (tmp_path / "east.yaml").write_text("old")
    data = {"apiVersion": "v1", "kind": "List", "items": [node("east-1")]}

    write_snapshot(data, directory=tmp_path, cluster="east")

    assert [p.name for p in tmp_path.iterdir()] == ["east.yaml"]
    assert yaml.safe_load((tmp_path / "east.yaml").read_text())["items"][0]["kind"] == "Node"


@pytest.mark.parametrize("name", ["", "../east", ".hidden", "a/b"])
def test_write_snapshot_refuses_names_that_are_not_file_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="not a cluster name"):
        write_snapshot({"kind": "List", "items": []}, directory=tmp_path, cluster=name)
