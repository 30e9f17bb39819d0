"""A commit's tree written out to a directory, read-only use: the pre-merge check's two sides."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from reconciler.core.errors import UsageError
from reconciler.gitrepo.git_command import run_git


def export_tree(repo: Path, ref: str, *, into: Path) -> str:
    """Write the tree of `ref` (a branch, tag or sha) into `into`; return its commit sha.

    `git archive` leaves the checkout, its index and its worktrees untouched; tar's "data"
    filter refuses links and paths that would leave `into`.
    """
    if run_git(["rev-parse", "--git-dir"], cwd=repo, check=False).returncode != 0:
        raise UsageError(f"--repo: {repo} is not a git checkout")
    found = run_git(
        ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo, check=False
    )
    if found.returncode != 0:
        raise UsageError(f"{ref!r} is not a commit in {repo} (fetch it first?)")
    sha = found.stdout.decode().strip()
    archive = run_git(["archive", "--format=tar", sha], cwd=repo).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        try:
            tar.extractall(into, filter="data")
        except tarfile.FilterError as refused:
            raise UsageError(f"{ref}: the tree holds an unsafe path: {refused}") from None
    return sha
