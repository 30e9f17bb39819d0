"""The names the GitOps engines give each group's applier, read from the repo's bootstrap.

Argo CD writes its Application's name on what it applies (the tracking-id annotation, or
the app.kubernetes.io/instance label); the Application names come from the ApplicationSet
template (`{{index .path.segments 1}}-{{.path.basename}}` in repo-template), evaluated for
every group directory the reader found that a generator selects. Flux labels what a
Kustomization applies with its name and namespace; a Kustomization is a group's when it
keeps only that group (repo-template's `group-<group>`, with its label-selector patch) or
builds only that group's directory.
Unreadable bootstrap files give no names here: `validate` reports them, and membership
falls back to the objects' identity.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError
from reconciler.core.yaml_files import load_yaml_documents
from reconciler.fleet.appset import ApplicationNamer
from reconciler.fleet.flux import FluxKustomization
from reconciler.fleet.model import EngineNames, Fleet

_GROUP_DIRECTORY = re.compile(r"clusters/([^/]+)/groups/([^/]+)")
FLUX_DEFAULT_NAMESPACE = "flux-system"


def with_engine_names(fleet: Fleet, *, root: Path) -> Fleet:
    """The fleet with the engines' names of its groups, read from `root`'s bootstrap."""
    return dataclasses.replace(fleet, engines=engine_names(root, fleet=fleet))


def engine_names(root: Path, *, fleet: Fleet) -> EngineNames:
    """Argo CD Application names and per-group Flux Kustomizations, each mapped to its group."""
    groups = {group.name for group in fleet.groups}
    return EngineNames(argo_apps=_argo_apps(root, fleet=fleet), flux=_flux(root, groups=groups))


def _argo_apps(root: Path, *, fleet: Fleet) -> dict[str, str]:
    namers = [
        ApplicationNamer.of(doc)
        for doc in _documents(root / "bootstrap" / "argocd", root=root)
        if doc.get("kind") == "ApplicationSet"
    ]
    apps: dict[str, str] = {}
    for directory, group in _group_directories(fleet) if namers else ():
        for namer in namers:
            name = namer.name_of(directory)
            if name:
                apps[name] = group
    return apps


def _group_directories(fleet: Fleet) -> list[tuple[str, str]]:
    """Every group directory in the tree: a make-before-break copy's too."""
    found = []
    for group in fleet.groups:
        found.append((group.path.strip("/"), group.name))
        if group.moving_to:
            found.append((f"clusters/{group.moving_to}/groups/{group.name}", group.name))
    return found


def _flux(root: Path, *, groups: set[str]) -> dict[str, dict[tuple[str, str], str]]:
    flux_dir = root / "bootstrap" / "flux"
    names: dict[str, dict[tuple[str, str], str]] = {}
    if not flux_dir.is_dir() or flux_dir.is_symlink():
        return names
    for cluster_dir in sorted(flux_dir.iterdir()):
        if not cluster_dir.is_dir() or cluster_dir.is_symlink():
            continue
        for doc in _documents(cluster_dir, root=root):
            api_version = str(doc.get("apiVersion", ""))
            if doc.get("kind") != "Kustomization" or not api_version.startswith(
                "kustomize.toolkit.fluxcd.io/"
            ):
                continue
            kustomization = FluxKustomization(str(cluster_dir), doc)
            group = _group_of(kustomization)
            if group in groups and kustomization.name:
                namespace = str(_mapping(doc.get("metadata")).get("namespace") or "")
                key = (namespace or FLUX_DEFAULT_NAMESPACE, kustomization.name)
                names.setdefault(cluster_dir.name, {})[key] = group
    return names


def _group_of(kustomization: FluxKustomization) -> str:
    """The one group a Flux Kustomization applies, or '' when it applies several."""
    kept = kustomization.group
    if kept:
        return kept
    found = _GROUP_DIRECTORY.fullmatch(kustomization.path)
    return found.group(2) if found else ""


def _documents(directory: Path, *, root: Path) -> list[Mapping[str, Any]]:
    if not directory.is_dir() or directory.is_symlink():
        return []
    found: list[Mapping[str, Any]] = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            documents = load_yaml_documents(path, shown_as=str(path.relative_to(root)))
        except InputError:
            continue
        found += [doc for doc in documents if isinstance(doc, Mapping)]
    return found


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
