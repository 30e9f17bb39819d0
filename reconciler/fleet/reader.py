"""Read a fleet repo checkout into a Fleet; every defect becomes a Problem, not a crash."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.config import (
    FleetConfig,
    PolicyFields,
    load_fleet_config,
    load_policy,
    resolve_policy,
)
from reconciler.files import load_yaml_documents, load_yaml_mapping
from reconciler.fleet.model import Fleet, Group, Manifest
from reconciler.problems import InputError, Problem

FLEET_FILE = "fleet.yaml"
POLICY_FILE = "placement.yaml"
KUSTOMIZATION = "kustomization.yaml"
_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def read_fleet_config(root: Path) -> FleetConfig:
    """Load fleet.yaml; raise InputError when it is missing or invalid (the repo is unusable)."""
    path = root / FLEET_FILE
    if not path.is_file():
        raise InputError(
            Problem(FLEET_FILE, "", "is missing: this does not look like a fleet repo")
        )
    config, problems = load_fleet_config(
        load_yaml_mapping(path, shown_as=FLEET_FILE), file=FLEET_FILE
    )
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise InputError(errors[0] if errors else problems[0])
    return config


def read_fleet(root: Path) -> Fleet:
    """Read fleet.yaml and every group; raise InputError only when fleet.yaml itself is unusable."""
    config = read_fleet_config(root)
    _, warnings = load_fleet_config(
        load_yaml_mapping(root / FLEET_FILE, shown_as=FLEET_FILE), file=FLEET_FILE
    )
    problems: list[Problem] = list(warnings)
    groups: list[Group] = []
    clusters_dir = root / "clusters"
    known = {c.name for c in config.clusters}
    if clusters_dir.is_dir():
        for cluster_dir in sorted(clusters_dir.iterdir()):
            shown = f"clusters/{cluster_dir.name}"
            if cluster_dir.is_symlink() or not cluster_dir.is_dir():
                problems.append(Problem(shown, "", "is not a directory (ignored)"))
                continue
            if cluster_dir.name not in known:
                problems.append(
                    Problem(shown, "", "is not a cluster of fleet.yaml; its groups are not planned")
                )
                continue
            found, found_problems = _read_cluster(root, cluster_dir.name, config=config)
            groups += found
            problems += found_problems
    groups, duplicate_problems = _drop_duplicates(groups)
    return Fleet(config=config, groups=tuple(groups), problems=tuple(problems + duplicate_problems))


def _read_cluster(
    root: Path, cluster: str, *, config: FleetConfig
) -> tuple[list[Group], list[Problem]]:
    groups_dir = root / "clusters" / cluster / "groups"
    listing_file = f"clusters/{cluster}/groups/{KUSTOMIZATION}"
    problems: list[Problem] = []
    listed: list[str] = []
    if (groups_dir / KUSTOMIZATION).is_file():
        try:
            listed = listed_groups(
                load_yaml_mapping(groups_dir / KUSTOMIZATION, shown_as=listing_file)
            )
        except InputError as error:
            problems.append(error.problem)
        except ValueError as error:
            problems.append(Problem(listing_file, "resources", str(error)))
    elif groups_dir.is_dir():
        problems.append(
            Problem(listing_file, "", "is missing: Flux would apply no group of this cluster")
        )
    on_disk = (
        sorted(p.name for p in groups_dir.iterdir() if p.name != KUSTOMIZATION)
        if groups_dir.is_dir()
        else []
    )
    for name in listed:
        if name not in on_disk:
            problems.append(
                Problem(
                    listing_file,
                    "resources",
                    f"lists {name!r} but clusters/{cluster}/groups/{name}/ does not exist",
                    group=name,
                )
            )
    groups: list[Group] = []
    for name in on_disk:
        shown = f"clusters/{cluster}/groups/{name}"
        path = groups_dir / name
        if not _GROUP_NAME.match(name):
            problems.append(
                Problem(
                    shown,
                    "",
                    f"{name!r} is not a valid group name "
                    "(lowercase letters, digits and '-', at most 63 characters)",
                )
            )
            continue
        if path.is_symlink() or not path.is_dir():
            problems.append(
                Problem(
                    shown, "", "is not a directory (symbolic links are not followed)", group=name
                )
            )
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
            path, name=name, cluster=cluster, shown=shown, config=config
        )
        problems += group_problems
        if group is not None:
            groups.append(group)
    return groups, problems


def listed_groups(kustomization: object) -> list[str]:
    """The group directory names a cluster's groups/kustomization.yaml lists."""
    if kustomization is None:
        return []
    if not isinstance(kustomization, Mapping):
        raise ValueError("expected a mapping")
    resources = kustomization.get("resources") or []
    if not isinstance(resources, list):
        raise ValueError("must be a list of group directories")
    return [str(entry).strip().removeprefix("./").rstrip("/") for entry in resources]


def _read_group(
    path: Path, *, name: str, cluster: str, shown: str, config: FleetConfig
) -> tuple[Group | None, list[Problem]]:
    problems: list[Problem] = []
    policy_fields: PolicyFields | None = None
    if (path / POLICY_FILE).exists():
        try:
            raw = load_yaml_mapping(path / POLICY_FILE, shown_as=f"{shown}/{POLICY_FILE}")
            policy_fields, policy_problems = load_policy(raw, file=f"{shown}/{POLICY_FILE}")
            problems += [p for p in policy_problems]
        except InputError as error:
            problems.append(error.problem)
        if policy_fields is None:
            # A group whose policy cannot be read is never moved: the policy might forbid it.
            problems = [_with_group(p, name) for p in problems]
            return None, problems
    files, namespace, kustomize_problems = _group_files(path, shown=shown)
    problems += kustomize_problems
    manifests: list[Manifest] = []
    for file in files:
        shown_file = f"{shown}/{file}"
        try:
            documents = load_yaml_documents(path / file, shown_as=shown_file)
        except InputError as error:
            problems.append(error.problem)
            continue
        for index, document in enumerate(documents):
            if not isinstance(document, Mapping) or "kind" not in document:
                problems.append(
                    Problem(
                        shown_file, f"document {index + 1}", "is not a Kubernetes object (no kind)"
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
    return group, [_with_group(p, name) for p in problems]


def _group_files(path: Path, *, shown: str) -> tuple[list[str], str, list[Problem]]:
    """A group's manifest files (kustomization resources, else every YAML file), namespace."""
    kustomization_path = path / KUSTOMIZATION
    if not kustomization_path.exists():
        every_yaml = sorted(
            p.name
            for p in path.iterdir()
            if p.suffix in {".yaml", ".yml", ".json"} and p.name != POLICY_FILE
        )
        return every_yaml, "", []
    try:
        kustomization: Any = load_yaml_mapping(
            kustomization_path, shown_as=f"{shown}/{KUSTOMIZATION}"
        )
    except InputError as error:
        return [], "", [error.problem]
    if not isinstance(kustomization, Mapping):
        return [], "", [Problem(f"{shown}/{KUSTOMIZATION}", "", "expected a mapping")]
    problems: list[Problem] = []
    files: list[str] = []
    resources = kustomization.get("resources") or []
    if not isinstance(resources, list):
        return [], "", [Problem(f"{shown}/{KUSTOMIZATION}", "resources", "must be a list of files")]
    for entry in resources:
        entry = str(entry)
        if "://" in entry or entry.startswith("/") or ".." in Path(entry).parts:
            problems.append(
                Problem(
                    f"{shown}/{KUSTOMIZATION}",
                    "resources",
                    f"{entry!r} points outside the group: its demand is not counted",
                    severity="warning",
                )
            )
        elif (path / entry).is_file():
            files.append(entry)
        else:
            problems.append(
                Problem(
                    f"{shown}/{KUSTOMIZATION}", "resources", f"{entry!r} is not a file in the group"
                )
            )
    return files, str(kustomization.get("namespace") or ""), problems


def _with_group(problem: Problem, group: str) -> Problem:
    if problem.group:
        return problem
    return Problem(
        problem.file, problem.field, problem.message, group=group, severity=problem.severity
    )


def _drop_duplicates(groups: list[Group]) -> tuple[list[Group], list[Problem]]:
    """A group name under two clusters is ambiguous: neither copy is planned."""
    clusters: dict[str, list[str]] = {}
    for group in groups:
        clusters.setdefault(group.name, []).append(group.cluster)
    problems = [
        Problem(
            f"clusters/*/groups/{name}",
            "",
            f"group {name!r} is under several clusters ({', '.join(where)}); "
            "it is not planned until only one remains",
            group=name,
        )
        for name, where in clusters.items()
        if len(where) > 1
    ]
    return [g for g in groups if len(clusters[g.name]) == 1], problems
