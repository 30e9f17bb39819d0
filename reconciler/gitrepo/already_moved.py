"""Whether a branch tip already has a group moved, and by which commit.

Another writer (a second reconciler, say) may have pushed this very move while this
pass built its own; then there is nothing to write. The tip's trees are read through the
batch reader when one runs, else with one git command per question.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.gitrepo import kustomization
from reconciler.gitrepo.base_tree import BaseTree, BatchTree, CommandTree
from reconciler.gitrepo.git_command import git_text
from reconciler.gitrepo.move_commit import MovePaths
from reconciler.gitrepo.tree_objects import ObjectReader, UnusualTree


def commit_that_moved(
    repo: Path, *, paths: MovePaths, group: str, tip: str, reader: ObjectReader | None = None
) -> str:
    """The commit of tip's history that made this move, when tip has the group moved.

    '' unless at tip the group is at the target (directory and listing) and gone from
    the source.
    """
    if reader is not None:
        try:
            return _moved_by(repo, BatchTree(reader, base=tip), paths=paths, group=group, tip=tip)
        except UnusualTree:
            pass
    tree = CommandTree(repo, base=tip, env={})
    return _moved_by(repo, tree, paths=paths, group=group, tip=tip)


def _moved_by(repo: Path, tree: BaseTree, *, paths: MovePaths, group: str, tip: str) -> str:
    if tree.exists(paths.source_dir) or not tree.exists(paths.target_dir):
        return ""
    listing = tree.show(paths.target_kustomization)
    try:
        listed = listing is not None and kustomization.lists_group(listing, group)
    except kustomization.KustomizationError:
        return ""
    if not listed:
        return ""
    return git_text(["rev-list", "-1", tip, "--", paths.source_dir], cwd=repo)
