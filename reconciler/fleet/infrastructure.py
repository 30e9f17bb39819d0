"""The namespaces a cluster's infrastructure creates (clusters/<cluster>/infrastructure/).

Argo CD's CreateNamespace only creates an Application's destination.namespace and Flux has
no such option, so a group's namespaces must exist before the group is applied; the template
creates them in each cluster's infrastructure, which both tools apply before any group. This
follows the kustomization's local `resources` (files and directories inside the repo, never
through a symbolic link) and collects the Namespace objects; remote resources are skipped,
since reading them would need the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reconciler.core.problems import InputError
from reconciler.core.yaml_files import load_yaml_documents, load_yaml_mapping

INFRASTRUCTURE = "infrastructure"
ALWAYS_THERE = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MAX_DIRECTORIES = 64  # a deeper chain of bases than this is not an infrastructure layout


def infrastructure_dir(root: Path, cluster: str) -> Path:
    """Where a cluster's infrastructure lives."""
    return root / "clusters" / cluster / INFRASTRUCTURE


def created_namespaces(root: Path, cluster: str) -> set[str]:
    """Names of the Namespace objects the cluster's infrastructure declares."""
    found: set[str] = set()
    resolved = root.resolve()
    _walk(infrastructure_dir(resolved, cluster), root=resolved, found=found, seen=set())
    return found


def _walk(directory: Path, *, root: Path, found: set[str], seen: set[Path]) -> None:
    if len(seen) >= _MAX_DIRECTORIES or not _inside(directory, root) or directory in seen:
        return
    seen.add(directory)
    kustomization = next(
        (directory / n for n in _KUSTOMIZATION_FILES if (directory / n).is_file()), None
    )
    if kustomization is None:
        return
    try:
        data = load_yaml_mapping(kustomization, shown_as=str(kustomization))
    except InputError:
        return
    resources = data.get("resources") if isinstance(data, Mapping) else None
    for entry in resources if isinstance(resources, list) else ():
        if not isinstance(entry, str) or "://" in entry or entry.startswith(("/", "github.com")):
            continue
        target = Path(os.path.normpath(directory / entry))
        if not _inside(target, root):
            continue
        if target.is_dir():
            _walk(target, root=root, found=found, seen=seen)
        elif target.is_file():
            found.update(_namespaces_in(target))


def _namespaces_in(path: Path) -> set[str]:
    try:
        documents = load_yaml_documents(path, shown_as=str(path))
    except InputError:
        return set()
    names = set()
    for document in documents:
        if isinstance(document, Mapping) and document.get("kind") == "Namespace":
            metadata = document.get("metadata")
            if isinstance(metadata, Mapping) and isinstance(metadata.get("name"), str):
                names.add(metadata["name"])
    return names


def _inside(path: Path, root: Path) -> bool:
    """True when the path is in the repo and none of its directories is a symbolic link."""
    current = Path(os.path.normpath(path))
    if not current.is_relative_to(root):
        return False
    while current != root:
        if current.is_symlink():
            return False
        current = current.parent
    return True
