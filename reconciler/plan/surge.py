"""Rollout surge: what one workload's change makes its cluster hold at once, by the rules of
the controller that rolls it out (KubeRay, the Deployment and StatefulSet controllers).

Pure: manifests in, a Rollout out. The pods come from the same demand rule as everything
else (workloads.registry.demand_of); only which of them appear beside the old ones, and how
many old ones are gone first, is decided here.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from reconciler.plan.fit import shape_keys_of
from reconciler.workloads.demand import WorkloadDemand
from reconciler.workloads.registry import demand_of
from reconciler.workloads.shapes import PodShape

# Fields KubeRay leaves out of the rayClusterConfig hash: changing only these scales the
# active RayCluster in place (FACTS.md; generateHashWithoutReplicasAndWorkersToDelete).
_RAY_SCALE_FIELDS = ("replicas", "minReplicas", "maxReplicas", "workersToDelete")


@dataclasses.dataclass(frozen=True)
class Rollout:
    """One workload's change: the new pods that must land while `released` old ones are gone."""

    workload: str  # "RayService prediction/ray-pred"
    new: tuple[PodShape, ...]
    released: int = 0  # old pods of the workload removed before the new ones must fit
    why: str = ""  # the rule, in plain words
    key: tuple[str, str, str] = ("", "", "")  # (kind, namespace, name) of the workload


def rollout_of(
    head: Mapping[str, Any],
    *,
    base: Mapping[str, Any] | None,
    namespace: str,
    zero_downtime: bool = True,
) -> Rollout | None:
    """The rollout one manifest's change starts; None when it creates no pods or is unchanged.

    `base` is the same object before the change (None: new). `zero_downtime` is False when
    the cluster's KubeRay operator runs with ENABLE_ZERO_DOWNTIME=false. Raises
    WorkloadError for a manifest the demand rule refuses.
    """
    if base == head:
        return None
    demand = demand_of(head, default_namespace=namespace)
    if demand is None:
        return None
    rollout = _rollout(head, base, demand=demand, namespace=namespace, zero_downtime=zero_downtime)
    return dataclasses.replace(rollout, key=(demand.kind, demand.namespace, demand.name))


def _rollout(
    head: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    *,
    demand: WorkloadDemand,
    namespace: str,
    zero_downtime: bool,
) -> Rollout:
    label = f"{demand.kind} {demand.namespace}/{demand.name}"
    if base is None:
        return Rollout(label, demand.shapes, why="new: every pod is created")
    old = demand_of(base, default_namespace=namespace)
    old_shapes = old.shapes if old is not None else ()
    kind = demand.kind
    if kind == "RayService":
        return _ray_service(
            head,
            base,
            label=label,
            shapes=demand.shapes,
            old=old_shapes,
            namespace=namespace,
            zero_downtime=zero_downtime,
        )
    if kind in ("Deployment", "StatefulSet") and _spec(head).get("template") == _spec(base).get(
        "template"
    ):
        return _growth(label, demand.shapes, old_shapes, why="scaled, the pods unchanged")
    if kind == "Deployment":
        return _deployment(head, label=label, shapes=demand.shapes, old=len(old_shapes))
    if kind == "StatefulSet":
        strategy = _mapping(_spec(head).get("updateStrategy")).get("type") or "RollingUpdate"
        if strategy == "OnDelete":
            return Rollout(label, (), why="updateStrategy OnDelete: pods change when deleted")
        # Pods are replaced one at a time, highest ordinal first: no surge.
        return Rollout(
            label,
            demand.shapes[:1],
            released=1,
            why="StatefulSet RollingUpdate: one pod at a time replaces an old one (no surge)",
        )
    return Rollout(
        label,
        demand.shapes,
        released=len(old_shapes),
        why="changed: the new pods replace the old ones",
    )


def _ray_service(
    head: Mapping[str, Any],
    base: Mapping[str, Any],
    *,
    label: str,
    shapes: tuple[PodShape, ...],
    old: tuple[PodShape, ...],
    namespace: str,
    zero_downtime: bool,
) -> Rollout:
    """KubeRay's rule: a rayClusterConfig change (beyond scale) starts a second RayCluster."""
    new_config = _mapping(_spec(head).get("rayClusterConfig"))
    old_config = _mapping(_spec(base).get("rayClusterConfig"))
    if _unscaled(new_config) == _unscaled(old_config) or _appended_groups(new_config, old_config):
        return _growth(
            label,
            shapes,
            old,
            why="rayClusterConfig scaled or worker groups "
            "appended: the RayCluster is updated in place",
        )
    strategy = _mapping(_spec(head).get("upgradeStrategy")).get("type")
    if strategy is None and not zero_downtime:
        return Rollout(
            label,
            (),
            why="the operator runs with ENABLE_ZERO_DOWNTIME=false: "
            "KubeRay does not upgrade (the change waits)",
        )
    if strategy == "None":
        return Rollout(
            label, (), why="upgradeStrategy None: KubeRay does not upgrade (the change waits)"
        )
    if strategy == "NewClusterWithIncrementalUpgrade":
        # ray-project/kuberay ray-operator/controllers/ray/rayservice_controller.go,
        # constructRayClusterForRayService: the pending cluster of an incremental upgrade is
        # created with every worker group's replicas unset, so it starts at minReplicas and
        # the autoscaler grows it as target_capacity rises by maxSurgePercent while the
        # active one shrinks. What must fit at once: the new head and minReplicas workers.
        started = copy.deepcopy(dict(head))
        for group in _mapping(started["spec"]["rayClusterConfig"]).get("workerGroupSpecs") or ():
            if isinstance(group, dict):
                group.pop("replicas", None)
        begun = demand_of(started, default_namespace=namespace)
        return Rollout(
            label,
            begun.shapes if begun else (),
            why="NewClusterWithIncremental"
            "Upgrade: a new RayCluster beside the old one, from its head and "
            "minReplicas workers up",
        )
    return Rollout(
        label,
        shapes,
        why="zero-downtime upgrade: a whole new RayCluster beside the old one until it is ready",
    )


def _deployment(
    head: Mapping[str, Any], *, label: str, shapes: tuple[PodShape, ...], old: int
) -> Rollout:
    """The Deployment controller's fenceposts: maxSurge rounds up, maxUnavailable down."""
    strategy = _mapping(_spec(head).get("strategy"))
    if strategy.get("type") == "Recreate":
        return Rollout(label, shapes, released=old, why="Recreate: every old pod goes first")
    rolling = _mapping(strategy.get("rollingUpdate"))
    replicas = len(shapes)
    surge = _scaled(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # what the controller does (deployment/util ResolveFenceposts)
    if unavailable == 0:
        return Rollout(
            label,
            shapes[:surge],
            why=f"RollingUpdate: {surge} new pod(s) (maxSurge) "
            "beside every old one (maxUnavailable 0)",
        )
    # The rollout frees room as it goes: it stalls only if no new pod fits once
    # maxUnavailable old ones are gone (DESIGN, decision 9).
    return Rollout(
        label,
        shapes[:1],
        released=min(unavailable, old),
        why=f"RollingUpdate: a new pod once {unavailable} old one(s) are gone (maxUnavailable)",
    )


def _growth(
    label: str, shapes: tuple[PodShape, ...], old: tuple[PodShape, ...], *, why: str
) -> Rollout:
    """The pods the change adds: the new shapes that no old pod already matches."""
    left = collections.Counter(shape_keys_of(old))
    added = []
    for shape, key in zip(shapes, shape_keys_of(shapes), strict=True):
        if left[key] > 0:
            left[key] -= 1
        else:
            added.append(shape)
    return Rollout(label, tuple(added), why=why)


def _scaled(raw: object, total: int, *, round_up: bool) -> int:
    """An int-or-percent as kube scales it (GetScaledValueFromIntOrPercent)."""
    if isinstance(raw, int):
        return max(raw, 0)
    text = str(raw).strip()
    if text.endswith("%") and text[:-1].isdigit():
        value = int(text[:-1]) * total / 100
        return math.ceil(value) if round_up else math.floor(value)
    return int(text) if text.isdigit() else 0


def _unscaled(config: Mapping[str, Any]) -> object:
    """rayClusterConfig without the fields KubeRay's hash ignores."""
    trimmed = dict(config)
    trimmed["workerGroupSpecs"] = [
        {k: v for k, v in _mapping(g).items() if k not in _RAY_SCALE_FIELDS}
        for g in config.get("workerGroupSpecs") or ()
    ]
    return trimmed


def _appended_groups(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether the change only adds worker groups at the end (KubeRay updates in place)."""
    old_groups = list(old.get("workerGroupSpecs") or ())
    new_groups = list(new.get("workerGroupSpecs") or ())
    if len(new_groups) <= len(old_groups):
        return False
    return _unscaled({**new, "workerGroupSpecs": new_groups[: len(old_groups)]}) == _unscaled(old)


def _spec(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(manifest.get("spec"))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
