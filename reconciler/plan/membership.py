"""Which group a live pod belongs to: the group of its top owner, found through
ownerReferences and KubeRay's links, by the GitOps engine's tracking on that owner (see
plan/tracking.py) or else by the identity (kind, namespace, name) a group declares."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from reconciler.fleet.model import Group
from reconciler.plan.tracking import IDENTITY, Match, ObjectKey, Owners
from reconciler.status.model import ClusterState, KubeObject, OwnerRef, Pod

_RAY_OWNERS = ("RayService", "RayJob")
_MAX_DEPTH = 8  # owner chains are short; a longer one is a loop


def declared_objects(groups: Iterable[Group]) -> dict[ObjectKey, str]:
    """Map every object a group declares to the group's name."""
    index: dict[ObjectKey, str] = {}
    for group in groups:
        for manifest in group.manifests:
            index[(manifest.kind, manifest.namespace, manifest.name)] = group.name
    return index


@dataclasses.dataclass(frozen=True)
class Members:
    """A cluster's pods by group, and per group how many pods each rule matched."""

    pods: dict[str, list[Pod]]
    rules: dict[str, dict[str, int]]


def members(state: ClusterState, owners: Owners | Mapping[ObjectKey, str]) -> Members:
    """Group a cluster's pods by the group of their top owner (others dropped), with the rule."""
    if not isinstance(owners, Owners):
        owners = Owners(owners)
    objects = _ObjectLookup(state.objects)
    found: dict[str, list[Pod]] = {}
    rules: dict[str, dict[str, int]] = {}
    # The replicas of one workload share their owner (or RayCluster) and so their group:
    # walk the chain once per owner, not once per pod.
    by_owner: dict[tuple[str, ...], Match | None] = {}
    for pod in state.pods:
        # A pod the engine applied itself (no owners) may carry its tracking: match_pod.
        declared = owners.declared.get(("Pod", pod.namespace, pod.name)) if pod.owners else None
        key = _owner_key(pod) if declared is None else None
        if declared is not None:
            own: Match | None = (declared, IDENTITY)
        elif key is None:
            own = match_pod(pod, owners=owners, objects=objects)
        elif key in by_owner:
            own = by_owner[key]
        else:
            own = by_owner[key] = match_pod(pod, owners=owners, objects=objects)
        if own is not None:
            found.setdefault(own[0], []).append(pod)
            counts = rules.setdefault(own[0], {})
            counts[own[1]] = counts.get(own[1], 0) + 1
    return Members(pods=found, rules=rules)


def pods_by_group(
    state: ClusterState, owners: Owners | Mapping[ObjectKey, str]
) -> dict[str, list[Pod]]:
    """Group a cluster's pods by the group of their top owner (others dropped)."""
    return members(state, owners).pods


def _owner_key(pod: Pod) -> tuple[str, ...] | None:
    """What match_pod reads of a pod other than its own name; None when unsure."""
    ray_cluster = pod.labels.get("ray.io/cluster")
    if ray_cluster:
        # The owners are only walked when the RayCluster leads nowhere: key on both.
        if len(pod.owners) > 1:
            return None
        owner = pod.owners[0] if pod.owners else None
        if owner is None:
            return None  # the pod itself may be tracked: not shared with others
        return ("ray", pod.namespace, ray_cluster, owner.kind, owner.name, owner.uid)
    if len(pod.owners) != 1:
        return None
    owner = pod.owners[0]
    return ("owner", pod.namespace, owner.kind, owner.name, owner.uid)


def match_pod(pod: Pod, *, owners: Owners, objects: _ObjectLookup) -> Match | None:
    """Follow ownerReferences (and KubeRay's links) from a pod up to an object of a group."""
    own = owners.match("Pod", pod.namespace, pod.name, pod)
    if own is not None:
        return own
    ray_cluster = pod.labels.get("ray.io/cluster")
    if ray_cluster:
        found = _ray_cluster_group(pod.namespace, ray_cluster, owners=owners, objects=objects)
        if found is not None:
            return found
    return _walk_owners(pod.namespace, pod.owners, owners=owners, objects=objects)


def ray_service_of_cluster(
    namespace: str, ray_cluster: str, *, objects: _ObjectLookup
) -> str | None:
    """The RayService (or RayJob) that made a RayCluster, from its object or its name."""
    obj = objects.get("RayCluster", namespace, ray_cluster)
    if obj is not None:
        owner = next((o for o in obj.owners if o.kind in _RAY_OWNERS), None)
        if owner is not None:
            return owner.name
        origin = obj.labels.get("ray.io/originated-from-cr-name")
        if origin:
            return origin
    return None


def _ray_cluster_group(
    namespace: str, ray_cluster: str, *, owners: Owners, objects: _ObjectLookup
) -> Match | None:
    obj = objects.get("RayCluster", namespace, ray_cluster)
    group = owners.match("RayCluster", namespace, ray_cluster, obj)
    if group is not None:
        return group
    if obj is not None:
        for owner in obj.owners:
            parent = objects.by_uid.get(owner.uid) if owner.uid else None
            parent = parent or objects.get(owner.kind, namespace, owner.name)
            group = owners.match(owner.kind, namespace, owner.name, parent)
            if group is not None:
                return group
        origin = obj.labels.get("ray.io/originated-from-cr-name")
        kind = obj.labels.get("ray.io/originated-from-crd", "RayService")
        if origin:
            return owners.match(kind, namespace, origin, objects.get(kind, namespace, origin))
        return None
    # The RayCluster object was not read: KubeRay names it <owner>-<5 random characters>.
    owner_name, _, suffix = ray_cluster.rpartition("-")
    if len(suffix) == 5 and owner_name:
        for kind in _RAY_OWNERS:
            parent = objects.get(kind, namespace, owner_name)
            group = owners.match(kind, namespace, owner_name, parent)
            if group is not None:
                return group
    return None


def _walk_owners(
    namespace: str, chain: tuple[OwnerRef, ...], *, owners: Owners, objects: _ObjectLookup
) -> Match | None:
    for _ in range(_MAX_DEPTH):
        owner = next((o for o in chain if o.controller), chain[0] if chain else None)
        if owner is None:
            return None
        obj = objects.by_uid.get(owner.uid) if owner.uid else None
        obj = obj or objects.get(owner.kind, namespace, owner.name)
        group = owners.match(owner.kind, namespace, owner.name, obj)
        if group is not None:
            return group
        if obj is not None:
            chain = obj.owners
            continue
        return _guess_unread_parent(owner, namespace=namespace, owners=owners, objects=objects)
    return None


def _guess_unread_parent(
    owner: OwnerRef, *, namespace: str, owners: Owners, objects: _ObjectLookup
) -> Match | None:
    """The parent of an owner whose object was not read, from naming conventions.

    A ReplicaSet is <deployment>-<hash>; a Job is <cronjob>-<time>, or is named after the
    RayJob whose submitter it runs.
    """
    trimmed = owner.name.rpartition("-")[0]
    guesses = {
        "ReplicaSet": [("Deployment", trimmed)],
        "Job": [("RayJob", owner.name), ("CronJob", trimmed)],
    }.get(owner.kind, [])
    for kind, name in guesses:
        if not name:
            continue
        group = owners.match(kind, namespace, name, objects.get(kind, namespace, name))
        if group is not None:
            return group
    return None


class _ObjectLookup:
    """Objects of a cluster by (kind, namespace, name) and by uid."""

    def __init__(self, objects: Iterable[KubeObject]) -> None:
        self.by_key: dict[ObjectKey, KubeObject] = {}
        self.by_uid: dict[str, KubeObject] = {}
        for obj in objects:
            self.by_key[(obj.kind, obj.namespace, obj.name)] = obj
            if obj.uid:
                self.by_uid[obj.uid] = obj

    def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        return self.by_key.get((kind, namespace, name))


def object_lookup(state: ClusterState) -> _ObjectLookup:
    """Index a cluster's objects for owner walks."""
    return _ObjectLookup(state.objects)
