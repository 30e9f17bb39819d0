"""Move a branch to a new commit: on origin (push), then locally with its checkout.

Locally the branch moves with one compare-and-swap `git update-ref` (it fails if anyone
else moved it). If the branch is checked out, the files and the index then follow with a
two-tree `git read-tree -m -u old new`, which checks everything before it writes anything
and refuses rather than overwrite local changes; the branch is then put back. A move's
own commit changes only the move's paths: after a look that finds no local changes there
(made while the branch still names old), `git checkout --no-overlay new -- <paths>`
brings just those along, without the whole-tree merge.

Between those two steps a crash would leave the branch ahead of the files, so a journal
(`placement-reconciler-move` in the git directory) is written before the branch moves
and removed once the files follow; `finish_interrupted_move` completes what it names with
the two-way merge, which takes the files from old, or finds them at new already.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.gitrepo.git_command import (
    NETWORK_TIMEOUT,
    GitError,
    git_succeeds,
    git_text,
    run_git,
    scrub,
)

log = logging.getLogger(__name__)

LOST_RACE = "another push got there first"
UP_TO_DATE = "origin already has it"
# How origin says that the ref moved under a push, or was being updated at that moment.
_RACE_SIGNS = (
    "non-fast-forward",
    "fetch first",
    "stale info",
    "failed to update ref",
    "cannot lock ref",
    "failed to lock",
)
_JOURNAL = "placement-reconciler-move"


def push(
    repo: Path,
    refspec: str,
    *,
    ref: str,
    lease: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Push refspec to origin's ref; '' when done, else UP_TO_DATE, LOST_RACE or git's reason.

    With a lease (the sha origin's ref must still have, '' for none) the push may replace
    what is there (`--force-with-lease`); without one only a fast-forward is pushed.
    """
    args = ["push", "--porcelain", "origin", refspec]
    if lease is not None:
        args.insert(2, f"--force-with-lease={ref}:{lease}")
    done = run_git(args, cwd=repo, env=env, check=False, timeout=NETWORK_TIMEOUT)
    for line in done.stdout.decode(errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or not fields[1].endswith(f":{ref}"):
            continue
        if done.returncode == 0:
            return UP_TO_DATE if fields[0] == "=" else ""
        if any(sign in fields[2] for sign in _RACE_SIGNS):
            return LOST_RACE
        return scrub(fields[2].strip()) or f"git push exited with {done.returncode}"
    stderr = scrub(done.stderr.decode(errors="replace").strip())
    return stderr or f"git push exited with {done.returncode}"


def fetch(repo: Path, branch: str, *, env: Mapping[str, str] | None = None) -> str | None:
    """Fetch origin's branch to refs/remotes/origin/; its tip, or None when origin has none."""
    tracking = f"refs/remotes/origin/{branch}"
    refspec = f"+refs/heads/{branch}:{tracking}"
    try:
        args = ["fetch", "--quiet", "--no-tags", "origin", refspec]
        run_git(args, cwd=repo, env=env, timeout=NETWORK_TIMEOUT)
    except GitError as error:
        if "couldn't find remote ref" not in error.stderr:
            raise
        run_git(["update-ref", "-d", tracking], cwd=repo, check=False)
        return None
    return git_text(["rev-parse", "--verify", f"{tracking}^{{commit}}"], cwd=repo)


def advance(repo: Path, *, branch: str, old: str, new: str, paths: Sequence[str] = ()) -> str:
    """Move branch from old to new, and the checkout with it; '' or why it could not.

    paths, when given, hold everything new changes from old (a move built on old): only
    they are checked out, once a look at them finds no local changes in the way.
    """
    ref = f"refs/heads/{branch}"
    checked_out = is_checked_out(repo, branch=branch)
    journal = _journal(repo)
    if checked_out:
        scratch = journal.with_name(journal.name + ".tmp")
        scratch.write_text(f"{branch} {old} {new}\n")
        os.replace(scratch, journal)
    try:
        if checked_out and paths:
            changed = changed_files(repo, *paths)
            if changed:
                return f"the checkout has local changes in the way ({changed})"
        moved = run_git(
            ["update-ref", "-m", "placement-reconciler", ref, new, old], cwd=repo, check=False
        )
        if moved.returncode != 0:
            return f"the branch {branch} moved while the commit was written"
        if checked_out:
            problem = _update_checkout(repo, old=old, new=new, paths=paths)
            if problem:
                run_git(["update-ref", "-m", "placement-reconciler: undo", ref, old, new], cwd=repo)
                return problem
        return ""
    finally:
        if checked_out:
            journal.unlink(missing_ok=True)


def changed_files(repo: Path, *paths: str) -> str:
    """The files with local changes (all, or only those under paths), comma separated.

    Untracked files count only under paths: there they would be in a move's way.
    """
    untracked = "--untracked-files=all" if paths else "--untracked-files=no"
    status = ["status", "--porcelain", untracked, "--", *paths]
    listing = git_text(status, cwd=repo, env={"GIT_OPTIONAL_LOCKS": "0"})
    return ", ".join(line[3:] for line in listing.splitlines())


def finish_interrupted_move(repo: Path) -> str:
    """Bring the checkout up to a branch that a crashed `advance` had already moved.

    '' when there was nothing to finish or it is finished, else why it cannot be.
    """
    journal = _journal(repo)
    if not journal.exists():
        return ""
    branch, old, new = journal.read_text().split()
    tip = git_text(["rev-parse", "--verify", f"refs/heads/{branch}"], cwd=repo)
    if tip == new and is_checked_out(repo, branch=branch):
        problem = _update_checkout(repo, old=old, new=new)
        if problem:
            return (
                f"an interrupted move left {repo} with {branch} at {new[:12]} but the files "
                f"at {old[:12]}, and {problem}; finish it with `git read-tree -m -u {old} {new}`"
            )
        log.info("finished an interrupted move in %s (%s)", repo, new[:12])
    journal.unlink()
    return ""


def is_checked_out(repo: Path, *, branch: str) -> bool:
    """True when repo has a working tree whose HEAD is the branch."""
    asked = ["rev-parse", "--is-inside-work-tree", "--symbolic-full-name", "HEAD"]
    answer = run_git(asked, cwd=repo, check=False).stdout.decode().split()
    return answer == ["true", f"refs/heads/{branch}"]


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """True when older is newer or one of its ancestors."""
    return git_succeeds(["merge-base", "--is-ancestor", older, newer], cwd=repo)


def _update_checkout(repo: Path, *, old: str, new: str, paths: Sequence[str] = ()) -> str:
    """The files and the index from old to new; '' or why git refused.

    Only paths are checked out when given (and git has no sparse checkout to honour), else
    the two-way merge of read-tree, which refuses rather than overwrite local changes.
    """
    sparse = Path(repo / git_text(["rev-parse", "--git-path", "info/sparse-checkout"], cwd=repo))
    if paths and not sparse.exists():
        # No hooks: post-checkout runs on a file checkout, and read-tree never ran one.
        checkout = ["-c", "core.hooksPath=/dev/null", "checkout", "-q", "--no-overlay", new]
        checkout += ["--", *paths]
        if run_git(checkout, cwd=repo, check=False).returncode == 0:
            return ""
    merge = ["read-tree", "-m", "-u", old, new]
    merged = run_git(merge, cwd=repo, check=False)
    if merged.returncode != 0:
        # Stale stat data makes read-tree think clean files are modified. The refresh stats
        # every file of the checkout, so it runs only when read-tree refused (writing nothing).
        run_git(["update-index", "-q", "--refresh"], cwd=repo, check=False)
        merged = run_git(merge, cwd=repo, check=False)
    if merged.returncode == 0:
        return ""
    refused = scrub(merged.stderr.decode(errors="replace").strip())
    return f"the checkout has local changes in the way ({refused})"


def _journal(repo: Path) -> Path:
    return repo / git_text(["rev-parse", "--git-path", _JOURNAL], cwd=repo)
