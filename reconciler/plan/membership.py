"""Which group a live pod belongs to: the one its top owner belongs to, by the GitOps
engine's own tracking when present, else by the identity the group's manifests declare.

An object the engine applied (one with no ownerReferences, as Argo CD's own "root" rule)
names its group through what the engine wrote on it: Argo CD's tracking-id annotation
(`<app>:<group>/<kind>:<namespace>/<name>`, counted only when it names the object itself:
controllers copy annotations onto their children) or its `app.kubernetes.io/instance`
label, Flux's `kustomize.toolkit.fluxcd.io/name` and `/namespace` labels. The names map to
groups through `EngineNames` (the ApplicationSet's Application per group, the per-group
Flux Kustomizations). Otherwise, or when the name is not one of a group's, the object's
identity (kind, namespace, name) is looked up among the groups' manifests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from reconciler.fleet.model import EngineNames, Group
from reconciler.status.model import ClusterState, KubeObject, OwnerRef, Pod

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)
_RAY_OWNERS = ("RayService", "RayJob")
_MAX_DEPTH = 8  # owner chains are short; a longer one is a loop

ARGOCD_TRACKING_ID = "argocd-tracking-id"
ARGOCD_INSTANCE_LABEL = "argocd-instance-label"
FLUX_LABELS = "flux-labels"
IDENTITY = "identity"
RULES = (ARGOCD_TRACKING_ID, ARGOCD_INSTANCE_LABEL, FLUX_LABELS, IDENTITY)
RULE_WORDS = {
    ARGOCD_TRACKING_ID: "Argo CD's tracking-id annotation",
    ARGOCD_INSTANCE_LABEL: "Argo CD's app.kubernetes.io/instance label",
    FLUX_LABELS: "Flux's kustomize.toolkit.fluxcd.io/name and /namespace labels",
    IDENTITY: "identity (kind, namespace, name) of its manifests",
}
INSTANCE_LABEL = "app.kubernetes.io/instance"
FLUX_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
FLUX_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"

Match = tuple[str, str]  # (group, rule)


@dataclasses.dataclass(frozen=True)
class Owners:
    """How objects on one cluster are matched to groups: the engines' names, then identity."""

    declared: Mapping[ObjectKey, str]
    argo_apps: Mapping[str, str] = dataclasses.field(default_factory=dict)
    flux: Mapping[tuple[str, str], str] = dataclasses.field(default_factory=dict)

    def match(
        self, kind: str, namespace: str, name: str, obj: KubeObject | Pod | None
    ) -> Match | None:
        """The group of one object (read or not) and the rule that said so."""
        if obj is not None and not obj.owners:
            tracked = self.tracked(obj, kind=kind)
            if tracked is not None:
                return tracked
        group = self.declared.get((kind, namespace, name))
        return (group, IDENTITY) if group is not None else None

    def tracked(self, obj: KubeObject | Pod, *, kind: str) -> Match | None:
        """The group the engine's marks on an object name, if any names one of ours."""
        if obj.tracking_id and self.argo_apps:
            app = _tracked_app(obj.tracking_id, kind=kind, namespace=obj.namespace, name=obj.name)
            if app in self.argo_apps:
                return self.argo_apps[app], ARGOCD_TRACKING_ID
        labels = obj.labels
        if not labels:
            return None
        instance = labels.get(INSTANCE_LABEL)
        if instance is not None and instance in self.argo_apps:
            return self.argo_apps[instance], ARGOCD_INSTANCE_LABEL
        flux_name = labels.get(FLUX_NAME_LABEL)
        if flux_name is not None:
            group = self.flux.get((labels.get(FLUX_NAMESPACE_LABEL, ""), flux_name))
            if group is not None:
                return group, FLUX_LABELS
        return None


def _tracked_app(value: str, *, kind: str, namespace: str, name: str) -> str:
    """The Application a tracking id names, when it is this object's own id ('' if not).

    Argo CD's ParseAppInstanceValue: three parts split on the first two colons, then
    `<group>/<kind>` and `<namespace>/<name>` split on "/".
    """
    parts = value.split(":", 2)
    if len(parts) != 3:
        return ""
    group_kind, namespace_name = parts[1].split("/"), parts[2].split("/")
    if len(group_kind) != 2 or len(namespace_name) != 2:
        return ""
    if (group_kind[1], namespace_name[1]) != (kind, name) or namespace_name[0] not in (
        namespace,
        "",
    ):
        return ""
    return parts[0]


def owners_for(cluster: str, *, declared: Mapping[ObjectKey, str], engines: EngineNames) -> Owners:
    """The matching rules on one cluster: Flux's Kustomizations are per cluster."""
    return Owners(declared, argo_apps=engines.argo_apps, flux=engines.flux.get(cluster, {}))


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


def group_of_pod(
    pod: Pod, *, declared: Mapping[ObjectKey, str], objects: _ObjectLookup
) -> str | None:
    """The group of a pod by identity alone (see match_pod for the engines' tracking)."""
    found = match_pod(pod, owners=Owners(declared), objects=objects)
    return found[0] if found is not None else None


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


def objects_by_group(state: ClusterState, owners: Owners) -> dict[str, list[KubeObject]]:
    """A cluster's objects that the engines' tracking puts in a group (identity not asked)."""
    found: dict[str, list[KubeObject]] = {}
    for obj in state.objects:
        if obj.owners or not (obj.tracking_id or obj.labels):
            continue
        tracked = owners.tracked(obj, kind=obj.kind)
        if tracked is not None:
            found.setdefault(tracked[0], []).append(obj)
    return found


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
