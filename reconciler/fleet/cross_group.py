"""Warn when a group's render reads inside another group's directory (a move would break it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.core.problems import Problem
from reconciler.fleet.model import Fleet
from reconciler.fleet.render_inputs import kustomization_file, render_inputs


def cross_group_problems(root: Path, *, fleet: Fleet) -> list[Problem]:
    """One warning per group directory another group's kustomization refers into."""
    parsed: dict[Path, Any] = {}
    problems: list[Problem] = []
    for group in fleet.groups:
        found = kustomization_file(root / group.path)
        if found is None:
            continue
        inputs = render_inputs(root / group.path, root=root, parsed=parsed)
        for directory in inputs.directories:
            owner = _owner(directory)
            if owner is None or directory.startswith(group.path + "/"):
                continue
            problems.append(
                Problem(
                    f"{group.path}/{found.name}",
                    "",
                    f"reads {directory}/, inside group {owner!r}'s directory: moving "
                    f"{owner!r} would break this group's render (keep shared parts under "
                    "bases/)",
                    group=group.name,
                    severity="warning",
                )
            )
    return problems


def _owner(directory: str) -> str | None:
    """The group whose directory holds this one, if any (clusters/<c>/groups/<g>/...)."""
    parts = directory.split("/")
    if len(parts) < 4 or parts[0] != "clusters" or parts[2] != "groups":
        return None
    return parts[3]
