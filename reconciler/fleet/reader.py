"""Read a fleet repo checkout into a Fleet; every defect becomes a Problem, not a crash."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from pathlib import Path

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
from reconciler.core.yaml_files import line_of, load_yaml_mapping
from reconciler.fleet import render_cache
from reconciler.fleet.model import Fleet, Group
from reconciler.fleet.plain import read_plain
from reconciler.fleet.plain_cache import PlainCache, plain_cache_dir
from reconciler.fleet.plain_source import KUSTOMIZATION, POLICY_FILE, group_source, lexists
from reconciler.fleet.render_groups import render_groups

FLEET_FILE = "fleet.yaml"
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


def read_fleet(root: Path, *, progress: Progress = no_progress, cache_plain: bool = False) -> Fleet:
    """Read fleet.yaml and every group; raise InputError only when fleet.yaml itself is unusable.

    `progress` is told as each cluster directory's groups are read and rendered. With
    `cache_plain`, plain groups unchanged in git come from plain_cache: their bodies carry
    no YAML line numbers, so a reader that locates findings in manifests must not ask."""
    with collector_paused():
        return _read_fleet(root, progress=progress, cache_plain=cache_plain)


def _read_fleet(root: Path, *, progress: Progress, cache_plain: bool) -> Fleet:
    trees = functools.cache(lambda: render_cache.TreeIds.of(root))  # one git read, if any
    tree_ids = trees() if cache_plain else None
    plain_cache = PlainCache(tree_ids, plain_cache_dir()) if tree_ids is not None else None
    config, warnings = _fleet_config(root)
    problems: list[Problem] = list(warnings)
    groups: list[Group] = []
    to_render: dict[str, Group] = {}
    cluster_dirs: list[Path] = []
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
            found, found_problems = _read_cluster(
                root, cluster_dir.name, config=config, to_render=to_render, cache=plain_cache
            )
            groups += found
            problems += found_problems
    renders, renderer = render_groups(list(to_render), root=root, config=config.render, trees=trees)
    if cluster_dirs:
        progress(GROUPS_RENDERED, done=len(cluster_dirs), total=len(cluster_dirs))
    rendered: list[Group] = []
    for group in groups:
        outcome = renders.get(group.path)
        if outcome is None:
            rendered.append(group)
            continue
        problems += [p.for_group(group.name) for p in outcome.problems]
        if not outcome.failed:  # a group that did not render is not judged
            rendered.append(dataclasses.replace(group, manifests=outcome.manifests))
    groups, duplicate_problems = _drop_duplicates(rendered)
    return Fleet(
        config=config,
        groups=tuple(groups),
        problems=tuple(problems + duplicate_problems),
        renderer=renderer,
    )


def _read_cluster(
    root: Path,
    cluster: str,
    *,
    config: FleetConfig,
    to_render: dict[str, Group],
    cache: PlainCache | None,
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
            path,
            name=name,
            cluster=cluster,
            shown=shown,
            config=config,
            to_render=to_render,
            cache=cache,
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
    path: Path,
    *,
    name: str,
    cluster: str,
    shown: str,
    config: FleetConfig,
    to_render: dict[str, Group],
    cache: PlainCache | None,
) -> tuple[Group | None, list[Problem]]:
    """A group with its policy; plain manifests read (or cached) here, others to `to_render`."""
    problems: list[Problem] = []
    policy_fields: PolicyFields | None = None
    policy_path = path / POLICY_FILE
    if lexists(policy_path):
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
    policy = resolve_policy(config.defaults, policy_fields)
    key = cache.key(shown) if cache is not None else None
    cached = cache.load(key, shown=shown) if cache is not None and key is not None else None
    if cached is not None:  # stored only when the read had no problem, policy's included
        group = Group(name=name, cluster=cluster, path=shown, manifests=cached, policy=policy)
        return group, [p.for_group(name) for p in problems]
    source = group_source(path, shown=shown)
    plain = read_plain(path, source, shown=shown) if not source.rendered else None
    problems += source.problems if plain is None else plain.problems
    if source.refused:
        return None, [p.for_group(name) for p in problems]
    manifests = plain.manifests if plain is not None else ()
    group = Group(name=name, cluster=cluster, path=shown, manifests=manifests, policy=policy)
    if plain is None or plain.needs_render:
        to_render[shown] = group
    elif cache is not None and key is not None and not problems:
        cache.store(key, manifests, shown=shown)
    return group, [p.for_group(name) for p in problems]


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
