"""The three commits of a make-before-break move, built like a move (see `move_commit`).

- copy:   the group is added under the target cluster (and to its kustomization) while it
          stays under the source; both copies' placement.yaml carry the moveInProgress marker.
- finish: the source copy leaves (directory and kustomization entry); the marker is cleared.
- revert: the target copy leaves instead; the marker is cleared at the source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from reconciler.gitrepo import kustomization
from reconciler.gitrepo.move_commit import (
    BaseTree,
    MovePaths,
    MoveRefused,
    TreeChange,
    check_names,
    mode_of,
    refusing,
    write_commit,
)
from reconciler.gitrepo.placement_file import with_move_marker, without_move_marker

PHASES = ("copy", "finish", "revert")
POLICY_FILE = "placement.yaml"


def build_phase_commit(
    repo: Path,
    *,
    base: str,
    group: str,
    source: str,
    target: str,
    phase: str,
    started: str,
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Write the commit of one make-before-break phase on top of base; its sha."""
    if phase not in PHASES:
        raise MoveRefused(group, f"unknown phase {phase!r}")
    check_names(group=group, source=source, target=target)
    paths = MovePaths.of(group=group, source=source, target=target)
    tree = BaseTree(repo, base=base, paths=paths, env=env)
    at_source = tree.files_under(paths.source_dir)
    at_target = tree.files_under(paths.target_dir)
    if not at_source:
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if phase == "copy" and at_target:
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    if phase != "copy" and not at_target:
        raise MoveRefused(group, f"{paths.target_dir} does not exist: no move in progress")
    if phase == "copy":
        change = _copy(
            tree, paths=paths, group=group, source=source, target=target, started=started
        )
        prefix, policy = len(paths.source_dir), f"{paths.source_dir}/{POLICY_FILE}"
        copies = [f for f in at_source if f.path != policy]
        change.added.extend(
            dataclasses.replace(f, path=paths.target_dir + f.path[prefix:]) for f in copies
        )
    else:
        leaving, staying = (
            (at_source, paths.target_dir) if phase == "finish" else (at_target, paths.source_dir)
        )
        listing = paths.source_kustomization if phase == "finish" else paths.target_kustomization
        change = _leave(tree, group=group, listing=listing, policy=f"{staying}/{POLICY_FILE}")
        change.removed.extend(file.path for file in leaving)
    return write_commit(repo, base=base, change=change, message=message, author=author, env=env)


def _copy(
    tree: BaseTree, *, paths: MovePaths, group: str, source: str, target: str, started: str
) -> TreeChange:
    """Both placement.yaml files marked, the group listed at the target."""
    listing = tree.text(paths.source_kustomization)
    with refusing(group, paths.source_kustomization):
        if listing is None or not kustomization.lists_group(listing[1], group):
            raise MoveRefused(group, f"it is not listed in {paths.source_kustomization}")
    source_policy = f"{paths.source_dir}/{POLICY_FILE}"
    policy = tree.text(source_policy)
    with refusing(group, source_policy):
        marked = with_move_marker(
            policy and policy[1], source=source, target=target, started=started
        )
    target_listing = tree.text(paths.target_kustomization)
    with refusing(group, paths.target_kustomization):
        listed = kustomization.with_group(target_listing and target_listing[1], group)
    written = {
        source_policy: (mode_of(policy), marked),
        f"{paths.target_dir}/{POLICY_FILE}": (mode_of(policy), marked),
        paths.target_kustomization: (mode_of(target_listing), listed),
    }
    return TreeChange(removed=[], added=[], written=written)


def _leave(tree: BaseTree, *, group: str, listing: str, policy: str) -> TreeChange:
    """The leaving copy unlisted, the marker cleared in the staying copy's placement.yaml."""
    change = TreeChange(removed=[], added=[], written={})
    found = tree.text(listing)
    with refusing(group, listing):
        if found is not None and kustomization.lists_group(found[1], group):
            change.written[listing] = (found[0], kustomization.without_group(found[1], group))
    kept = tree.text(policy)
    if kept is not None:
        with refusing(group, policy):
            cleared = without_move_marker(kept[1])
        if cleared is None:
            change.removed.append(policy)
        else:
            change.written[policy] = (kept[0], cleared)
    return change
