"""Lint what makes a move safe: bootstrap that prunes the old copy, shared namespaces."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.files import load_yaml_documents
from reconciler.fleet.model import Fleet
from reconciler.plan.demand import group_demand
from reconciler.problems import InputError, Problem

_FINALIZER = "resources-finalizer.argocd.argoproj.io"
_CLUSTER_SEGMENT = ("index .path.segments 1", "path[1]")


def validate_repo(root: Path, *, fleet: Fleet) -> list[Problem]:
    """Problems beyond reading: manifests, Argo CD / Flux bootstrap, shared namespaces."""
    problems = _argocd(root) + _flux(root, fleet=fleet) + _shared_namespaces(fleet)
    for group in fleet.groups:
        problems += group_demand(group).problems
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


def _documents(path: Path, root: Path) -> tuple[list[Any], list[Problem]]:
    try:
        return load_yaml_documents(path, shown_as=str(path.relative_to(root))), []
    except InputError as error:
        return [], [error.problem]


def _argocd(root: Path) -> list[Problem]:
    problems: list[Problem] = []
    for path in sorted((root / "bootstrap" / "argocd").glob("*.y*ml")):
        shown = str(path.relative_to(root))
        documents, found = _documents(path, root)
        problems += found
        for doc in documents:
            if not isinstance(doc, Mapping) or doc.get("kind") != "ApplicationSet":
                continue
            spec = doc.get("spec") or {}
            template = spec.get("template") or {}
            metadata = template.get("metadata") or {}
            name = str(metadata.get("name") or "")
            if not any(marker in name for marker in _CLUSTER_SEGMENT):
                problems.append(
                    Problem(
                        shown,
                        "spec.template.metadata.name",
                        f"{name!r} does not include the cluster segment of the path: a move would "
                        "change an Application's destination and orphan the old copy",
                    )
                )
            if not any(str(f).startswith(_FINALIZER) for f in metadata.get("finalizers") or ()):
                problems.append(
                    Problem(
                        shown,
                        "spec.template.metadata.finalizers",
                        f"lacks {_FINALIZER}: deleting a moved-away group's Application "
                        "would leave its resources running on the old cluster",
                    )
                )
            if (spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion") is True:
                problems.append(
                    Problem(
                        shown,
                        "spec.syncPolicy.preserveResourcesOnDeletion",
                        "is true: the old copy of a moved group would never be removed",
                    )
                )
            automated = ((template.get("spec") or {}).get("syncPolicy") or {}).get("automated")
            if not isinstance(automated, Mapping) or automated.get("prune") is not True:
                problems.append(
                    Problem(
                        shown,
                        "spec.template.spec.syncPolicy.automated.prune",
                        "is not true: resources removed from git are not removed from the cluster",
                    )
                )
    return problems


def _flux(root: Path, *, fleet: Fleet) -> list[Problem]:
    problems: list[Problem] = []
    flux_dir = root / "bootstrap" / "flux"
    if not flux_dir.is_dir():
        return problems
    for cluster_dir in sorted(p for p in flux_dir.iterdir() if p.is_dir()):
        if fleet.config.cluster(cluster_dir.name) is None:
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
                if not isinstance(doc, Mapping) or doc.get("kind") != "Kustomization":
                    continue
                if not str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
                    continue
                spec = doc.get("spec") or {}
                if spec.get("prune") is not True:
                    problems.append(
                        Problem(
                            shown,
                            "spec.prune",
                            "is not true: Flux would not remove a moved-away group "
                            "from this cluster",
                        )
                    )
                expected = f"clusters/{cluster_dir.name}/groups"
                if str(spec.get("path", "")).strip("./") != expected:
                    problems.append(
                        Problem(
                            shown, "spec.path", f"is {spec.get('path')!r}, expected ./{expected}"
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
                    )
                )
    return problems
