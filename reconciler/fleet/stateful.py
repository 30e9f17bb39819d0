"""A stateful group that may move keeps its volumes: neither Argo CD nor Flux deletes them.

When a group moves, the GitOps tool deletes its objects on the old cluster. A
PersistentVolumeClaim deleted there may take its volume (and the data) with it, so a group
allowed to move with volumes (allowStateful) must say so on every claim: Argo CD
`argocd.argoproj.io/sync-options: Delete=false,Prune=false`, Flux
`kustomize.toolkit.fluxcd.io/prune: disabled`. Claims from a StatefulSet's
volumeClaimTemplates are made by the StatefulSet controller, not by Argo CD or Flux; only the
StatefulSet's `persistentVolumeClaimRetentionPolicy.whenDeleted: Delete` removes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.problems import Problem
from reconciler.core.yaml_files import line_of
from reconciler.fleet.model import Group, Manifest

ARGOCD_OPTIONS = "argocd.argoproj.io/sync-options"
FLUX_PRUNE = "kustomize.toolkit.fluxcd.io/prune"


def protection_problems(group: Group, *, argocd: bool, flux: bool) -> list[Problem]:
    """Claims of a movable stateful group that a move would delete on the old cluster."""
    policy = group.policy
    if not policy.allow_stateful or policy.skip_capacity_relocate:
        return []
    problems: list[Problem] = []
    for manifest in group.manifests:
        if manifest.kind == "PersistentVolumeClaim":
            missing = _missing_annotations(manifest, argocd=argocd, flux=flux)
            if missing:
                problems.append(_claim_problem(manifest, missing, group=group))
        elif manifest.kind == "StatefulSet":
            problems += _retention_problem(manifest, group=group)
    return problems


def _missing_annotations(manifest: Manifest, *, argocd: bool, flux: bool) -> list[str]:
    annotations = _mapping(_mapping(manifest.body.get("metadata")).get("annotations"))
    options = {o.strip() for o in str(annotations.get(ARGOCD_OPTIONS) or "").split(",")}
    missing = []
    if argocd and not {"Delete=false", "Prune=false"} <= options:
        missing.append(f"{ARGOCD_OPTIONS}: Delete=false,Prune=false")
    if flux and annotations.get(FLUX_PRUNE) != "disabled":
        missing.append(f"{FLUX_PRUNE}: disabled")
    return missing


def _claim_problem(manifest: Manifest, missing: list[str], *, group: Group) -> Problem:
    return Problem(
        manifest.file,
        f"{manifest.kind} {manifest.name}",
        f"{group.name} may move with its volumes (allowStateful) but this claim lacks the "
        f"annotation {' and '.join(missing)}: a move would delete it, and maybe its data, "
        "on the old cluster",
        group=group.name,
        severity="warning",
        line=line_of(manifest.body, "metadata.annotations") or line_of(manifest.body, "kind"),
    )


def _retention_problem(manifest: Manifest, *, group: Group) -> list[Problem]:
    spec = _mapping(manifest.body.get("spec"))
    policy = _mapping(spec.get("persistentVolumeClaimRetentionPolicy"))
    if not spec.get("volumeClaimTemplates") or policy.get("whenDeleted") != "Delete":
        return []
    field = "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"
    return [
        Problem(
            manifest.file,
            f"{manifest.kind} {manifest.name}",
            f"{group.name} may move with its volumes (allowStateful) but {field} is Delete: "
            "a move deletes the StatefulSet's claims, and maybe their data, on the old cluster",
            group=group.name,
            severity="warning",
            line=line_of(manifest.body, field),
        )
    ]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
