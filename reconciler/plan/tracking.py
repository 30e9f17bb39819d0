"""The GitOps engines' marks on what they apply, and the group each mark names.

An object the engine applied (one with no ownerReferences, as Argo CD's own "root" rule
in controller/cache isRootAppNode) names its group through what the engine wrote on it:
Argo CD's tracking-id annotation (`<app>:<group>/<kind>:<namespace>/<name>`, counted only
when it names the object itself, as Argo CD's IsSelfReferencedObj: controllers copy
annotations onto their children) or its `app.kubernetes.io/instance` label; Flux's
`kustomize.toolkit.fluxcd.io/name` and `/namespace` labels. The names map to groups
through `EngineNames` (the ApplicationSet's Application per group, the per-group Flux
Kustomizations of each cluster). Otherwise, or when the name is no group's, the object's
identity (kind, namespace, name) is looked up among the groups' manifests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from reconciler.fleet.model import EngineNames
from reconciler.status.model import ClusterState, KubeObject, Pod

ObjectKey = tuple[str, str, str]  # (kind, namespace, name)
Match = tuple[str, str]  # (group, rule)

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
