"""Builders for the planner's inputs: nodes, pods, cluster states, manifests, groups, fleets.

Tests state only what they are about; everything else has a plain default. Amounts are
given as people write them ("8", "32Gi") and turned into milli-units here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.core.config import ClusterConfig, FleetConfig, GroupPolicy
from reconciler.core.quantity import to_milli
from reconciler.fleet.model import Fleet, Group, Manifest
from reconciler.plan.fit import FitResult, free_on_nodes
from reconciler.plan.sure_fit import FilterIds, RoomBounds, needs_of, surely_fits
from reconciler.status.model import (
    ClusterState,
    Condition,
    KubeObject,
    Node,
    OwnerRef,
    Pod,
    Taint,
)
from reconciler.workloads.shapes import PodShape, Requirement, Toleration

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
GI = 2**30 * 1000
MI = 2**20 * 1000
CAPACITY_MESSAGE = (
    "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
    "2 No preemption victims found for incoming pod."
)


def cores(amount: float) -> int:
    """CPU cores as milli-units (0.5 → 500)."""
    return round(amount * 1000)


def minutes_ago(minutes: float) -> dt.datetime:
    """A moment `minutes` before NOW."""
    return NOW - dt.timedelta(minutes=minutes)


def resources(cpu: Any = None, memory: Any = None, gpu: Any = None, **more: Any) -> dict[str, int]:
    """A milli-unit resource mapping from quantities; `gpu` means nvidia.com/gpu."""
    raw = {"cpu": cpu, "memory": memory, "nvidia.com/gpu": gpu, **more}
    return {name: to_milli(value) for name, value in raw.items() if value is not None}


# ---- cluster status --------------------------------------------------------------------


def node(
    name: str,
    cpu: Any = "8",
    memory: Any = "32Gi",
    gpu: Any = None,
    *,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Taint] = (),
    ready: bool = True,
    unschedulable: bool = False,
    pods: Any = "110",
) -> Node:
    """A node with that allocatable (defaults: 8 CPU, 32Gi, 110 pods)."""
    return Node(
        name=name,
        allocatable=resources(cpu, memory, gpu, pods=pods),
        labels=dict(labels or {}),
        taints=tuple(taints),
        ready=ready,
        unschedulable=unschedulable,
    )


def shape(
    name: str = "default/p",
    cpu: Any = "1",
    memory: Any = "1Gi",
    gpu: Any = None,
    *,
    tolerations: Sequence[Toleration] = (),
    node_selector: Mapping[str, str] | None = None,
    affinity: Sequence[Sequence[Requirement]] = (),
    **more: Any,
) -> PodShape:
    """A pod shape; `affinity` is a list of terms (ORed), each a list of requirements (ANDed)."""
    return PodShape(
        name=name,
        requests=resources(cpu, memory, gpu, **more),
        tolerations=tuple(tolerations),
        node_selector=dict(node_selector or {}),
        required_affinity=tuple(tuple(term) for term in affinity),
    )


def owner(kind: str, name: str, *, uid: str = "", controller: bool = True) -> OwnerRef:
    """A controller ownerReference."""
    return OwnerRef(kind=kind, name=name, uid=uid, controller=controller)


def pod(
    name: str,
    *,
    namespace: str = "default",
    cpu: Any = "1",
    memory: Any = "1Gi",
    gpu: Any = None,
    node: str = "",
    phase: str | None = None,
    unschedulable: str | None = None,
    since: dt.datetime | None = None,
    reason: str = "Unschedulable",
    scheduled: bool = False,
    owners: Sequence[OwnerRef] = (),
    labels: Mapping[str, str] | None = None,
    request_shape: PodShape | None = None,
) -> Pod:
    """A pod: bound when `node` is given (Running), else Pending.

    `unschedulable` is the scheduler's message: the pod then has PodScheduled=False with
    `reason` since `since` (default 10 minutes ago). `scheduled` gives a pending pod
    PodScheduled=True (bound, containers not started yet).
    """
    conditions: tuple[Condition, ...] = ()
    if unschedulable is not None:
        conditions = (
            Condition(
                type="PodScheduled",
                status="False",
                reason=reason,
                message=unschedulable,
                last_transition=since or minutes_ago(10),
            ),
        )
    elif scheduled:
        conditions = (Condition(type="PodScheduled", status="True", last_transition=since),)
    return Pod(
        namespace=namespace,
        name=name,
        shape=request_shape or shape(f"{namespace}/{name}", cpu, memory, gpu),
        node=node,
        phase=phase or ("Running" if node and not scheduled else "Pending"),
        conditions=conditions,
        owners=tuple(owners),
        labels=dict(labels or {}),
        created=minutes_ago(60),
    )


def kube_object(
    kind: str,
    name: str,
    *,
    namespace: str = "default",
    uid: str = "",
    owners: Sequence[OwnerRef] = (),
    labels: Mapping[str, str] | None = None,
) -> KubeObject:
    """An owner object (ReplicaSet, Job, RayCluster, ...) as the status source reads it."""
    return KubeObject(
        kind=kind,
        namespace=namespace,
        name=name,
        uid=uid,
        owners=tuple(owners),
        labels=dict(labels or {}),
    )


def ray_service_object(
    name: str,
    *,
    namespace: str = "default",
    upgrade_in_progress: bool | None = True,
    active: str = "",
    pending: str = "",
) -> KubeObject:
    """A RayService's status: UpgradeInProgress True/False (None: no such condition)."""
    conditions: tuple[Condition, ...] = ()
    if upgrade_in_progress is not None:
        conditions = (
            Condition(
                type="UpgradeInProgress",
                status="True" if upgrade_in_progress else "False",
                reason="BothActivePendingClustersExist"
                if upgrade_in_progress
                else "NoPendingCluster",
            ),
        )
    return KubeObject(
        kind="RayService",
        namespace=namespace,
        name=name,
        conditions=conditions,
        active_cluster=active,
        pending_cluster=pending,
    )


def cluster_state(
    name: str,
    nodes: Iterable[Node] = (),
    pods: Iterable[Pod] = (),
    objects: Iterable[KubeObject] = (),
) -> ClusterState:
    """A known cluster with these nodes, pods and objects."""
    return ClusterState(
        name=name,
        known=True,
        nodes=tuple(nodes),
        pods=tuple(pods),
        objects=tuple(objects),
        read_at=NOW,
    )


def sure(
    shapes: Sequence[PodShape],
    nodes: Sequence[Node],
    pods: Sequence[Pod] = (),
    *,
    reserve: Mapping[str, int] | None = None,
) -> FitResult | None:
    """The sure-fit bound's verdict for the shapes on a cluster of these nodes and pods
    (None: the bound proves nothing and the simulation decides)."""
    state, filter_ids = cluster_state("c", nodes, pods), FilterIds()
    return surely_fits(
        needs_of(shapes, filter_ids=filter_ids),
        cluster="c",
        free=free_on_nodes(state),
        reserve=reserve or {},
        bounds=RoomBounds(state.nodes, filter_ids),
    )


# ---- manifests -------------------------------------------------------------------------


def _requests(cpu: Any, memory: Any, gpu: Any) -> dict[str, Any]:
    wanted = {"cpu": cpu, "memory": memory, "nvidia.com/gpu": gpu}
    return {key: value for key, value in wanted.items() if value is not None}


def _pod_spec(
    cpu: Any, memory: Any, gpu: Any = None, *, name: str = "main", **extra: Any
) -> dict[str, Any]:
    container = {
        "name": name,
        "image": "busybox",
        "resources": {"requests": _requests(cpu, memory, gpu)},
    }
    return {"containers": [container], **{k: v for k, v in extra.items() if v is not None}}


def _manifest(kind: str, api_version: str, name: str, namespace: str, spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def deployment_manifest(
    name: str = "web",
    *,
    namespace: str = "default",
    replicas: Any = 1,
    cpu: Any = "1",
    memory: Any = "1Gi",
    gpu: Any = None,
    kind: str = "Deployment",
    **pod_extra: Any,
) -> dict[str, Any]:
    """A Deployment (or StatefulSet with `kind`) of `replicas` one-container pods."""
    spec = {"replicas": replicas, "template": {"spec": _pod_spec(cpu, memory, gpu, **pod_extra)}}
    return _manifest(kind, "apps/v1", name, namespace, spec)


def stateful_set_manifest(
    name: str = "db", *, claims: Sequence[str] = ("data",), **options: Any
) -> dict[str, Any]:
    """A StatefulSet with volumeClaimTemplates (data that does not travel)."""
    manifest = deployment_manifest(name, kind="StatefulSet", **options)
    manifest["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": c}} for c in claims]
    return manifest


def job_manifest(
    name: str = "batch", *, namespace: str = "default", cpu: Any = "1", memory: Any = "1Gi"
) -> dict[str, Any]:
    """A one-pod batch/v1 Job."""
    spec = {"template": {"spec": _pod_spec(cpu, memory)}}
    return _manifest("Job", "batch/v1", name, namespace, spec)


def pod_manifest(
    name: str = "solo", *, namespace: str = "default", cpu: Any = "1", memory: Any = "1Gi"
) -> dict[str, Any]:
    """A bare Pod."""
    return _manifest("Pod", "v1", name, namespace, _pod_spec(cpu, memory))


def pvc_manifest(name: str = "data", *, namespace: str = "default") -> dict[str, Any]:
    """A PersistentVolumeClaim."""
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    return _manifest("PersistentVolumeClaim", "v1", name, namespace, spec)


def worker(
    group_name: str = "workers",
    *,
    replicas: int = 1,
    cpu: Any = "2",
    memory: Any = "4Gi",
    gpu: Any = None,
) -> dict[str, Any]:
    """One entry of a RayCluster's workerGroupSpecs."""
    return {
        "groupName": group_name,
        "replicas": replicas,
        "minReplicas": 0,
        "maxReplicas": 100,
        "rayStartParams": {},
        "template": {"spec": _pod_spec(cpu, memory, gpu, name="ray-worker")},
    }


def ray_service_manifest(
    name: str = "ray-pred",
    *,
    namespace: str = "default",
    head_cpu: Any = "2",
    head_memory: Any = "8Gi",
    workers: Sequence[dict[str, Any]] = (),
    autoscaling: bool = False,
) -> dict[str, Any]:
    """A RayService whose rayClusterConfig has a head and the given worker groups."""
    config: dict[str, Any] = {
        "rayVersion": "2.52.0",
        "enableInTreeAutoscaling": autoscaling,
        "headGroupSpec": {
            "rayStartParams": {},
            "template": {"spec": _pod_spec(head_cpu, head_memory, name="ray-head")},
        },
        "workerGroupSpecs": list(workers),
    }
    spec = {"serveConfigV2": "applications: []", "rayClusterConfig": config}
    return _manifest("RayService", "ray.io/v1", name, namespace, spec)


# ---- fleet -----------------------------------------------------------------------------


def group(
    name: str,
    cluster: str,
    manifests: Sequence[Mapping[str, Any]] = (),
    *,
    policy: GroupPolicy | None = None,
    **policy_fields: Any,
) -> Group:
    """A group directory clusters/<cluster>/groups/<name>/ holding `manifests` (one file each).

    Policy fields (skip_capacity_relocate=True, cooldown=..., ...) build a GroupPolicy.
    """
    path = f"clusters/{cluster}/groups/{name}"
    built = []
    for index, body in enumerate(manifests):
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        built.append(
            Manifest(
                file=f"{path}/{str(body.get('kind', 'object')).lower()}-{index}.yaml",
                body=body,
                namespace=str(metadata.get("namespace") or "default"),
            )
        )
    return Group(
        name=name,
        cluster=cluster,
        path=path,
        manifests=tuple(built),
        policy=policy or GroupPolicy(**policy_fields),
    )


def cluster_config(
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    reserve: Mapping[str, Any] | None = None,
) -> ClusterConfig:
    """One cluster of fleet.yaml."""
    return ClusterConfig(name=name, labels=dict(labels or {}), reserve=dict(reserve or {}))


def fleet(
    clusters: Sequence[ClusterConfig | str] = ("onprem", "cloud"),
    groups: Sequence[Group] = (),
) -> Fleet:
    """A fleet of these clusters (names or configs) and groups."""
    configs = [c if isinstance(c, ClusterConfig) else cluster_config(c) for c in clusters]
    return Fleet(config=FleetConfig(clusters=configs), groups=tuple(groups))


def deployment_pods(
    name: str,
    *,
    namespace: str = "default",
    count: int = 1,
    node: str = "",
    unschedulable: str | None = None,
    since: dt.datetime | None = None,
    cpu: Any = "1",
    memory: Any = "1Gi",
    gpu: Any = None,
    first: int = 0,
) -> list[Pod]:
    """Pods of Deployment `name` (owned by its ReplicaSet), bound to `node` or pending."""
    replica_set = f"{name}-5d8f7"
    return [
        pod(
            f"{replica_set}-{index:05d}",
            namespace=namespace,
            node=node,
            unschedulable=unschedulable,
            since=since,
            cpu=cpu,
            memory=memory,
            gpu=gpu,
            owners=[owner("ReplicaSet", replica_set)],
        )
        for index in range(first, first + count)
    ]


# ---- a stalled RayService upgrade (the seed's scenario) --------------------------------


def stalled_ray_group() -> Group:
    """Group ray-pred on onprem: a RayService of one 2 CPU/8Gi head and one 4 CPU/16Gi worker."""
    manifest = ray_service_manifest(
        "ray-pred",
        namespace="prediction",
        head_cpu="2",
        head_memory="8Gi",
        workers=[worker("gpu-workers", replicas=1, cpu="4", memory="16Gi")],
    )
    return group("ray-pred", "onprem", [manifest])


def stalled_ray_onprem() -> ClusterState:
    """onprem with prediction/ray-pred's upgrade stalled: the active cluster runs on o1
    (6 CPU, 24Gi, full), the pending cluster's head and worker cannot be scheduled."""
    active, pending = "ray-pred-aaaaa", "ray-pred-bbbbb"

    def ray_pods(cluster: str, *, bound: bool) -> list[Pod]:
        return [
            pod(
                f"{cluster}-{kind}",
                namespace="prediction",
                cpu=cpu,
                memory=memory,
                node="o1" if bound else "",
                unschedulable=None if bound else CAPACITY_MESSAGE,
                since=minutes_ago(7),
                labels={"ray.io/cluster": cluster},
                owners=[owner("RayCluster", cluster)],
            )
            for kind, cpu, memory in (("head", "2", "8Gi"), ("worker", "4", "16Gi"))
        ]

    objects = [
        ray_service_object("ray-pred", namespace="prediction", active=active, pending=pending),
        *(
            kube_object(
                "RayCluster", name, namespace="prediction", owners=[owner("RayService", "ray-pred")]
            )
            for name in (active, pending)
        ),
    ]
    return cluster_state(
        "onprem",
        [node("o1", cpu="6", memory="24Gi")],
        [*ray_pods(active, bound=True), *ray_pods(pending, bound=False)],
        objects,
    )
