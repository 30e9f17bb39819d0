"""The live source reads every cluster through the real client from fake API servers."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from reconciler.core.config import ClusterConfig
from reconciler.status.kube_connect import api_client_for, kubeconfig_files
from reconciler.status.live import PAGE_SIZE, read_live

from .conftest import cluster
from .fake_apiserver import (
    FakeFleet,
    node,
    owner,
    pod,
    ray_object,
    ray_service,
    workload,
    write_kubeconfig,
)

READ_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def read(fleet: FakeFleet, *names: str, **options: object) -> dict[str, object]:
    sleeps: list[float] = []
    states = read_live(
        [cluster(name) for name in names],
        kubeconfig=str(fleet.kubeconfig),
        sleep=sleeps.append,
        now=lambda: READ_AT,
        **options,  # type: ignore[arg-type]
    )
    return {"sleeps": sleeps, **states}


def populate_east(fleet: FakeFleet) -> None:
    rs_owner = owner("Deployment", "web")
    fleet["east"].add(
        node("east-1", cpu="16", memory="64Gi", gpu="4", labels={"zone": "a"}),
        node("east-2", ready=False),
        workload("Deployment", "web"),
        workload("ReplicaSet", "web-5d9", owned_by=rs_owner),
        pod("web-5d9-a", node_name="east-1", owned_by=owner("ReplicaSet", "web-5d9")),
        pod("web-5d9-b", node_name=None, owned_by=owner("ReplicaSet", "web-5d9"), cpu="2"),
        workload("StatefulSet", "db"),
        workload("Job", "train"),
        ray_service("serve", active="serve-raycluster-abc"),
        ray_object("RayCluster", "serve-raycluster-abc", owned_by=owner("RayService", "serve")),
        ray_object("RayJob", "batch"),
    )


def test_two_clusters_are_read_with_every_kind(fleet: FakeFleet) -> None:
    populate_east(fleet)
    fleet["west"].add(node("west-1"), pod("solo", node_name="west-1"))

    states = read(fleet, "east", "west")

    east, west = states["east"], states["west"]
    assert east.known and west.known, (east.reason, west.reason)
    assert east.read_at == READ_AT
    assert [n.name for n in east.nodes] == ["east-1", "east-2"]
    assert east.nodes[0].allocatable["nvidia.com/gpu"] == 4000
    assert east.nodes[0].labels["zone"] == "a"
    assert not east.nodes[1].ready
    pending = next(p for p in east.pods if p.name == "web-5d9-b")
    assert (pending.phase, pending.node, pending.shape.requests["cpu"]) == ("Pending", "", 2000)
    assert pending.owners[0].kind == "ReplicaSet"
    assert pending.condition("PodScheduled").reason == "Unschedulable"  # type: ignore[union-attr]
    kinds = sorted(o.kind for o in east.objects)
    assert kinds == [
        "Deployment", "Job", "RayCluster", "RayJob", "RayService", "ReplicaSet", "StatefulSet"
    ]  # fmt: skip
    service = next(o for o in east.objects if o.kind == "RayService")
    assert service.active_cluster == "serve-raycluster-abc"
    assert east.skipped == ()
    assert [p.name for p in west.pods] == ["solo"]
    assert states["sleeps"] == []


def test_every_request_carries_a_page_limit_and_the_token(fleet: FakeFleet) -> None:
    fleet["east"].add(node("east-1"))

    read(fleet, "east")

    for plural in ("nodes", "pods", "replicasets", "jobs", "rayservices"):
        assert fleet["east"].requested(plural) == [{"limit": str(PAGE_SIZE)}]


def test_a_list_is_read_page_by_page_with_continue(fleet: FakeFleet, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("reconciler.status.live.PAGE_SIZE", 2)
    fleet["east"].add(node("node-a"), *(pod(f"p{i}") for i in range(6)))

    states = read(fleet, "east")

    assert [p.name for p in states["east"].pods] == [f"p{i}" for i in range(6)]
    asked = fleet["east"].requested("pods")
    assert [q.get("continue") for q in asked] == [None, "0-2", "0-4"]


def test_an_expired_continue_restarts_the_list_once(fleet: FakeFleet, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("reconciler.status.live.PAGE_SIZE", 2)
    fleet["east"].add(node("node-a"), *(pod(f"p{i}") for i in range(5)))
    fleet["east"].expire_continue("pods")

    states = read(fleet, "east")

    assert states["east"].known
    assert [p.name for p in states["east"].pods] == [f"p{i}" for i in range(5)]  # no duplicates
    asked = [q.get("continue") for q in fleet["east"].requested("pods")]
    assert asked == [None, "0-2", None, "0-2", "0-4"]


def test_a_list_expiring_twice_leaves_the_cluster_unknown(fleet: FakeFleet, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("reconciler.status.live.PAGE_SIZE", 2)
    fleet["east"].add(node("node-a"), *(pod(f"p{i}") for i in range(5)))
    fleet["east"].expire_continue("pods", times=2)

    states = read(fleet, "east")

    assert not states["east"].known
    assert states["east"].reason == "list of pods expired twice (410 Gone): no consistent list"
    assert states["east"].pods == ()


def test_a_cluster_without_kuberay_has_no_ray_objects(fleet: FakeFleet) -> None:
    fleet["east"].add(node("east-1"), workload("Job", "train"))
    fleet["east"].ray_installed = False

    states = read(fleet, "east")

    assert states["east"].known, states["east"].reason
    assert [o.kind for o in states["east"].objects] == ["Job"]
    assert states["east"].unserved_kinds == {"RayService", "RayCluster", "RayJob"}


def test_a_partial_kuberay_install_is_told_kind_by_kind(fleet: FakeFleet) -> None:
    """Seen on a real API server: RayService and RayCluster served, RayJob not."""
    fleet["east"].add(node("east-1"))
    fleet["east"].unserved = {"rayjobs"}

    states = read(fleet, "east")

    assert states["east"].known, states["east"].reason
    assert states["east"].unserved_kinds == {"RayJob"}


def test_several_kubeconfig_files_merge_like_kubectl(fleet: FakeFleet, tmp_path: Path) -> None:
    east, west = fleet["east"], fleet["west"]
    first = write_kubeconfig(tmp_path / "first", {"east": (east.url, east.token)})
    second = write_kubeconfig(tmp_path / "second", {"west": (west.url, west.token)})
    east.add(node("east-1"))
    west.add(node("west-1"))

    states = read_live(
        [cluster("east"), cluster("west")],
        kubeconfig=os.pathsep.join([str(first), str(second)]),
        sleep=lambda _: None,
    )

    assert [n.name for n in states["east"].nodes] == ["east-1"]
    assert [n.name for n in states["west"].nodes] == ["west-1"]


def test_kubeconfig_env_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/a:/b")
    assert kubeconfig_files() == "/a:/b"
    assert kubeconfig_files("/given") == "/given"


def test_the_kubeconfig_env_variable_is_used_without_a_flag(
    fleet: FakeFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
    fleet["west"].add(node("west-1"))

    states = read_live([cluster("west")], sleep=lambda _: None)

    assert [n.name for n in states["west"].nodes] == ["west-1"]


def test_an_unknown_context_is_an_unknown_cluster(fleet: FakeFleet) -> None:
    states = read_live(
        [ClusterConfig(name="ghost", context="ctx-ghost"), ClusterConfig(name="bare")],
        kubeconfig=str(fleet.kubeconfig),
    )

    assert states["ghost"].reason.startswith("kubeconfig: no context 'ctx-ghost' in ")
    assert states["bare"].reason == "no kubeconfig context set for this cluster in fleet.yaml"


def test_in_cluster_config_uses_the_service_account(
    fleet: FakeFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes.config import incluster_config

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text(fleet["east"].token)
    ca.write_text("not used over http")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(fleet["east"].server.port))

    api = api_client_for("in-cluster")

    assert api.configuration.host == f"https://127.0.0.1:{fleet['east'].server.port}"
    assert api.configuration.retries is False
    assert api.configuration.api_key["BearerToken"].endswith(fleet["east"].token)
    api.close()


def test_no_clusters_read_nothing() -> None:
    assert read_live([]) == {}


@pytest.mark.parametrize(
    "spec",
    [
        {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
        {
            "containers": [{"name": "a", "resources": {"limits": {"cpu": "2"}}}],
            "overhead": {"cpu": "100m"},
        },
        {
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}],
            "initContainers": [
                {"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
                {"name": "i", "resources": {"requests": {"cpu": "3"}}},
            ],
            "nodeSelector": {"zone": "a"},
            "tolerations": [{"key": "gpu", "operator": "Exists"}],
        },
    ],
)
def test_pods_of_one_template_get_the_shape_the_rule_gives(spec: dict[str, object]) -> None:
    from reconciler.status.parse import cluster_state_from_items
    from reconciler.workloads.pod_spec import shape_from_pod_spec

    items = [
        {"kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "t"}, "spec": spec}
        for i in range(3)
    ]
    state = cluster_state_from_items(items, cluster="c")

    for i, found in enumerate(state.pods):
        assert found.shape == shape_from_pod_spec(spec, name=f"t/p{i}", namespace="t")
    assert state.pods[0].shape.requests is not state.pods[1].shape.requests


def test_a_bad_quantity_is_skipped_on_every_pod_that_has_it() -> None:
    from reconciler.status.parse import cluster_state_from_items

    spec = {"containers": [{"name": "a", "resources": {"requests": {"cpu": "lots"}}}]}
    items = [{"kind": "Pod", "metadata": {"name": f"p{i}"}, "spec": spec} for i in range(2)]

    state = cluster_state_from_items(items, cluster="c")

    assert state.pods == () and len(state.skipped) == 2


def test_the_reader_role_grants_exactly_what_is_read() -> None:
    import yaml

    from reconciler.status.live import RESOURCES

    path = Path(__file__).resolve().parents[2] / "deploy" / "rbac-reader.yaml"
    documents = list(yaml.safe_load_all(path.read_text()))
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    granted = {
        (group, resource)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    read = {(r.api_version.rpartition("/")[0], r.plural) for r in RESOURCES}
    assert granted == read
    assert all(sorted(rule["verbs"]) == ["get", "list", "watch"] for rule in role["rules"])
    assert [d["kind"] for d in documents] == ["ClusterRole", "ClusterRoleBinding"]
