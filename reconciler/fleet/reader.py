"""Read a fleet repo checkout into a Fleet; every defect becomes a Problem, not a crash."""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.config import (
    FleetConfig,
    PolicyFields,
    load_fleet_config,
    load_policy,
    resolve_policy,
)
from reconciler.core.gc_pause import collector_paused
from reconciler.core.problems import InputError, Problem, kind_of
from reconciler.core.progress import GROUPS_RENDERED, Progress, no_progress
from reconciler.core.yaml_files import YamlMap, line_of, load_yaml_documents, load_yaml_mapping
from reconciler.fleet.model import Fleet, Group, Manifest

FLEET_FILE = "fleet.yaml"
POLICY_FILE = "placement.yaml"
KUSTOMIZATION = "kustomization.yaml"
_GROUP_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def read_fleet_config(root: Path) -> FleetConfig:
    """Load fleet.yaml; raise InputError when it is missing or invalid (the repo is unusable)."""
    return _fleet_config(root)[0]


def _fleet_config(root: Path) -> tuple[FleetConfig, list[Problem]]:
    """fleet.yaml and its warnings; InputError (the first error, with its line) when unusable."""
    path = root / FLEET_FILE
    if not path.is_file() and not path.is_symlink():
        what = "is a directory, not a file" if path.is_dir() else "is missing"
        raise InputError(Problem(FLEET_FILE, "", f"{what}: this does not look like a fleet repo"))
    raw = load_yaml_mapping(path, shown_as=FLEET_FILE, lines=True)
    config, problems = load_fleet_config(raw, file=FLEET_FILE)
    problems = [p.at_line(line_of(raw, p.field)) for p in problems]
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise InputError(_line_in_message(errors[0] if errors else problems[0]))
    return config, problems


def _line_in_message(problem: Problem) -> Problem:
    # The one-line error of an unusable fleet.yaml keeps the shape "fleet.yaml: field: what"
    # that scripts match on; its line goes at the end.
    if problem.line is None:
        return problem
    return Problem(problem.file, problem.field, f"{problem.message} (line {problem.line})")


def read_fleet(root: Path, *, progress: Progress = no_progress) -> Fleet:
    """Read fleet.yaml and every group; raise InputError only when fleet.yaml itself is unusable.

    `progress` is told as each cluster directory's groups are read and rendered."""
    with collector_paused():
        return _read_fleet(root, progress=progress)


def _read_fleet(root: Path, *, progress: Progress = no_progress) -> Fleet:
    config, warnings = _fleet_config(root)
    problems: list[Problem] = list(warnings)
    groups: list[Group] = []
    clusters_dir = root / "clusters"
    known = {c.name for c in config.clusters}
    if clusters_dir.is_symlink():
        problems.append(Problem("clusters", "", "is a symbolic link (not followed)"))
    elif clusters_dir.is_dir():
        cluster_dirs = sorted(clusters_dir.iterdir())
        for done, cluster_dir in enumerate(cluster_dirs):
            progress(GROUPS_RENDERED, done=done, total=len(cluster_dirs))
            shown = f"clusters/{cluster_dir.name}"
            if cluster_dir.is_symlink() or not cluster_dir.is_dir():
                problems.append(
                    Problem(shown, "", "is not a directory (symbolic links are not followed)")
                )
                continue
            if cluster_dir.name not in known:
                problems.append(
                    Problem(shown, "", "is not a cluster of fleet.yaml; its groups are not planned")
                )
                continue
            found, found_problems = _read_cluster(root, cluster_dir.name, config=config)
            groups += found
            problems += found_problems
        progress(GROUPS_RENDERED, done=len(cluster_dirs), total=len(cluster_dirs))
    groups, duplicate_problems = _drop_duplicates(groups)
    return Fleet(config=config, groups=tuple(groups), problems=tuple(problems + duplicate_problems))


def _read_cluster(
    root: Path, cluster: str, *, config: FleetConfig
) -> tuple[list[Group], list[Problem]]:
    groups_dir = root / "clusters" / cluster / "groups"
    listing_file = f"clusters/{cluster}/groups/{KUSTOMIZATION}"
    if groups_dir.is_symlink() or (groups_dir.exists() and not groups_dir.is_dir()):
        shown = f"clusters/{cluster}/groups"
        return [], [Problem(shown, "", "is not a directory (symbolic links are not followed)")]
    problems: list[Problem] = []
    listed: list[str] = []
    entry_lines: dict[str, int | None] = {}
    listing = groups_dir / KUSTOMIZATION
    if listing.is_file() or listing.is_symlink():
        try:
            raw = load_yaml_mapping(listing, shown_as=listing_file, lines=True)
            listed, listing_problems = listed_groups_with_problems(raw, file=listing_file)
            problems += listing_problems
            entry_lines = _entry_lines(raw)
        except InputError as error:
            problems.append(error.problem)
    elif groups_dir.is_dir():
        problems.append(
            Problem(listing_file, "", "is missing: Flux would apply no group of this cluster")
        )
    on_disk = (
        sorted(p.name for p in groups_dir.iterdir() if p.name != KUSTOMIZATION)
        if groups_dir.is_dir()
        else []
    )
    for name in dict.fromkeys(listed):
        if name not in on_disk:
            problems.append(
                Problem(
                    listing_file,
                    "resources",
                    f"lists {name!r} but clusters/{cluster}/groups/{name}/ does not exist",
                    group=name if _GROUP_NAME.fullmatch(name) else None,
                    line=entry_lines.get(name),
                )
            )
    groups: list[Group] = []
    for name in on_disk:
        shown = f"clusters/{cluster}/groups/{name}"
        path = groups_dir / name
        if path.is_symlink():
            problems.append(Problem(shown, "", "is a symbolic link (not followed)"))
            continue
        if not path.is_dir():
            if _GROUP_NAME.fullmatch(name) or name in listed:
                problems.append(Problem(shown, "", "is a file, not a group directory"))
            else:
                problems.append(
                    Problem(shown, "", "is not a group directory (ignored)", severity="warning")
                )
            continue
        if not _GROUP_NAME.fullmatch(name):
            problems.append(Problem(shown, "", group_name_problem(name)))
            continue
        if name not in listed:
            problems.append(
                Problem(
                    listing_file,
                    "resources",
                    f"does not list {name!r}: Flux would not apply it",
                    group=name,
                )
            )
        group, group_problems = _read_group(
            path, name=name, cluster=cluster, shown=shown, config=config, root=root
        )
        problems += group_problems
        if group is not None:
            groups.append(group)
    return groups, problems


def group_name_problem(name: str) -> str:
    """Why a directory name cannot be a group name, in words a person can act on."""
    rule = (
        "lowercase letters, digits and '-', at most 63 characters, "
        "starting and ending with a letter or digit"
    )
    odd = next((c for c in name if not c.isascii()), None)
    if odd is not None:
        return (
            f"{name!r} is not a valid group name: it contains {odd!r} (U+{ord(odd):04X}), "
            f"not an ASCII letter (a look-alike?); {rule}"
        )
    return f"{name!r} is not a valid group name ({rule})"


def listed_groups(kustomization: object) -> list[str]:
    """The group directory names a cluster's groups/kustomization.yaml lists."""
    listed, problems = listed_groups_with_problems(kustomization, file=KUSTOMIZATION)
    errors = [p for p in problems if p.severity == "error" and p.field in ("", "resources")]
    if errors and not listed:
        raise ValueError(errors[0].message)
    return listed


def listed_groups_with_problems(
    kustomization: object, *, file: str
) -> tuple[list[str], list[Problem]]:
    """The groups a cluster's groups/kustomization.yaml lists, and what is wrong with it."""
    if kustomization is None:
        return [], []
    if not isinstance(kustomization, Mapping):
        kind = kind_of(kustomization)
        return [], [Problem(file, "", f"expected a mapping at the top level, found {kind}")]
    resources = kustomization.get("resources")
    if resources is None:
        return [], []
    line = line_of(kustomization, "resources")
    if not isinstance(resources, list):
        return [], [Problem(file, "resources", "must be a list of group directories", line=line)]
    listed: list[str] = []
    problems: list[Problem] = []
    for index, entry in enumerate(resources):
        if not isinstance(entry, str):
            problems.append(
                Problem(
                    file,
                    f"resources[{index}]",
                    f"{entry!r} is not a directory name",
                    line=line_of(kustomization, f"resources[{index}]") or line,
                )
            )
            continue
        name = entry.strip().removeprefix("./").rstrip("/")
        if name in listed:
            problems.append(
                Problem(
                    file,
                    f"resources[{index}]",
                    f"lists {name!r} twice",
                    line=line_of(kustomization, f"resources[{index}]"),
                )
            )
            continue
        listed.append(name)
    return listed, problems


def _entry_lines(kustomization: object) -> dict[str, int | None]:
    """The line of each group a listing names (the first time it names it)."""
    resources = kustomization.get("resources") if isinstance(kustomization, Mapping) else None
    if not isinstance(resources, list):
        return {}
    lines: dict[str, int | None] = {}
    for index, entry in enumerate(resources):
        if isinstance(entry, str):
            name = entry.strip().removeprefix("./").rstrip("/")
            lines.setdefault(name, line_of(kustomization, f"resources[{index}]"))
    return lines


def _read_group(
    path: Path, *, name: str, cluster: str, shown: str, config: FleetConfig, root: Path
) -> tuple[Group | None, list[Problem]]:
    problems: list[Problem] = []
    policy_fields: PolicyFields | None = None
    policy_path = path / POLICY_FILE
    if _lexists(policy_path):
        policy_file = f"{shown}/{POLICY_FILE}"
        try:
            raw = load_yaml_mapping(policy_path, shown_as=policy_file, lines=True)
            policy_fields, policy_problems = load_policy(raw, file=policy_file)
            problems += [p.at_line(line_of(raw, p.field)) for p in policy_problems]
        except InputError as error:
            problems.append(error.problem)
        if policy_fields is None:
            # A group whose policy cannot be read is never moved: the policy might forbid it.
            return None, [p.for_group(name) for p in problems]
    files, namespace, kustomize_problems = _group_files(path, shown=shown, root=root)
    problems += kustomize_problems
    manifests: list[Manifest] = []
    for file in files:
        shown_file = f"{shown}/{file}"
        try:
            documents = load_yaml_documents(path / file, shown_as=shown_file, lines=True)
        except InputError as error:
            problems.append(error.problem)
            continue
        for index, document in enumerate(documents):
            if not isinstance(document, Mapping) or "kind" not in document:
                problems.append(
                    Problem(
                        shown_file,
                        f"document {index + 1}",
                        "is not a Kubernetes object (no kind)",
                        line=document.line if isinstance(document, YamlMap) else None,
                    )
                )
                continue
            raw_metadata = document.get("metadata")
            metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, Mapping) else {}
            manifests.append(
                Manifest(
                    file=shown_file,
                    body=document,
                    namespace=str(metadata.get("namespace") or namespace or "default"),
                )
            )
    policy = resolve_policy(config.defaults, policy_fields)
    group = Group(name=name, cluster=cluster, path=shown, manifests=tuple(manifests), policy=policy)
    return group, [p.for_group(name) for p in problems]


def _inside(path: Path, root: Path) -> bool:
    """Whether a path, symbolic links resolved, stays inside the repo."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _entry_kind(path: Path, entry: str) -> str:
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
    if not _inside(target, path) or target.is_symlink():
        return "link"
    if target.is_file():
        return "file"
    return "directory" if target.is_dir() else "other"


def _lexists(path: Path) -> bool:
    """`path.exists() or path.is_symlink()` in one lstat (the same errors are ignored)."""
    try:
        os.lstat(path)
    except OSError as error:
        if error.errno in _MISSING_ERRNOS:
            return False
        raise
    return True


def _group_files(path: Path, *, shown: str, root: Path) -> tuple[list[str], str, list[Problem]]:
    """A group's manifest files (kustomization resources, else every YAML file), namespace."""
    kustomization_path = path / KUSTOMIZATION
    kustomization_file = f"{shown}/{KUSTOMIZATION}"
    if not _lexists(kustomization_path):
        every_yaml = sorted(
            p.name
            for p in path.iterdir()
            if p.suffix in {".yaml", ".yml", ".json"} and p.name != POLICY_FILE
        )
        return every_yaml, "", []
    try:
        kustomization: Any = load_yaml_mapping(
            kustomization_path, shown_as=kustomization_file, lines=True
        )
    except InputError as error:
        return [], "", [error.problem]
    if kustomization is None:
        kustomization = {}
    if not isinstance(kustomization, Mapping):
        kind = kind_of(kustomization)
        return [], "", [Problem(kustomization_file, "", f"expected a mapping, found {kind}")]
    problems: list[Problem] = []
    files: list[str] = []
    resources = kustomization.get("resources") or []
    if not isinstance(resources, list):
        return (
            [],
            "",
            [
                Problem(
                    kustomization_file,
                    "resources",
                    "must be a list of files",
                    line=line_of(kustomization, "resources"),
                )
            ],
        )
    for index, entry in enumerate(resources):
        field = f"resources[{index}]"
        line = line_of(kustomization, field)
        if not isinstance(entry, str) or not entry.strip():
            problems.append(
                Problem(kustomization_file, field, f"{entry!r} is not a file name", line=line)
            )
            continue
        if "://" in entry or entry.startswith("/") or ".." in Path(entry).parts:
            problems.append(
                Problem(
                    kustomization_file,
                    field,
                    f"{entry!r} points outside the group: its demand is not counted",
                    severity="warning",
                    line=line,
                )
            )
        elif (kind := _entry_kind(path, entry)) == "link":
            problems.append(
                Problem(
                    kustomization_file,
                    field,
                    f"{entry!r} is a symbolic link or leads through one (not followed)",
                    line=line,
                )
            )
        elif kind == "file":
            files.append(entry)
        elif kind == "directory":
            problems.append(
                Problem(
                    kustomization_file,
                    field,
                    f"{entry!r} is a directory (a kustomize base): its demand is not counted",
                    severity="warning",
                    line=line,
                )
            )
        else:
            problems.append(
                Problem(
                    kustomization_file, field, f"{entry!r} is not a file in the group", line=line
                )
            )
    namespace = kustomization.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        problems.append(
            Problem(
                kustomization_file,
                "namespace",
                f"{namespace!r} is not a namespace name",
                line=line_of(kustomization, "namespace"),
            )
        )
        namespace = None
    return files, namespace or "", problems


def _with_group(problem: Problem, group: str) -> Problem:
    if problem.group:
        return problem
    return Problem(
        problem.file, problem.field, problem.message, group=group, severity=problem.severity
    )


def _drop_duplicates(groups: list[Group]) -> tuple[list[Group], list[Problem]]:
    """A group name under two clusters is ambiguous, unless a make-before-break is under way.

    During a make-before-break move both copies carry the same moveInProgress marker; the
    group is then planned once, at its source, with `moving_to` naming the copy's cluster.
    Any other duplicate is reported and neither copy is planned.
    """
    copies: dict[str, list[Group]] = {}
    for group in groups:
        copies.setdefault(group.name, []).append(group)
    kept: list[Group] = []
    problems: list[Problem] = []
    for name, found in copies.items():
        if len(found) == 1:
            kept.append(found[0])
            continue
        moving = _move_in_progress(found)
        if moving is not None:
            kept.append(moving)
            continue
        where = ", ".join(g.cluster for g in found)
        problems.append(
            Problem(
                f"clusters/*/groups/{name}",
                "",
                f"group {name!r} is under several clusters ({where}); it is not planned until "
                "only one remains (a make-before-break move marks both copies' placement.yaml "
                "with the same moveInProgress)",
                group=name,
            )
        )
    return kept, problems


def _move_in_progress(copies: list[Group]) -> Group | None:
    """The source copy of a marked make-before-break move, or None when it is not one."""
    markers = {g.policy.move_in_progress for g in copies}
    if len(copies) != 2 or len(markers) != 1:
        return None
    marker = markers.pop()
    if marker is None or {g.cluster for g in copies} != {marker.source, marker.target}:
        return None
    source = next(g for g in copies if g.cluster == marker.source)
    return dataclasses.replace(source, moving_to=marker.target)
