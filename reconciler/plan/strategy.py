"""Which strategy a move uses: `auto` picks make-before-break while the current copy serves.

recreate moves the group in one commit: its pods stop on the source as they start on the
target, so whatever the source still serves is cut until the target is Ready.
make-before-break copies first and removes the source only once the copy is healthy.
`auto` (the default) takes make-before-break when the current copy is serving, recreate
otherwise. Pure: the group's pods and objects on its cluster in, a choice out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reconciler.plan.phases import RayClusterStatus
from reconciler.status.model import KubeObject, Pod

RECREATE = "recreate"
MAKE_BEFORE_BREAK = "make-before-break"
# Pods of batch work: they finish rather than serve, and a Job copied runs twice.
_BATCH_OWNERS = frozenset({"Job"})


@dataclasses.dataclass(frozen=True)
class StrategyChoice:
    """The strategy a move uses, and why, in plain words."""

    strategy: str  # recreate | make-before-break
    why: str


def choose_strategy(
    configured: str,
    *,
    pods: Sequence[Pod],
    ray_services: Sequence[KubeObject],
    ray_clusters: Sequence[RayClusterStatus],
    declared_ray_clusters: Sequence[str] = (),
) -> StrategyChoice:
    """The strategy for moving a group off its cluster (`configured`: the policy's value).

    With `auto`, the copy serves when a RayService's active RayCluster is ready, a
    RayCluster the group declares is ready, or any pod of the group outside Ray and
    batch work is Running and Ready. Serving at all is enough: recreate would cut what
    serves even when another part of the group is stuck.
    """
    if configured == RECREATE:
        return StrategyChoice(
            RECREATE, "recreate: set in the policy (what serves is cut until the target is Ready)"
        )
    if configured == MAKE_BEFORE_BREAK:
        return StrategyChoice(MAKE_BEFORE_BREAK, "make-before-break: set in the policy")
    serving = _serving(
        pods=pods,
        ray_services=ray_services,
        ray_clusters=ray_clusters,
        declared_ray_clusters=declared_ray_clusters,
    )
    if serving:
        return StrategyChoice(
            MAKE_BEFORE_BREAK, f"make-before-break: {serving}; recreate would cut it"
        )
    return StrategyChoice(
        RECREATE, "recreate: nothing of the group serves on its cluster, so nothing is cut"
    )


def ray_cluster_ready(cluster: RayClusterStatus | None, *, pods: Sequence[Pod]) -> bool:
    """Whether a RayCluster is ready to serve.

    status.state `ready`, or a Ready condition; else KubeRay's conditions (v1.3+): its head
    is Ready now (HeadPodReady) and all its pods were once (RayClusterProvisioned, set when
    state turns ready). Without any status, its head pod Running and Ready.
    """
    if cluster is not None:
        if cluster.state:
            return cluster.state == "ready"
        if cluster.condition_true("Ready"):
            return True
        if cluster.conditions:
            return cluster.condition_true("HeadPodReady") and cluster.condition_true(
                "RayClusterProvisioned"
            )
    return any(
        p.labels.get("ray.io/node-type") == "head" and _running_ready(p)
        for p in pods
        if cluster is not None and p.labels.get("ray.io/cluster") == cluster.name
    )


def _serving(
    *,
    pods: Sequence[Pod],
    ray_services: Sequence[KubeObject],
    ray_clusters: Sequence[RayClusterStatus],
    declared_ray_clusters: Sequence[str],
) -> str:
    """What serves, in words ('' when nothing does)."""
    by_name = {c.name: c for c in ray_clusters}
    for service in ray_services:
        active = service.active_cluster
        if not active:
            continue
        found = by_name.get(active) or RayClusterStatus(namespace=service.namespace, name=active)
        if ray_cluster_ready(found, pods=pods):
            return f"the active RayCluster {active} of RayService {service.name} is serving"
    for name in declared_ray_clusters:
        declared = by_name.get(name)
        if declared is not None and ray_cluster_ready(declared, pods=pods):
            return f"the RayCluster {name} is ready"
    for pod in pods:
        if pod.labels.get("ray.io/cluster") or not _running_ready(pod):
            continue
        if any(owner.kind in _BATCH_OWNERS for owner in pod.owners):
            continue
        return f"pod {pod.namespace}/{pod.name} is Running and Ready"
    return ""


def _running_ready(pod: Pod) -> bool:
    ready = pod.condition("Ready")
    return pod.phase == "Running" and ready is not None and ready.status == "True"
