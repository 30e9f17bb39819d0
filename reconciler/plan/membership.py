"""Which group a live pod belongs to: the group whose manifests declare its top owner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.fleet.model import Group
from reconciler.status.model import ClusterState, KubeObject, OwnerRef, Pod

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)
_RAY_OWNERS = ("RayService", "RayJob")
_MAX_DEPTH = 8  # owner chains are short; a longer one is a loop


def declared_objects(groups: Iterable[Group]) -> dict[ObjectKey, str]:
    """Map every object a group declares to the group's name."""
    index: dict[ObjectKey, str] = {}
    for group in groups:
        for manifest in group.manifests:
            index[(manifest.kind, manifest.namespace, manifest.name)] = group.name
    return index


def pods_by_group(state: ClusterState, declared: Mapping[ObjectKey, str]) -> dict[str, list[Pod]]:
    """Group a cluster's pods by the group that declares their top owner (others dropped)."""
    objects = _ObjectLookup(state.objects)
    found: dict[str, list[Pod]] = {}
    # The replicas of one workload share their owner (or RayCluster) and so their group:
    # walk the chain once per owner, not once per pod.
    by_owner: dict[tuple[str, ...], str | None] = {}
    for pod in state.pods:
        own = declared.get(("Pod", pod.namespace, pod.name))
        if own is None:
            key = _owner_key(pod)
            if key is None:
                own = group_of_pod(pod, declared=declared, objects=objects)
            elif key in by_owner:
                own = by_owner[key]
            else:
                own = by_owner[key] = group_of_pod(pod, declared=declared, objects=objects)
        if own is not None:
            found.setdefault(own, []).append(pod)
    return found


def _owner_key(pod: Pod) -> tuple[str, ...] | None:
    """What group_of_pod reads of a pod other than its own name; None when unsure."""
    ray_cluster = pod.labels.get("ray.io/cluster")
    if ray_cluster:
        # The owners are only walked when the RayCluster leads nowhere: key on both.
        if len(pod.owners) > 1:
            return None
        owner = pod.owners[0] if pod.owners else None
        if owner is None:
            return ("ray", pod.namespace, ray_cluster)
        return ("ray", pod.namespace, ray_cluster, owner.kind, owner.name, owner.uid)
    if len(pod.owners) != 1:
        return None
    owner = pod.owners[0]
    return ("owner", pod.namespace, owner.kind, owner.name, owner.uid)


def group_of_pod(
    pod: Pod, *, declared: Mapping[ObjectKey, str], objects: _ObjectLookup
) -> str | None:
    """Follow ownerReferences (and KubeRay's links) from a pod up to a declared object."""
    own = declared.get(("Pod", pod.namespace, pod.name))
    if own is not None:
        return own
    ray_cluster = pod.labels.get("ray.io/cluster")
    if ray_cluster:
        found = _ray_cluster_group(pod.namespace, ray_cluster, declared=declared, objects=objects)
        if found is not None:
            return found
    return _walk_owners(pod.namespace, pod.owners, declared=declared, objects=objects)


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
    namespace: str, ray_cluster: str, *, declared: Mapping[ObjectKey, str], objects: _ObjectLookup
) -> str | None:
    group = declared.get(("RayCluster", namespace, ray_cluster))
    if group is not None:
        return group
    obj = objects.get("RayCluster", namespace, ray_cluster)
    if obj is not None:
        for owner in obj.owners:
            group = declared.get((owner.kind, namespace, owner.name))
            if group is not None:
                return group
        origin = obj.labels.get("ray.io/originated-from-cr-name")
        kind = obj.labels.get("ray.io/originated-from-crd", "RayService")
        if origin:
            return declared.get((kind, namespace, origin))
        return None
    # The RayCluster object was not read: KubeRay names it <owner>-<5 random characters>.
    owner_name, _, suffix = ray_cluster.rpartition("-")
    if len(suffix) == 5 and owner_name:
        for kind in _RAY_OWNERS:
            group = declared.get((kind, namespace, owner_name))
            if group is not None:
                return group
    return None


def _walk_owners(
    namespace: str,
    owners: tuple[OwnerRef, ...],
    *,
    declared: Mapping[ObjectKey, str],
    objects: _ObjectLookup,
) -> str | None:
    for _ in range(_MAX_DEPTH):
        owner = next((o for o in owners if o.controller), owners[0] if owners else None)
        if owner is None:
            return None
        group = declared.get((owner.kind, namespace, owner.name))
        if group is not None:
            return group
        obj = objects.by_uid.get(owner.uid) if owner.uid else None
        obj = obj or objects.get(owner.kind, namespace, owner.name)
        if obj is not None:
            owners = obj.owners
            continue
        return _guess_unread_parent(owner, namespace=namespace, declared=declared)
    return None


def _guess_unread_parent(
    owner: OwnerRef, *, namespace: str, declared: Mapping[ObjectKey, str]
) -> str | None:
    """The declared parent of an owner whose object was not read, from naming conventions.

    A ReplicaSet is <deployment>-<hash>; a Job is <cronjob>-<time>, or is named after the
    RayJob whose submitter it runs.
    """
    trimmed = owner.name.rpartition("-")[0]
    guesses = {
        "ReplicaSet": [("Deployment", trimmed)],
        "Job": [("RayJob", owner.name), ("CronJob", trimmed)],
    }.get(owner.kind, [])
    for kind, name in guesses:
        group = declared.get((kind, namespace, name)) if name else None
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
