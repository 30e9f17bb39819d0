"""What a group's render reads outside its directory: the bases and components it refers to.

kustomize's load restrictor (on by default, and never turned off here) keeps every file a
kustomization loads inside that kustomization's directory; only directory references
(resources, components, bases, generators, transformers, validators) reach elsewhere.
So the render of a group reads its own directory plus the directories these references
lead to, followed transitively: that set keys the render cache, and each is checked to
stay inside the fleet repo and to be fetched from nowhere.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem
from reconciler.core.yaml_files import line_of, load_yaml_mapping
from reconciler.fleet.plain_source import (
    KUSTOMIZATION,
    OTHER_KUSTOMIZATIONS,
    is_remote,
    remote_problem,
)

_REFERENCES = ("resources", "components", "bases", "generators", "transformers", "validators")
_MAX_DIRECTORIES = 500  # a reference chain this long is a loop or a mistake; kustomize says so


@dataclasses.dataclass(frozen=True)
class RenderInputs:
    """The directories outside the group a render reads, and why it must not run."""

    directories: tuple[str, ...] = ()  # repo-relative, sorted
    problems: tuple[Problem, ...] = ()  # errors: the group is not rendered
    helm: bool = False  # some kustomization on the way has helmCharts


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization of a directory under any name kustomize accepts."""
    for name in (KUSTOMIZATION, *OTHER_KUSTOMIZATIONS):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def render_inputs(
    group_dir: Path, *, root: Path, parsed: dict[Path, Any] | None = None
) -> RenderInputs:
    """Follow a group's kustomization references; `parsed` shares loaded files between groups."""
    memo = parsed if parsed is not None else {}
    root_resolved = _resolved_root(root)
    group_resolved = group_dir.resolve()
    seen: set[Path] = {group_resolved}
    outside: set[str] = set()
    problems: list[Problem] = []
    helm = False
    todo = [group_resolved]
    root_text, group_text = str(root_resolved), str(group_resolved)
    while todo and len(seen) < _MAX_DIRECTORIES:
        directory = todo.pop()
        found = kustomization_file(directory)
        if found is None:
            continue
        kustomization = _load(found, root=root_resolved, memo=memo)
        if not isinstance(kustomization, Mapping):
            continue
        helm = helm or "helmCharts" in kustomization
        shown = found.relative_to(root_resolved).as_posix()
        for key in _REFERENCES:
            entries = kustomization.get(key)
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, str):
                    continue
                field = f"{key}[{index}]"
                line = line_of(kustomization, field)
                if is_remote(entry):
                    problems.append(remote_problem(shown, field, entry, line=line))
                    continue
                # A file is kustomize's to check: its load restrictor keeps every file
                # inside the kustomization's directory. Directories may lead anywhere.
                path = os.path.join(directory, entry)
                is_dir = os.path.isdir(path)
                if not is_dir and not _climbs(entry):
                    continue
                real = _real(path)
                if real is not None and not _under(real, root_text):
                    message = f"{entry!r} leads outside the fleet repo: it is not read"
                    problems.append(Problem(shown, field, message, line=line))
                    continue
                if real is None or not is_dir or Path(real) in seen:
                    continue
                seen.add(Path(real))
                todo.append(Path(real))
                if not _under(real, group_text):
                    outside.add(Path(real).relative_to(root_resolved).as_posix())
    return RenderInputs(directories=tuple(sorted(outside)), problems=tuple(problems), helm=helm)


@functools.lru_cache(maxsize=16)
def _resolved_root(root: Path) -> Path:
    """The repo's real path, resolved once for all its groups rather than once per group."""
    return root.resolve()


def _climbs(entry: str) -> bool:
    """Whether an entry may lead out of its directory (absolute, or through "..")."""
    return entry.startswith("/") or ".." in entry.split("/")


def _real(path: str) -> str | None:
    """The path with symbolic links resolved, or None when it cannot be."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError, RuntimeError):
        return None


def _under(path: str, directory: str) -> bool:
    """Whether a resolved path is the directory or inside it."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _load(path: Path, *, root: Path, memo: dict[Path, Any]) -> Any:
    """A kustomization's content, loaded once per pass; None when kustomize must judge it."""
    if path not in memo:
        try:
            memo[path] = load_yaml_mapping(
                path, shown_as=path.relative_to(root).as_posix(), lines=True
            )
        except InputError:
            memo[path] = None  # kustomize reports it in its own words
    return memo[path]
