"""A commit checked out beside the repo for reading: the pre-merge check's two sides."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reconciler.core.errors import UsageError
from reconciler.gitrepo.git_command import run_git


@contextlib.contextmanager
def checked_out(repo: Path, ref: str) -> Iterator[tuple[Path, str]]:
    """A detached worktree of `ref` (a branch, tag or sha) and its commit sha, removed after.

    A real checkout, not an export: whatever reads the fleet there (kustomize, git's tree
    ids) sees what it sees in any checkout. The repo's own checkout and index are untouched.
    """
    if run_git(["rev-parse", "--git-dir"], cwd=repo, check=False).returncode != 0:
        raise UsageError(f"--repo: {repo} is not a git checkout")
    found = run_git(["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], cwd=repo, check=False)
    if found.returncode != 0:
        raise UsageError(f"{ref!r} is not a commit in {repo} (fetch it first?)")
    sha = found.stdout.decode().strip()
    with tempfile.TemporaryDirectory(prefix="placement-check-") as scratch:
        tree = Path(scratch) / sha[:12]
        no_hooks = ["-c", f"core.hooksPath={os.devnull}"]  # none of the machine's, to read
        run_git([*no_hooks, "worktree", "add", "--quiet", "--detach", str(tree), sha], cwd=repo)
        try:
            yield tree, sha
        finally:
            run_git(["worktree", "remove", "--force", str(tree)], cwd=repo, check=False)
            run_git(["worktree", "prune"], cwd=repo, check=False)
