"""Every namespace a group uses exists on its cluster before the group is applied.

Argo CD's CreateNamespace=true creates only an Application's destination.namespace, never a
namespace named inside the manifests, and Flux creates none: a group whose namespace nothing
creates fails at its first sync. The template creates namespaces in each cluster's
infrastructure; a Namespace object of the group itself, or (Argo CD) the generated
Application's destination.namespace with CreateNamespace=true, also count.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import Problem
from reconciler.core.yaml_files import line_of
from reconciler.fleet.appset import GeneratedApplication
from reconciler.fleet.infrastructure import ALWAYS_THERE, created_namespaces
from reconciler.fleet.model import Fleet, Group, Manifest

# Kinds that live outside namespaces (the ones a group plausibly carries).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "ClusterIssuer",
    }
)


def namespace_problems(
    root: Path,
    *,
    fleet: Fleet,
    applications: list[GeneratedApplication],
    uses_argocd: bool,
    uses_flux: bool,
) -> list[Problem]:
    """A group's namespace that would not exist on its cluster (error) or a cluster it may
    move to (warning)."""
    if not (uses_argocd or uses_flux):
        return []
    infrastructure = {c.name: created_namespaces(root, c.name) for c in fleet.config.clusters}
    by_directory = {app.directory: app for app in applications}
    problems: list[Problem] = []
    for group in fleet.groups:
        used = _used(group)
        own = {m.name for m in group.manifests if m.kind == "Namespace"} | ALWAYS_THERE
        created = _created_by_application(by_directory.get(group.path)) if not uses_flux else set()
        for cluster in fleet.config.clusters:
            here = cluster.name == group.cluster
            if not here and not _may_move_to(group, cluster.name, fleet=fleet):
                continue
            there = infrastructure[cluster.name] | own | created
            for namespace, manifest in used.items():
                if namespace in there:
                    continue
                problems.append(_missing(namespace, manifest, group=group, cluster=cluster.name))
    return problems


def _used(group: Group) -> dict[str, Manifest]:
    """Each namespace the group's namespaced objects use, with the first object using it."""
    used: dict[str, Manifest] = {}
    for manifest in group.manifests:
        if manifest.kind not in CLUSTER_SCOPED and manifest.namespace:
            used.setdefault(manifest.namespace, manifest)
    return used


def _created_by_application(app: GeneratedApplication | None) -> set[str]:
    if app is None:
        return set()
    spec = _mapping(app.body.get("spec"))
    namespace = _mapping(spec.get("destination")).get("namespace")
    options = _mapping(spec.get("syncPolicy")).get("syncOptions")
    creates = isinstance(options, list) and "CreateNamespace=true" in options
    if creates and isinstance(namespace, str) and "{{" not in namespace:
        return {namespace}
    return set()


def _may_move_to(group: Group, cluster: str, *, fleet: Fleet) -> bool:
    config = fleet.config.cluster(cluster)
    policy = group.policy
    return config is not None and not policy.skip_capacity_relocate and policy.allows(config)


def _missing(namespace: str, manifest: Manifest, *, group: Group, cluster: str) -> Problem:
    line = line_of(manifest.body, "metadata.namespace") or line_of(manifest.body, "kind")
    field = f"{manifest.kind} {manifest.name}"
    where = f"clusters/{cluster}/infrastructure"
    if cluster == group.cluster:
        return Problem(
            manifest.file,
            field,
            f"namespace {namespace!r} is not created on {cluster} (no Namespace object in "
            f"{where}): the group's first sync there fails",
            group=group.name,
            line=line,
        )
    return Problem(
        manifest.file,
        field,
        f"namespace {namespace!r} is not created on {cluster} (no Namespace object in "
        f"{where}): a move of {group.name} there would fail at its first sync",
        group=group.name,
        severity="warning",
        line=line,
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
