"""The fleet as read from git: clusters (fleet.yaml), groups, their manifests and policies."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.core.config import FleetConfig, GroupPolicy
from reconciler.core.problems import Problem


@dataclasses.dataclass(frozen=True)
class Manifest:
    """One Kubernetes object declared in a group (one YAML document)."""

    # Repo-relative: the file it is written in for a plain group (read in-process), the
    # group's kustomization for a rendered one (kustomize does not say which file).
    file: str
    body: Mapping[str, Any]  # the object as kustomize renders it
    namespace: str  # metadata.namespace as rendered, else "default"

    @property
    def kind(self) -> str:
        """The object's kind."""
        return str(self.body.get("kind") or "")

    @property
    def name(self) -> str:
        """The object's metadata.name."""
        metadata = self.body.get("metadata")
        return str(metadata.get("name") or "") if isinstance(metadata, Mapping) else ""


@dataclasses.dataclass(frozen=True)
class Group:
    """A placement group: one directory under clusters/<cluster>/groups/, moved as a whole."""

    name: str
    cluster: str
    path: str  # repo-relative directory
    manifests: tuple[Manifest, ...]
    policy: GroupPolicy
    moving_to: str = ""  # make-before-break: the cluster that holds the group's copy


@dataclasses.dataclass(frozen=True)
class EngineNames:
    """What the GitOps engines call each group's applier, so live objects name their group.

    `argo_apps`: Argo CD Application name → group (from the ApplicationSets' templates).
    `flux`: per cluster, (namespace, name) of a per-group Flux Kustomization → group.
    Empty when the repo has no such bootstrap: membership is by identity alone.
    """

    argo_apps: Mapping[str, str] = dataclasses.field(default_factory=dict)
    flux: Mapping[str, Mapping[tuple[str, str], str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Fleet:
    """Everything the planner needs from the fleet repo, plus what was wrong with it."""

    config: FleetConfig
    groups: tuple[Group, ...]
    problems: tuple[Problem, ...] = ()
    renderer: str = ""  # the kustomize that rendered groups, in words; "" when all were plain
    engines: EngineNames = dataclasses.field(default_factory=EngineNames)

    def group(self, name: str) -> Group | None:
        """The group of that name, if the fleet has it."""
        return next((g for g in self.groups if g.name == name), None)
