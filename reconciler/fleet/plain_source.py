"""Which groups are plain (read in-process) and which files a plain group's manifests are in.

A plain group has no kustomization.yaml (every YAML file of the directory, as an Argo CD
directory application reads it), or one that lists only local files under `resources`,
with an optional `namespace` (and apiVersion, kind, metadata). Everything else is rendered
by kustomize; a remote base is refused, since a render must not reach the network.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem, kind_of
from reconciler.core.yaml_files import line_of, load_yaml_mapping

POLICY_FILE = "placement.yaml"
KUSTOMIZATION = "kustomization.yaml"
OTHER_KUSTOMIZATIONS = ("kustomization.yml", "Kustomization")
PLAIN_KEYS = frozenset({"apiVersion", "kind", "metadata", "resources", "namespace", "labels"})
_PLAIN_LABEL_KEYS = frozenset({"pairs", "includeSelectors", "includeTemplates"})


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a group's manifests come from: plain files, or a render by kustomize."""

    files: tuple[str, ...] = ()
    namespace: str = ""  # the kustomization's namespace (it overrides the objects')
    labels: tuple[tuple[str, str], ...] = ()  # `labels` pairs, set on metadata.labels only
    rendered: bool = False  # kustomize renders the directory
    problems: tuple[Problem, ...] = ()
    refused: bool = False  # cannot be rendered safely (a remote base): the group is not judged


def is_remote(entry: str) -> bool:
    """Whether a kustomization entry is a URL or a git reference (kustomize would fetch it)."""
    lowered = entry.lower()
    return "://" in entry or lowered.startswith(("git@", "github.com/", "gitlab.com/"))


def remote_problem(file: str, field: str, entry: str, *, line: int | None) -> Problem:
    """The problem of a remote base: never fetched, so the group cannot be judged."""
    return Problem(
        file,
        field,
        f"{entry!r} is a remote base: a render must not reach the network, so the group "
        "is not judged (vendor it into the fleet repo)",
        line=line,
    )


def group_source(path: Path, *, shown: str) -> Source:
    """How a group's manifests are read: its plain files, or rendered by kustomize."""
    kustomization_path = path / KUSTOMIZATION
    kustomization_file = f"{shown}/{KUSTOMIZATION}"
    if not lexists(kustomization_path):
        if any(lexists(path / other) for other in OTHER_KUSTOMIZATIONS):
            return Source(rendered=True)
        every_yaml = sorted(
            p.name
            for p in path.iterdir()
            if p.suffix in {".yaml", ".yml", ".json"} and p.name != POLICY_FILE
        )
        return Source(files=tuple(every_yaml))
    try:
        kustomization: Any = load_yaml_mapping(
            kustomization_path, shown_as=kustomization_file, lines=True
        )
    except InputError as error:
        return Source(problems=(error.problem,))
    if kustomization is None:
        kustomization = {}
    if not isinstance(kustomization, Mapping):
        kind = kind_of(kustomization)
        problem = Problem(kustomization_file, "", f"expected a mapping, found {kind}")
        return Source(problems=(problem,))
    labels = _plain_labels(kustomization.get("labels"))
    if not set(kustomization) <= PLAIN_KEYS or labels is None:
        return Source(rendered=True)
    source = _plain_resources(path, kustomization, file=kustomization_file)
    return dataclasses.replace(source, labels=labels) if labels else source


def _plain_labels(raw: object) -> tuple[tuple[str, str], ...] | None:
    """`labels` that only set metadata.labels (no selectors, no templates); None otherwise."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return None
    pairs: dict[str, str] = {}
    for entry in raw:
        if not isinstance(entry, Mapping) or not set(entry) <= _PLAIN_LABEL_KEYS:
            return None
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            return None
        found = entry.get("pairs") or {}
        if not isinstance(found, Mapping):
            return None
        for key, value in found.items():
            if not isinstance(key, str) or not isinstance(value, str):
                return None
            pairs[key] = value
    return tuple(pairs.items())


def _plain_resources(path: Path, kustomization: Mapping[str, Any], *, file: str) -> Source:
    resources = kustomization.get("resources") or []
    if not isinstance(resources, list):
        line = line_of(kustomization, "resources")
        return Source(problems=(Problem(file, "resources", "must be a list of files", line=line),))
    problems: list[Problem] = []
    files: list[str] = []
    rendered = False
    for index, entry in enumerate(resources):
        field = f"resources[{index}]"
        line = line_of(kustomization, field)
        if not isinstance(entry, str) or not entry.strip():
            problems.append(Problem(file, field, f"{entry!r} is not a file name", line=line))
        elif is_remote(entry):
            return Source(problems=(remote_problem(file, field, entry, line=line),), refused=True)
        elif entry.startswith("/") or ".." in Path(entry).parts:
            rendered = True  # a base elsewhere in the repo: kustomize reads it
        elif (kind := entry_kind(path, entry)) == "link":
            message = f"{entry!r} is a symbolic link or leads through one (not followed)"
            problems.append(Problem(file, field, message, line=line))
        elif kind == "file":
            files.append(entry)
        elif kind == "directory":
            rendered = True
        else:
            message = f"{entry!r} is not a file in the group"
            problems.append(Problem(file, field, message, line=line))
    namespace = kustomization.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        line = line_of(kustomization, "namespace")
        message = f"{namespace!r} is not a namespace name"
        problems.append(Problem(file, "namespace", message, line=line))
        namespace = None
    if rendered:
        return Source(rendered=True)
    return Source(files=tuple(files), namespace=namespace or "", problems=tuple(problems))


def inside(path: Path, root: Path) -> bool:
    """Whether a path, symbolic links resolved, stays inside root."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def entry_kind(path: Path, entry: str) -> str:
    """What a resource entry names: "link" (a symbolic link, or a way out of the group),
    "file", "directory" or "other" (missing included).

    The common entry ("web.yaml") costs one lstat per component. Only when a component is
    a symbolic link, or cannot be looked at, are the paths resolved as they always were.
    """
    current = path
    found: os.stat_result | None = None
    for part in Path(entry).parts:
        current = current / part
        try:
            found = os.lstat(current)
        except FileNotFoundError:
            return "other"  # missing here, so missing below: no link is on the way
        except OSError:
            return _entry_kind_resolved(path, entry)
        if stat.S_ISLNK(found.st_mode):
            return _entry_kind_resolved(path, entry)
    if found is None:  # "." or "./": the group directory itself
        return _entry_kind_resolved(path, entry)
    if stat.S_ISREG(found.st_mode):
        return "file"
    return "directory" if stat.S_ISDIR(found.st_mode) else "other"


def _entry_kind_resolved(path: Path, entry: str) -> str:
    target = path / entry
    if not inside(target, path) or target.is_symlink():
        return "link"
    if target.is_file():
        return "file"
    return "directory" if target.is_dir() else "other"


def lexists(path: Path) -> bool:
    """`path.exists() or path.is_symlink()` in one lstat (the same errors are ignored)."""
    try:
        os.lstat(path)
    except OSError as error:
        if error.errno in _MISSING_ERRNOS:
            return False
        raise
    return True
