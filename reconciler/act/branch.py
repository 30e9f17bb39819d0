"""Move a branch to a new commit, and its checkout with it, as close to atomically as git allows.

The branch moves with one compare-and-swap `git update-ref` (it fails if anyone else
moved it). If the branch is checked out, the files and the index then follow with a
two-tree `git read-tree -m -u old new`, which checks everything before it writes
anything and refuses rather than overwrite local changes; the branch is then put back.

Between those two steps a crash would leave the branch ahead of the files, so a journal
(`placement-reconciler-move` in the git directory) is written before the branch moves
and removed once the files follow; `finish_interrupted_move` completes what it names.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from reconciler.act.git_command import GitError, git_succeeds, git_text, run_git

log = logging.getLogger(__name__)

_JOURNAL = "placement-reconciler-move"


class InterruptedMoveError(RuntimeError):
    """A crashed move left the checkout behind its branch, and it cannot be finished safely."""


def advance(repo: Path, *, branch: str, old: str, new: str) -> str:
    """Move branch from old to new, and the checkout with it; '' or why it could not."""
    ref = f"refs/heads/{branch}"
    checked_out = is_checked_out(repo, branch=branch)
    journal = _journal_path(repo)
    if checked_out:
        _write_atomically(journal, f"{branch} {old} {new}\n")
    try:
        moved = run_git(
            ["update-ref", "-m", "placement-reconciler", ref, new, old], cwd=repo, check=False
        )
        if moved.returncode != 0:
            return f"the branch {branch} moved while the commit was written"
        if checked_out:
            problem = _update_checkout(repo, old=old, new=new)
            if problem:
                run_git(["update-ref", "-m", "placement-reconciler: undo", ref, old, new], cwd=repo)
                return problem
        return ""
    finally:
        if checked_out:
            journal.unlink(missing_ok=True)


def finish_interrupted_move(repo: Path) -> None:
    """Bring the checkout up to a branch that a crashed `advance` had already moved."""
    journal = _journal_path(repo)
    if not journal.exists():
        return
    branch, old, new = journal.read_text().split()
    tip = git_text(["rev-parse", "--verify", f"refs/heads/{branch}"], cwd=repo)
    if tip == new and is_checked_out(repo, branch=branch):
        problem = _update_checkout(repo, old=old, new=new)
        if problem:
            raise InterruptedMoveError(
                f"an interrupted move left {repo} with {branch} at {new[:12]} but the files "
                f"at {old[:12]}, and {problem}; finish it with `git read-tree -m -u {old} {new}`"
            )
        log.info("finished an interrupted move in %s (%s)", repo, new[:12])
    journal.unlink()


def is_checked_out(repo: Path, *, branch: str) -> bool:
    """True when repo has a working tree whose HEAD is the branch."""
    head = run_git(["symbolic-ref", "-q", "HEAD"], cwd=repo, check=False)
    bare = git_text(["rev-parse", "--is-bare-repository"], cwd=repo)
    return head.stdout.decode().strip() == f"refs/heads/{branch}" and bare == "false"


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """True when older is newer or one of its ancestors."""
    return git_succeeds(["merge-base", "--is-ancestor", older, newer], cwd=repo)


def _update_checkout(repo: Path, *, old: str, new: str) -> str:
    if run_git(["read-tree", "-m", "-u", old, new], cwd=repo, check=False).returncode == 0:
        return ""
    # Stale stat data makes read-tree think clean files are modified. The refresh stats every
    # file of the checkout, so it runs only when read-tree refused (which wrote nothing).
    run_git(["update-index", "-q", "--refresh"], cwd=repo, check=False)
    merged = run_git(["read-tree", "-m", "-u", old, new], cwd=repo, check=False)
    if merged.returncode == 0:
        return ""
    detail = GitError(["read-tree"], merged.returncode, merged.stderr.decode(errors="replace"))
    return f"the checkout has local changes in the way ({detail.stderr})"


def _journal_path(repo: Path) -> Path:
    path = Path(git_text(["rev-parse", "--git-path", _JOURNAL], cwd=repo))
    return path if path.is_absolute() else repo / path


def _write_atomically(path: Path, text: str) -> None:
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    os.replace(scratch, path)
