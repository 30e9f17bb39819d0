"""Membership: a live pod belongs to the group whose manifests declare its top owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.fleet.model import Group
from reconciler.plan.membership import (
    declared_objects,
    object_lookup,
    pods_by_group,
    ray_service_of_cluster,
)
from reconciler.status.model import ClusterState, KubeObject, Pod
from reconciler.status.parse import cluster_state_from_items

from .builders import (
    cluster_state,
    deployment_manifest,
    group,
    job_manifest,
    kube_object,
    owner,
    pod,
    pod_manifest,
    ray_service_manifest,
    stateful_set_manifest,
)

GROUPS = (
    group("web", "onprem", [deployment_manifest("web", namespace="shop")]),
    group("batch", "onprem", [job_manifest("nightly", namespace="shop")]),
    group("db", "onprem", [stateful_set_manifest("db", namespace="shop")]),
    group("solo", "onprem", [pod_manifest("solo", namespace="shop")]),
    group("ray-pred", "onprem", [ray_service_manifest("ray-pred", namespace="ml")]),
)


def membership(
    pods: Sequence[Pod], objects: Sequence[KubeObject] = (), groups: Sequence[Group] = GROUPS
) -> dict[str, list[str]]:
    state = cluster_state("onprem", (), pods, objects)
    return _names(pods_by_group(state, declared_objects(groups)))


def _names(found: dict[str, list[Pod]]) -> dict[str, list[str]]:
    return {name: [p.name for p in pods] for name, pods in found.items()}


def test_declared_objects_index_kind_namespace_and_name() -> None:
    index = declared_objects(GROUPS)
    assert index[("Deployment", "shop", "web")] == "web"
    assert index[("RayService", "ml", "ray-pred")] == "ray-pred"
    assert ("Deployment", "default", "web") not in index


def test_pod_replica_set_deployment() -> None:
    replica_set = kube_object(
        "ReplicaSet", "web-7d9f8", namespace="shop", uid="rs-1", owners=[owner("Deployment", "web")]
    )
    web_pod = pod(
        "web-7d9f8-abcde", namespace="shop", owners=[owner("ReplicaSet", "web-7d9f8", uid="rs-1")]
    )
    assert membership([web_pod], [replica_set]) == {"web": ["web-7d9f8-abcde"]}


def test_pods_sharing_an_owner_share_a_group_unless_one_is_declared_itself() -> None:
    # The owner chain is walked once per owner; a pod declared by name still wins, and the
    # same owner name in another namespace is another owner.
    rs = owner("ReplicaSet", "web-7d9f8", uid="rs-1")
    pods = [
        pod("web-7d9f8-aaaaa", namespace="shop", owners=[rs]),
        pod("solo", namespace="shop", owners=[rs]),
        pod("web-7d9f8-bbbbb", namespace="shop", owners=[rs]),
        pod("web-7d9f8-ccccc", namespace="other", owners=[rs]),
    ]
    assert membership(pods) == {"web": ["web-7d9f8-aaaaa", "web-7d9f8-bbbbb"], "solo": ["solo"]}


def test_replica_set_not_read_falls_back_to_its_name() -> None:
    web_pod = pod("web-7d9f8-abcde", namespace="shop", owners=[owner("ReplicaSet", "web-7d9f8")])
    assert membership([web_pod]) == {"web": ["web-7d9f8-abcde"]}


def test_pod_job() -> None:
    job_pod = pod("nightly-x2x2x", namespace="shop", owners=[owner("Job", "nightly")])
    assert membership([job_pod]) == {"batch": ["nightly-x2x2x"]}


def test_pod_stateful_set() -> None:
    db_pods = [
        pod(f"db-{i}", namespace="shop", owners=[owner("StatefulSet", "db")]) for i in (0, 1)
    ]
    assert membership(db_pods) == {"db": ["db-0", "db-1"]}


def test_a_declared_bare_pod_is_its_own_owner() -> None:
    assert membership([pod("solo", namespace="shop")]) == {"solo": ["solo"]}


def test_the_controller_owner_is_followed() -> None:
    two_owners = pod(
        "web-7d9f8-abcde",
        namespace="shop",
        owners=[owner("ConfigMap", "x", controller=False), owner("ReplicaSet", "web-7d9f8")],
    )
    assert membership([two_owners]) == {"web": ["web-7d9f8-abcde"]}


def test_kuberay_pods_through_the_ray_cluster_owner_reference() -> None:
    ray_cluster = kube_object(
        "RayCluster", "ray-pred-x7k2p", namespace="ml", owners=[owner("RayService", "ray-pred")]
    )
    head = pod(
        "ray-pred-x7k2p-head-8wq9z",
        namespace="ml",
        labels={"ray.io/cluster": "ray-pred-x7k2p", "ray.io/node-type": "head"},
        owners=[owner("RayCluster", "ray-pred-x7k2p")],
    )
    assert membership([head], [ray_cluster]) == {"ray-pred": ["ray-pred-x7k2p-head-8wq9z"]}
    lookup = object_lookup(cluster_state("onprem", objects=[ray_cluster]))
    assert ray_service_of_cluster("ml", "ray-pred-x7k2p", objects=lookup) == "ray-pred"


def test_kuberay_pods_through_the_originated_from_label() -> None:
    ray_cluster = kube_object(
        "RayCluster",
        "pred-cluster",  # not the <owner>-<5 chars> form: the label decides
        namespace="ml",
        labels={
            "ray.io/originated-from-cr-name": "ray-pred",
            "ray.io/originated-from-crd": "RayService",
        },
    )
    worker = pod("w", namespace="ml", labels={"ray.io/cluster": "pred-cluster"})
    assert membership([worker], [ray_cluster]) == {"ray-pred": ["w"]}
    lookup = object_lookup(cluster_state("onprem", objects=[ray_cluster]))
    assert ray_service_of_cluster("ml", "pred-cluster", objects=lookup) == "ray-pred"


def test_ray_cluster_not_read_falls_back_to_its_name() -> None:
    worker = pod("w", namespace="ml", labels={"ray.io/cluster": "ray-pred-x7k2p"})
    assert membership([worker]) == {"ray-pred": ["w"]}
    # The fallback wants KubeRay's 5-character suffix.
    odd = pod("w", namespace="ml", labels={"ray.io/cluster": "ray-pred-blue"})
    assert membership([odd]) == {}


def test_a_declared_ray_cluster_owns_its_pods() -> None:
    groups = [group("lab", "onprem", [ray_service_manifest("lab")])]
    ray_cluster_group = group(
        "raw",
        "onprem",
        [
            {
                "apiVersion": "ray.io/v1",
                "kind": "RayCluster",
                "metadata": {"name": "raw", "namespace": "ml"},
                "spec": {},
            }
        ],
    )
    head = pod("raw-head-abcde", namespace="ml", labels={"ray.io/cluster": "raw"})
    assert membership([head], groups=[*groups, ray_cluster_group]) == {"raw": ["raw-head-abcde"]}


def test_pods_of_undeclared_owners_belong_to_no_group() -> None:
    strays = [
        pod("other-7d9f8-abcde", namespace="shop", owners=[owner("ReplicaSet", "other-7d9f8")]),
        pod("web-7d9f8-abcde", namespace="elsewhere", owners=[owner("ReplicaSet", "web-7d9f8")]),
        pod("lonely", namespace="shop"),
        pod("r", namespace="ml", labels={"ray.io/cluster": "someone-else-abcde"}),
        pod("ds-xyz", namespace="kube-system", owners=[owner("DaemonSet", "kube-proxy")]),
    ]
    assert membership(strays) == {}


def test_an_owner_loop_ends() -> None:
    looping = kube_object(
        "ReplicaSet", "spin", namespace="shop", owners=[owner("ReplicaSet", "spin")]
    )
    spinning = pod("spin-abcde", namespace="shop", owners=[owner("ReplicaSet", "spin")])
    assert membership([spinning], [looping]) == {}


# ---- from raw objects, as kubectl prints them ------------------------------------------


def _raw(kind: str, name: str, namespace: str = "ml", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, **metadata},
    }


def test_raw_status_of_a_ray_service_links_its_pods() -> None:
    items = [
        _raw(
            "RayCluster",
            "ray-pred-x7k2p",
            uid="rc-1",
            ownerReferences=[
                {
                    "apiVersion": "ray.io/v1",
                    "kind": "RayService",
                    "name": "ray-pred",
                    "uid": "rs-1",
                    "controller": True,
                }
            ],
        ),
        {
            **_raw(
                "Pod",
                "ray-pred-x7k2p-head-8wq9z",
                labels={"ray.io/cluster": "ray-pred-x7k2p"},
                ownerReferences=[
                    {
                        "apiVersion": "ray.io/v1",
                        "kind": "RayCluster",
                        "name": "ray-pred-x7k2p",
                        "uid": "rc-1",
                        "controller": True,
                    }
                ],
            ),
            "spec": {"containers": [{"name": "ray-head", "resources": {"requests": {"cpu": "1"}}}]},
        },
    ]
    state: ClusterState = cluster_state_from_items(items, cluster="onprem")
    assert _names(pods_by_group(state, declared_objects(GROUPS))) == {
        "ray-pred": ["ray-pred-x7k2p-head-8wq9z"]
    }


def test_a_ray_job_submitter_pod_belongs_to_the_ray_job_even_when_its_job_was_not_read() -> None:
    from reconciler.plan.membership import pods_by_group
    from reconciler.status.model import ClusterState, OwnerRef, Pod
    from reconciler.workloads.shapes import PodShape

    submitter = Pod(
        namespace="ml",
        name="train-abcde",
        shape=PodShape(name="ml/train-abcde", requests={"cpu": 500}),
        owners=(OwnerRef(kind="Job", name="train", uid="job-uid", controller=True),),
    )
    state = ClusterState(name="c", known=True, pods=(submitter,))
    declared = {("RayJob", "ml", "train"): "training"}
    assert pods_by_group(state, declared) == {"training": [submitter]}
