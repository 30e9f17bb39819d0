"""Lint what makes a move safe: bootstrap that prunes the old copy, shared namespaces.

Every finding names its file and, where the file has it, the line (`file:line: field: ...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem
from reconciler.core.yaml_files import line_of, load_yaml_documents
from reconciler.fleet.appset import GeneratedApplication, generated_applications
from reconciler.fleet.cross_group import cross_group_problems
from reconciler.fleet.flux import flux_problems
from reconciler.fleet.model import Fleet, Group
from reconciler.fleet.namespaces import namespace_problems
from reconciler.fleet.stateful import protection_problems
from reconciler.plan.demand import group_demand
from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of

_FINALIZER = "resources-finalizer.argocd.argoproj.io"
_CLUSTER_SEGMENT = ("index .path.segments 1", "path[1]")
_GROUPS_GLOB = "clusters/*/groups/*"
_MAX_NAME = 63  # Argo CD labels every resource with its Application's name (a label value)
_NEVER_DELETES = ("create-only", "create-update")


def validate_repo(root: Path, *, fleet: Fleet) -> list[Problem]:
    """Problems beyond reading: manifests, Argo CD / Flux bootstrap, namespaces, shared ones."""
    sets, problems = _application_sets(root)
    covers_groups = any(_generates_groups(doc) for _, doc in sets)
    applications: list[tuple[str, Mapping[str, Any], GeneratedApplication]] = []
    for shown, doc in sets:
        problems += _application_set(doc, shown=shown, covers_groups=covers_groups)
        applications += [(shown, doc, app) for app in generated_applications(doc, root=root)]
    problems += _application_names(applications)
    problems += flux_problems(root, fleet=fleet)
    problems += _shared_namespaces(fleet)
    problems += cross_group_problems(root, fleet=fleet)
    uses_argocd, uses_flux = bool(sets), (root / "bootstrap" / "flux").is_dir()
    problems += namespace_problems(
        root,
        fleet=fleet,
        applications=[app for _, _, app in applications],
        uses_argocd=uses_argocd,
        uses_flux=uses_flux,
    )
    for group in fleet.groups:
        problems += _demand_problems(group)
        problems += _stateful(group)
        problems += protection_problems(group, argocd=uses_argocd, flux=uses_flux)
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


def _application_sets(root: Path) -> tuple[list[tuple[str, Mapping[str, Any]]], list[Problem]]:
    """The ApplicationSets of bootstrap/argocd/, each with its repo-relative file."""
    sets: list[tuple[str, Mapping[str, Any]]] = []
    problems: list[Problem] = []
    argocd_dir = root / "bootstrap" / "argocd"
    if not argocd_dir.is_dir() or argocd_dir.is_symlink():
        return sets, problems
    for path in sorted(argocd_dir.glob("*.y*ml")):
        shown = str(path.relative_to(root))
        documents, found = _documents(path, root)
        problems += found
        sets += [
            (shown, doc)
            for doc in documents
            if isinstance(doc, Mapping) and doc.get("kind") == "ApplicationSet"
        ]
    return sets, problems


def _generates_groups(doc: Mapping[str, Any]) -> bool:
    spec = _mapping(doc.get("spec"))
    return any(
        str(_mapping(entry).get("path") or "").strip("./") == _GROUPS_GLOB
        for generator in spec.get("generators") or ()
        for entry in _mapping(_mapping(generator).get("git")).get("directories") or ()
    )


def _application_set(doc: Mapping[str, Any], *, shown: str, covers_groups: bool) -> list[Problem]:
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
    set_policy = _mapping(spec.get("syncPolicy"))
    if set_policy.get("preserveResourcesOnDeletion") is True:
        finding(
            "spec.syncPolicy.preserveResourcesOnDeletion",
            "is true: the old copy of a moved group would never be removed",
        )
    elif set_policy.get("preserveResourcesOnDeletion") is not False:
        finding(
            "spec.syncPolicy.preserveResourcesOnDeletion",
            "is not set: set it to false explicitly, so the old copy of a moved group is "
            "removed whatever the default",
            severity="warning",
        )
    if set_policy.get("applicationsSync") in _NEVER_DELETES:
        finding(
            "spec.syncPolicy.applicationsSync",
            f"is {set_policy.get('applicationsSync')}: the ApplicationSet never deletes the "
            "Application of a moved-away group, so its old copy keeps running",
        )
    sync = _mapping(_mapping(template.get("spec")).get("syncPolicy"))
    automated = sync.get("automated")
    if not isinstance(automated, Mapping) or automated.get("prune") is not True:
        finding(
            "spec.template.spec.syncPolicy.automated.prune",
            "is not true: resources removed from git are not removed from the cluster",
        )
    if not covers_groups:
        finding(
            "spec.generators",
            f"has no git directories generator over {_GROUPS_GLOB}: "
            "groups may not become Applications",
            severity="warning",
        )
    return problems


def _application_names(
    applications: list[tuple[str, Mapping[str, Any], GeneratedApplication]],
) -> list[Problem]:
    """Generated Application names: unique across the ApplicationSets, short enough."""
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for shown, doc, app in applications:
        if not app.name or "{{" in app.name:
            continue  # an action this evaluator does not know: nothing certain to say
        line = line_of(doc, "spec.template.metadata.name")
        field = "spec.template.metadata.name"
        if len(app.name) > _MAX_NAME:
            problems.append(
                Problem(
                    shown,
                    field,
                    f"makes {app.name!r} for {app.directory} ({len(app.name)} characters): "
                    f"Argo CD labels its resources with the name, at most {_MAX_NAME} characters",
                    line=line,
                )
            )
        other = first.setdefault(app.name, app.directory)
        if other != app.directory:
            problems.append(
                Problem(
                    shown,
                    field,
                    f"makes {app.name!r} for both {other} and {app.directory}: one Application "
                    "would stand for two directories (rename a cluster or group)",
                    line=line,
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
