"""Lint Flux's bootstrap (bootstrap/flux/<cluster>/): every group applied on its own, pruned.

The layout the template uses: per cluster an `infrastructure` Kustomization (namespaces, the
KubeRay operator) and one Kustomization per group of the fleet that reads the cluster's
groups listing and keeps only its group's objects (a `$patch: delete` of everything whose
`placement.fleet/group` label is another group's). A move edits the listings, so each
cluster's per-group Kustomization starts or stops applying the group without any change here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem
from reconciler.core.yaml_files import line_of, load_yaml_documents, load_yaml_mapping
from reconciler.fleet.infrastructure import INFRASTRUCTURE
from reconciler.fleet.model import Fleet, Group

GROUP_LABEL = "placement.fleet/group"
_SELECTOR = re.compile(
    rf"\s*{re.escape(GROUP_LABEL)}\s*(?:!=\s*([a-z0-9-]+)|notin\s*\(\s*([a-z0-9-]+)\s*\))\s*"
)


@dataclasses.dataclass(frozen=True)
class FluxKustomization:
    """One kustomize.toolkit.fluxcd.io Kustomization of a cluster's bootstrap."""

    shown: str
    doc: Mapping[str, Any]

    @property
    def spec(self) -> Mapping[str, Any]:
        """Its spec (empty when it has none)."""
        return _mapping(self.doc.get("spec"))

    @property
    def name(self) -> str:
        """metadata.name."""
        return str(_mapping(self.doc.get("metadata")).get("name") or "")

    @property
    def path(self) -> str:
        """spec.path without a leading ./ or trailing /."""
        return str(self.spec.get("path", "")).strip("./")

    @property
    def group(self) -> str | None:
        """The one group it keeps, when it deletes every object labelled as another group's."""
        for patch in self.spec.get("patches") or ():
            text = str(_mapping(patch).get("patch") or "")
            selector = str(_mapping(_mapping(patch).get("target")).get("labelSelector") or "")
            found = _SELECTOR.fullmatch(selector)
            if found and "$patch: delete" in text:
                return found.group(1) or found.group(2)
        return None

    def problem(self, field: str, message: str, *, severity: str = "error") -> Problem:
        """A finding about this Kustomization, at the line of the field."""
        line = line_of(self.doc, field) or line_of(self.doc, "metadata.name")
        return Problem(self.shown, field, message, severity=severity, line=line)


def flux_problems(root: Path, *, fleet: Fleet) -> list[Problem]:
    """What would keep Flux from applying each group on its own and pruning its old copy."""
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
    labelled = {g.name: _carries_label(root, g) for g in fleet.groups}
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
        found, read_problems = _kustomizations(cluster_dir, root=root)
        problems += read_problems
        problems += _cluster(found, cluster=name, fleet=fleet, labelled=labelled)
    return problems


def _kustomizations(
    cluster_dir: Path, *, root: Path
) -> tuple[list[FluxKustomization], list[Problem]]:
    found: list[FluxKustomization] = []
    problems: list[Problem] = []
    for path in sorted(cluster_dir.glob("*.y*ml")):
        shown = str(path.relative_to(root))
        try:
            documents = load_yaml_documents(path, shown_as=shown, lines=True)
        except InputError as error:
            problems.append(error.problem)
            continue
        for doc in documents:
            if not isinstance(doc, Mapping) or doc.get("kind") != "Kustomization":
                continue
            if str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
                found.append(FluxKustomization(shown, doc))
    return found, problems


def _cluster(
    found: list[FluxKustomization], *, cluster: str, fleet: Fleet, labelled: dict[str, bool]
) -> list[Problem]:
    problems: list[Problem] = []
    listing = f"clusters/{cluster}/groups"
    infrastructure = [k for k in found if k.path == f"clusters/{cluster}/{INFRASTRUCTURE}"]
    groups: list[FluxKustomization] = []
    for kustomization in found:
        if kustomization.spec.get("prune") is not True:
            problems.append(
                kustomization.problem(
                    "spec.prune",
                    "is not true: Flux would not remove a moved-away group from this cluster",
                )
            )
        if kustomization in infrastructure or not kustomization.path.startswith("clusters/"):
            continue
        if kustomization.path != listing:
            problems.append(
                kustomization.problem(
                    "spec.path",
                    f"is {kustomization.spec.get('path')!r}, expected ./{listing}",
                )
            )
            continue
        groups.append(kustomization)
        problems += _group_kustomization(kustomization, infrastructure=infrastructure)
    if groups and not infrastructure:
        problems.append(
            groups[0].problem(
                "spec.dependsOn",
                f"no Kustomization of this cluster applies ./clusters/{cluster}/{INFRASTRUCTURE}: "
                "Flux does not create the groups' namespaces or the KubeRay operator here",
                severity="warning",
            )
        )
    problems += _coverage(groups, cluster=cluster, fleet=fleet, labelled=labelled)
    return problems


def _group_kustomization(
    kustomization: FluxKustomization, *, infrastructure: list[FluxKustomization]
) -> list[Problem]:
    problems: list[Problem] = []
    if kustomization.spec.get("wait") is not True:
        problems.append(
            kustomization.problem(
                "spec.wait",
                "is not true: Flux reports the group Ready before its objects are",
                severity="warning",
            )
        )
    if not kustomization.spec.get("timeout"):
        problems.append(
            kustomization.problem(
                "spec.timeout",
                "is not set: a group that never becomes ready is waited for a whole interval",
                severity="warning",
            )
        )
    depends = {
        str(_mapping(d).get("name") or "") for d in kustomization.spec.get("dependsOn") or ()
    }
    if infrastructure and not depends & {k.name for k in infrastructure}:
        problems.append(
            kustomization.problem(
                "spec.dependsOn",
                f"does not name {infrastructure[0].name!r}: the group may be applied before "
                "its namespaces and CRDs exist",
                severity="warning",
            )
        )
    return problems


def _coverage(
    groups: list[FluxKustomization], *, cluster: str, fleet: Fleet, labelled: dict[str, bool]
) -> list[Problem]:
    """Every group of the fleet has its own Kustomization here (a move may bring it here)."""
    problems: list[Problem] = []
    whole = [k for k in groups if k.group is None]
    for one in whole:
        problems.append(
            one.problem(
                "spec.patches",
                f"applies every group of {cluster} in one Kustomization: one stuck or broken "
                "group holds back the others (give each group its own, see repo-template)",
                severity="warning",
            )
        )
    own = {k.group: k for k in groups if k.group is not None}
    for group in fleet.groups:
        dedicated = own.get(group.name)
        if dedicated is not None and not labelled[group.name]:
            problems.append(
                dedicated.problem(
                    "spec.patches",
                    f"keeps only objects labelled {GROUP_LABEL}={group.name}, and "
                    f"{group.path}/kustomization.yaml does not set that label: Flux would "
                    "apply none of the group's objects",
                )
            )
        if dedicated is None and not whole and groups:
            where = "" if group.cluster == cluster else f" (a move to {cluster})"
            problems.append(
                Problem(
                    groups[0].shown,
                    "",
                    f"has no Kustomization for group {group.name}: Flux would not apply it "
                    f"on {cluster}{where}",
                    group=group.name,
                    severity="warning",
                )
            )
    return problems


def _carries_label(root: Path, group: Group) -> bool:
    """The group's kustomization.yaml labels every object with the group's name."""
    shown = f"{group.path}/kustomization.yaml"
    try:
        data = load_yaml_mapping(root / shown, shown_as=shown)
    except InputError:
        return False
    if not isinstance(data, Mapping):
        return False
    entries = data.get("labels")
    pairs = [_mapping(_mapping(e).get("pairs")) for e in entries or () if isinstance(e, Mapping)]
    pairs.append(_mapping(data.get("commonLabels")))
    return any(p.get(GROUP_LABEL) == group.name for p in pairs)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
