"""Replicas of a Deployment that leaves them to a HorizontalPodAutoscaler.

A Deployment applied without `spec.replicas` keeps whatever its HPA set on the cluster
(the engines leave the field alone), so one copy of the group needs as many pods as the
live Deployment has now: its `spec.replicas` on the group's current cluster. When that is
not known (the Deployment is not there), the HPA will scale it to at least its
`minReplicas` (default 1, as Kubernetes): the live HPA's, else the group's own rendered
one. Without an HPA either, Kubernetes' default of 1 replica holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.fleet.model import Manifest
from reconciler.status.model import ClusterState

_HPA = "HorizontalPodAutoscaler"
_HPA_DEFAULT_MIN = 1
_KUBERNETES_DEFAULT = 1

Key = tuple[str, str]  # (namespace, Deployment name)


@dataclasses.dataclass(frozen=True)
class LiveScale:
    """One cluster's Deployments' replicas and their HPAs' minReplicas, by (namespace, name)."""

    replicas: Mapping[Key, int] = dataclasses.field(default_factory=dict)
    minimums: Mapping[Key, int] = dataclasses.field(default_factory=dict)


def live_scale(state: ClusterState | None) -> LiveScale:
    """Index a known cluster's Deployments and HPAs (empty for an unknown one)."""
    if state is None or not state.known:
        return LiveScale()
    replicas: dict[Key, int] = {}
    minimums: dict[Key, int] = {}
    for obj in state.objects:
        if obj.kind == "Deployment" and obj.replicas is not None:
            replicas[(obj.namespace, obj.name)] = obj.replicas
        elif obj.kind == _HPA and obj.scale_target.startswith("Deployment/"):
            target = obj.scale_target.partition("/")[2]
            minimums[(obj.namespace, target)] = _minimum(obj.min_replicas)
    return LiveScale(replicas=replicas, minimums=minimums)


def left_to_autoscaler(manifest: Manifest) -> bool:
    """An apps/v1 Deployment whose spec does not set replicas."""
    body = manifest.body
    spec = body.get("spec")
    return (
        manifest.kind == "Deployment"
        and body.get("apiVersion") == "apps/v1"
        and isinstance(spec, Mapping)
        and spec.get("replicas") is None
    )


def autoscaled_replicas(
    manifest: Manifest, *, live: LiveScale, rendered: Sequence[Manifest]
) -> tuple[int, str]:
    """How many replicas a Deployment without `replicas` needs, and where that came from."""
    key = (manifest.namespace, manifest.name)
    if key in live.replicas:
        return live.replicas[key], "the live Deployment's spec.replicas"
    if key in live.minimums:
        return live.minimums[key], "its live HorizontalPodAutoscaler's minReplicas"
    for other in rendered:
        if other.kind == _HPA and other.namespace == manifest.namespace:
            spec = _mapping(other.body.get("spec"))
            target = _mapping(spec.get("scaleTargetRef"))
            if (target.get("kind"), target.get("name")) == ("Deployment", manifest.name):
                minimum = spec.get("minReplicas")
                count = _minimum(minimum if isinstance(minimum, int) else None)
                return count, "its HorizontalPodAutoscaler's minReplicas"
    return _KUBERNETES_DEFAULT, "no HorizontalPodAutoscaler: Kubernetes' default"


def with_replicas(body: Mapping[str, Any], replicas: int) -> dict[str, Any]:
    """A copy of a Deployment's body with spec.replicas set."""
    return {**body, "spec": {**_mapping(body.get("spec")), "replicas": replicas}}


def _minimum(value: int | None) -> int:
    return value if value is not None and value >= 1 else _HPA_DEFAULT_MIN


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
