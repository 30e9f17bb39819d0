"""The snapshot source: kubectl `kind: List` files per cluster; anything wrong → unknown."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.status.snapshot import read_snapshot, read_snapshots

NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "n1", "labels": {"zone": "a"}},
    "spec": {"taints": [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]},
    "status": {
        "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True"}],
    },
}


def pod(name: str, cpu: str, **extra: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": True}
            ],
        },
        "spec": {
            "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}],
            **extra,
        },
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient cpu.",
                    "lastTransitionTime": "2026-11-28T12:00:00Z",
                }
            ],
        },
    }


def as_list(*items: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": list(items),
        "metadata": {"resourceVersion": ""},
    }


def test_a_kubectl_list_becomes_a_known_cluster_state(tmp_path: Path) -> None:
    (tmp_path / "onprem.json").write_text(json.dumps(as_list(NODE, pod("p", "500m"))))
    state = read_snapshot(tmp_path, cluster="onprem")
    assert state.known and state.skipped == ()
    (node,) = state.nodes
    assert node.allocatable == {"cpu": 8000, "memory": 32 * 2**30 * 1000, "pods": 110_000}
    assert node.taints[0].key == "gpu" and node.ready
    (parsed,) = state.pods
    assert parsed.shape.requests == {"cpu": 500}
    assert parsed.condition("PodScheduled").reason == "Unschedulable"  # type: ignore[union-attr]
    assert parsed.owners[0].kind == "ReplicaSet"


def test_a_pod_with_a_garbage_quantity_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps(as_list(NODE, pod("bad", "lots"), pod("ok", "1"))))
    state = read_snapshot(tmp_path, cluster="c")
    assert [p.name for p in state.pods] == ["ok"]
    assert state.skipped and "Pod ns/bad" in state.skipped[0] and "'lots'" in state.skipped[0]


def test_missing_unreadable_and_malformed_files_make_the_cluster_unknown(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("items: [\n")
    (tmp_path / "odd.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "short.yaml").write_text("kind: List\nitems: nope\n")
    states = read_snapshots(tmp_path, clusters=["gone", "bad", "odd", "short"])
    assert {name: s.known for name, s in states.items()} == dict.fromkeys(states, False)
    assert "no snapshot file gone.yaml" in states["gone"].reason
    assert "invalid YAML" in states["bad"].reason
    assert "not a kind: List" in states["odd"].reason
    assert "items is not a list" in states["short"].reason


def test_yaml_and_json_snapshots_read_the_same(tmp_path: Path) -> None:
    import yaml

    data = as_list(NODE, pod("p", "250m"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "b" / "x.json").write_text(json.dumps(data))
    a = read_snapshot(tmp_path / "a", cluster="x")
    b = read_snapshot(tmp_path / "b", cluster="x")
    assert (a.nodes, a.pods) == (b.nodes, b.pods)


def test_pods_bound_to_nodes_the_read_does_not_have_make_it_inconsistent(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps(as_list(pod("p", "1", nodeName="ghost-1"))))
    state = read_snapshot(tmp_path, cluster="c")
    assert not state.known
    assert state.reason.startswith("inconsistent read: pods are bound to 1 node(s) missing")
    assert "ghost-1" in state.reason


def test_a_node_without_allocatable_or_capacity_is_skipped_and_its_pods_make_it_unknown(
    tmp_path: Path,
) -> None:
    empty = {**NODE, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    (tmp_path / "c.json").write_text(json.dumps(as_list(empty, pod("p", "1", nodeName="n1"))))
    state = read_snapshot(tmp_path, cluster="c")
    assert not state.known
    assert "Node n1: no allocatable or capacity in its status" in state.reason
    (tmp_path / "d.json").write_text(json.dumps(as_list(empty)))
    alone = read_snapshot(tmp_path, cluster="d")
    assert alone.known and alone.nodes == ()
    assert alone.skipped == ("Node n1: no allocatable or capacity in its status",)


def test_a_node_that_joined_during_the_read_leaves_its_pods_out_not_the_cluster(
    tmp_path: Path,
) -> None:
    """Nodes are listed before pods: a pod on a node that joined in between is no mystery."""
    pods = [pod("here", "1", nodeName="n1"), pod("new", "1", nodeName="n2")]
    (tmp_path / "c.json").write_text(json.dumps(as_list(NODE, *pods)))
    state = read_snapshot(tmp_path, cluster="c")
    assert state.known
    assert [n.name for n in state.nodes] == ["n1"]
    assert {p.name for p in state.pods} == {"here", "new"}  # bound pods are never stuck
    assert len(state.skipped) == 1
    assert state.skipped[0].startswith("Pod ns/new: bound to node n2, which is not in the")


def test_a_ray_clusters_state_and_desired_workers_are_read(tmp_path: Path) -> None:
    """The make-before-break and `auto` rules read them (reconciler/plan/phases.py)."""
    from reconciler.plan.phases import ray_cluster_status

    ray_cluster = {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "ray-pred-x7k2p", "namespace": "prediction", "uid": "rc"},
        "status": {"state": "ready", "desiredWorkerReplicas": 3},
    }
    (tmp_path / "c.json").write_text(json.dumps(as_list(NODE, ray_cluster)))

    (found,) = read_snapshot(tmp_path, cluster="c").objects

    status = ray_cluster_status(found)
    assert (status.name, status.state, status.desired_workers) == ("ray-pred-x7k2p", "ready", 3)


def test_a_snapshot_keeps_the_version_and_the_kinds_the_scheduler_reads(tmp_path: Path) -> None:
    # The snapshot command writes serverVersion; namespaces' labels serve namespaceSelector,
    # RuntimeClasses their overhead.
    namespace = {"kind": "Namespace", "metadata": {"name": "ns", "labels": {"team": "blue"}}}
    runtime = {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": "kata"},
        "handler": "kata",
        "overhead": {"podFixed": {"cpu": "250m"}},
    }
    data = {**as_list(NODE, namespace, runtime), "serverVersion": {"major": "1", "minor": "20+"}}
    (tmp_path / "x.json").write_text(json.dumps(data))
    state = read_snapshot(tmp_path, cluster="x")
    assert state.kube_minor == 20
    assert state.namespace_labels == {"ns": {"team": "blue"}}
    assert state.runtime_overheads == {"kata": {"cpu": 250}}
    assert state.objects == ()
    (tmp_path / "x.json").unlink()
    import yaml

    (tmp_path / "x.yaml").write_text(yaml.safe_dump(as_list(NODE)))
    assert read_snapshot(tmp_path, cluster="x").kube_minor is None
