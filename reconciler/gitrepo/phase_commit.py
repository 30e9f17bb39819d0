"""The three commits of a make-before-break move, built with git plumbing like a move.

- copy:   the group is added under the target cluster (and to its kustomization) while it
          stays under the source; both copies' placement.yaml carry the moveInProgress marker.
- finish: the source copy leaves (directory and kustomization entry); the marker is cleared.
- revert: the target copy leaves instead; the marker is cleared at the source.

Like build_move_commit, nothing here touches a working tree, an index or a ref, and the
trees are read and written through the batch processes when they allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.gitrepo import kustomization
from reconciler.gitrepo.base_tree import BaseTree, Blob
from reconciler.gitrepo.move_commit import (
    MovePaths,
    MoveRefused,
    TreeChange,
    _check_names,
    commit_change,
)
from reconciler.gitrepo.placement_file import (
    PlacementFileError,
    with_move_marker,
    without_move_marker,
)
from reconciler.gitrepo.tree_objects import TreeObjects

PHASES = ("copy", "finish", "revert")
POLICY_FILE = "placement.yaml"
_NEW_FILE_MODE = "100644"


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
    objects: TreeObjects | None = None,
) -> str:
    """Write the commit of one make-before-break phase on top of base; its sha."""
    if phase not in PHASES:
        raise MoveRefused(group, f"unknown phase {phase!r}")
    _check_names(group=group, source=source, target=target)
    return commit_change(
        repo,
        base=base,
        change_of=lambda tree: _phase_change(
            tree, group=group, source=source, target=target, phase=phase, started=started
        ),
        message=message,
        author=author,
        env=env,
        objects=objects,
    )


def _phase_change(
    tree: BaseTree, *, group: str, source: str, target: str, phase: str, started: str
) -> TreeChange:
    paths = MovePaths.of(group=group, source=source, target=target)
    at_source = tree.files_under(paths.source_dir + "/")
    at_target = tree.files_under(paths.target_dir + "/")
    if not at_source:
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if phase == "copy" and at_target:
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    if phase != "copy" and not at_target:
        raise MoveRefused(group, f"{paths.target_dir} does not exist: no move in progress")
    try:
        writes, removals = _edits(
            tree,
            paths=paths,
            group=group,
            phase=phase,
            started=started,
            source=source,
            target=target,
        )
    except (kustomization.KustomizationError, PlacementFileError) as error:
        raise MoveRefused(group, str(error)) from error
    if phase == "copy":
        skip = {f"{paths.source_dir}/{POLICY_FILE}"}
        prefix = len(paths.source_dir)
        copies = [
            (e.mode, e.sha, paths.target_dir + e.path[prefix:])
            for e in at_source
            if e.path not in skip
        ]
    else:
        copies = []
    removed = at_source if phase == "finish" else at_target if phase == "revert" else []
    return TreeChange(removed=[e.path for e in removed] + removals, added=copies, written=writes)


def _edits(
    tree: BaseTree,
    *,
    paths: MovePaths,
    group: str,
    phase: str,
    started: str,
    source: str,
    target: str,
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The files a phase writes ({path: (mode, text)}) and the single files it removes."""
    source_policy = f"{paths.source_dir}/{POLICY_FILE}"
    target_policy = f"{paths.target_dir}/{POLICY_FILE}"
    writes: dict[str, tuple[str, str]] = {}
    removals: list[str] = []
    if phase == "copy":
        listing = tree.blob(paths.source_kustomization)
        if listing is None or not kustomization.lists_group(listing.text, group):
            raise MoveRefused(group, f"it is not listed in {paths.source_kustomization}")
        policy = tree.blob(source_policy)
        marked = with_move_marker(_text(policy), source=source, target=target, started=started)
        mode = policy.mode if policy else _NEW_FILE_MODE
        writes[source_policy] = (mode, marked)
        writes[target_policy] = (mode, marked)
        target_listing = tree.blob(paths.target_kustomization)
        writes[paths.target_kustomization] = (
            target_listing.mode if target_listing else _NEW_FILE_MODE,
            kustomization.with_group(_text(target_listing), group),
        )
        return writes, removals
    leaving_listing = (
        paths.source_kustomization if phase == "finish" else paths.target_kustomization
    )
    staying_policy = target_policy if phase == "finish" else source_policy
    listing = tree.blob(leaving_listing)
    parsed = kustomization.parse(listing.text) if listing is not None else None
    if listing is not None and parsed is not None and parsed.lists_group(group):
        writes[leaving_listing] = (listing.mode, parsed.without_group(group))
    policy = tree.blob(staying_policy)
    if policy is not None:
        cleared = without_move_marker(policy.text)
        if cleared is None:
            removals.append(staying_policy)
        else:
            writes[staying_policy] = (policy.mode, cleared)
    return writes, removals


def _text(blob: Blob | None) -> str | None:
    return blob.text if blob is not None else None
