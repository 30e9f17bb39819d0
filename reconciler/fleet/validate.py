"""Lint what makes a move safe: bootstrap that prunes the old copy, shared namespaces.

Every finding names its file and, where the file has it, the line (`file:line: field: ...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem
from reconciler.core.yaml_files import line_of, load_yaml_documents
from reconciler.fleet.model import Fleet, Group
from reconciler.plan.demand import group_demand
from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of

_FINALIZER = "resources-finalizer.argocd.argoproj.io"
_CLUSTER_SEGMENT = ("index .path.segments 1", "path[1]")
_GROUPS_GLOB = "clusters/*/groups/*"


def validate_repo(root: Path, *, fleet: Fleet) -> list[Problem]:
    """Problems beyond reading: manifests, Argo CD / Flux bootstrap, shared namespaces."""
    problems = _argocd(root) + _flux(root, fleet=fleet) + _shared_namespaces(fleet)
    for group in fleet.groups:
        problems += _demand_problems(group)
        problems += _stateful(group)
    if not (root / "bootstrap").is_dir():
        problems.append(
            Problem(
                "bootstrap/",
                "",
                "is missing: nothing shows how Argo CD or Flux applies the groups",
                severity="warning",
            )
        )
    return problems


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _documents(path: Path, root: Path) -> tuple[list[Any], list[Problem]]:
    try:
        shown = str(path.relative_to(root))
        return load_yaml_documents(path, shown_as=shown, lines=True), []
    except InputError as error:
        return [], [error.problem]


def _argocd(root: Path) -> list[Problem]:
    problems: list[Problem] = []
    argocd_dir = root / "bootstrap" / "argocd"
    if not argocd_dir.is_dir() or argocd_dir.is_symlink():
        return problems
    for path in sorted(argocd_dir.glob("*.y*ml")):
        shown = str(path.relative_to(root))
        documents, found = _documents(path, root)
        problems += found
        for doc in documents:
            if not isinstance(doc, Mapping) or doc.get("kind") != "ApplicationSet":
                continue
            problems += _application_set(doc, shown=shown)
    return problems


def _application_set(doc: Mapping[str, Any], *, shown: str) -> list[Problem]:
    """The ApplicationSet pitfalls that would orphan or keep the old copy of a moved group."""
    problems: list[Problem] = []

    def finding(field: str, message: str, *, severity: str = "error") -> None:
        line = line_of(doc, field)
        problems.append(Problem(shown, field, message, severity=severity, line=line))

    spec = _mapping(doc.get("spec"))
    template = _mapping(spec.get("template"))
    metadata = _mapping(template.get("metadata"))
    name = str(metadata.get("name") or "")
    if not any(marker in name for marker in _CLUSTER_SEGMENT):
        finding(
            "spec.template.metadata.name",
            f"{name!r} does not include the cluster segment of the path: a move would "
            "change an Application's destination and orphan the old copy",
        )
    destination = _mapping(_mapping(template.get("spec")).get("destination"))
    target = str(destination.get("name") or destination.get("server") or "")
    if target and not any(marker in target for marker in _CLUSTER_SEGMENT):
        field = "name" if destination.get("name") else "server"
        finding(
            f"spec.template.spec.destination.{field}",
            f"{target!r} does not come from the cluster segment of the path: every group "
            "would be applied to the same cluster wherever its directory is",
        )
    finalizers = metadata.get("finalizers")
    finalizers = finalizers if isinstance(finalizers, list) else []
    if not any(str(f).startswith(_FINALIZER) for f in finalizers):
        finding(
            "spec.template.metadata.finalizers",
            f"lacks {_FINALIZER}: deleting a moved-away group's Application "
            "would leave its resources running on the old cluster",
        )
    if _mapping(spec.get("syncPolicy")).get("preserveResourcesOnDeletion") is True:
        finding(
            "spec.syncPolicy.preserveResourcesOnDeletion",
            "is true: the old copy of a moved group would never be removed",
        )
    sync = _mapping(_mapping(template.get("spec")).get("syncPolicy"))
    automated = sync.get("automated")
    if not isinstance(automated, Mapping) or automated.get("prune") is not True:
        finding(
            "spec.template.spec.syncPolicy.automated.prune",
            "is not true: resources removed from git are not removed from the cluster",
        )
    paths = [
        str(_mapping(entry).get("path") or "")
        for generator in spec.get("generators") or ()
        for entry in _mapping(_mapping(generator).get("git")).get("directories") or ()
    ]
    if not any(p.strip("./") == _GROUPS_GLOB for p in paths):
        finding(
            "spec.generators",
            f"has no git directories generator over {_GROUPS_GLOB}: "
            "groups may not become Applications",
            severity="warning",
        )
    return problems


def _flux(root: Path, *, fleet: Fleet) -> list[Problem]:
    problems: list[Problem] = []
    flux_dir = root / "bootstrap" / "flux"
    if not flux_dir.is_dir() or flux_dir.is_symlink():
        return problems
    present = {p.name for p in flux_dir.iterdir() if p.is_dir() and not p.is_symlink()}
    for cluster in fleet.config.clusters:
        if cluster.name not in present:
            problems.append(
                Problem(
                    f"bootstrap/flux/{cluster.name}/",
                    "",
                    f"is missing: Flux does not apply cluster {cluster.name}'s groups",
                    severity="warning",
                )
            )
    for name in sorted(present):
        cluster_dir = flux_dir / name
        if fleet.config.cluster(name) is None:
            problems.append(
                Problem(
                    str(cluster_dir.relative_to(root)),
                    "",
                    "is not a cluster of fleet.yaml",
                    severity="warning",
                )
            )
        for path in sorted(cluster_dir.glob("*.y*ml")):
            shown = str(path.relative_to(root))
            documents, found = _documents(path, root)
            problems += found
            for doc in documents:
                problems += _flux_kustomization(doc, shown=shown, cluster=name)
    return problems


def _flux_kustomization(doc: object, *, shown: str, cluster: str) -> list[Problem]:
    if not isinstance(doc, Mapping) or doc.get("kind") != "Kustomization":
        return []
    if not str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
        return []
    problems = []
    spec = _mapping(doc.get("spec"))
    if spec.get("prune") is not True:
        problems.append(
            Problem(
                shown,
                "spec.prune",
                "is not true: Flux would not remove a moved-away group from this cluster",
                line=line_of(doc, "spec.prune"),
            )
        )
    expected = f"clusters/{cluster}/groups"
    if str(spec.get("path", "")).strip("./") != expected:
        problems.append(
            Problem(
                shown,
                "spec.path",
                f"is {spec.get('path')!r}, expected ./{expected}",
                line=line_of(doc, "spec.path"),
            )
        )
    return problems


def _shared_namespaces(fleet: Fleet) -> list[Problem]:
    """A Namespace object in a group whose namespace another group also uses."""
    users: dict[str, set[str]] = {}
    for group in fleet.groups:
        for manifest in group.manifests:
            if manifest.kind != "Namespace":
                users.setdefault(manifest.namespace, set()).add(group.name)
    problems = []
    for group in fleet.groups:
        for manifest in group.manifests:
            if manifest.kind != "Namespace":
                continue
            others = sorted(users.get(manifest.name, set()) - {group.name})
            if others:
                problems.append(
                    Problem(
                        manifest.file,
                        f"Namespace {manifest.name}",
                        f"is also used by {', '.join(others)}: moving {group.name} would prune the "
                        "namespace and delete their objects too",
                        group=group.name,
                        line=line_of(manifest.body, "kind"),
                    )
                )
    return problems


def _demand_problems(group: Group) -> list[Problem]:
    """The group's unusable manifests, each located at the line of the field at fault."""
    located = []
    for problem in group_demand(group).problems:
        line = None
        for manifest in group.manifests:
            label = f"{manifest.kind} {manifest.name}"
            if manifest.file == problem.file and problem.field.startswith(label):
                line = line_of(manifest.body, problem.field[len(label) :].lstrip(": "))
                break
        located.append(problem.at_line(line))
    return located


def _stateful(group: Group) -> list[Problem]:
    """A stateful group without allowStateful: said once, since it will never be moved."""
    if group.policy.allow_stateful:
        return []
    for manifest in group.manifests:
        try:
            demand = demand_of(manifest.body, default_namespace=manifest.namespace)
        except WorkloadError:
            continue  # reported with the demand problems
        if demand is None or not demand.stateful:
            continue
        field = "spec.volumeClaimTemplates" if manifest.kind == "StatefulSet" else "kind"
        return [
            Problem(
                manifest.file,
                f"{manifest.kind} {manifest.name}",
                f"holds data (PersistentVolumeClaims) and {group.name} does not set "
                "allowStateful: true in placement.yaml: the group will never be moved",
                group=group.name,
                severity="warning",
                line=line_of(manifest.body, field),
            )
        ]
    return []
