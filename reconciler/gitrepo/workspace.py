"""Write a group move into the fleet repo as one commit, and push it.

The commit is built without touching the checkout (`move_commit`) and, when there is a
remote, pushed first: origin gets it before the local branch moves, so a crash never
leaves a local commit that origin lacks. The local branch and its checkout then follow
(`branch.advance`: compare-and-swap on the ref, then the move's paths, or the two-way merge
of read-tree; either refuses rather than overwrite local changes). A lost push race is
rebuilt on the new remote tip and retried with backoff; a real conflict is reported, never
forced.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.core import errors
from reconciler.gitrepo import clone, kustomization
from reconciler.gitrepo.branch import (
    LOST_RACE,
    UP_TO_DATE,
    advance,
    changed_files,
    fetch,
    finish_interrupted_move,
    is_ancestor,
    is_checked_out,
    push,
)
from reconciler.gitrepo.git_command import GitError, git_succeeds, git_text, run_git
from reconciler.gitrepo.move_commit import (
    BaseTree,
    MovePaths,
    MoveRefused,
    build_move_commit,
)

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 3
BACKOFF_SECONDS = 1.0
DEFAULT_AUTHOR = ("placement-reconciler", "placement-reconciler@users.noreply.local")


@dataclasses.dataclass(frozen=True)
class Move:
    """One group to move from one cluster to another, with its full commit message."""

    group: str
    source: str
    target: str
    message: str
    phase: str = ""  # make-before-break: copy | finish | revert ("" moves the whole group)
    started: str = ""  # make-before-break: when the copy began (the marker's `started`)


@dataclasses.dataclass(frozen=True)
class MoveResult:
    """What `Workspace.apply` did; with an error, the repository is as it was.

    `already_moved`: the branch (on origin, or locally without one) already had this very
    move, made by another writer such as a second reconciler; commit is that writer's.
    """

    group: str
    commit: str
    pushed: bool
    error: str = ""
    already_moved: bool = False


class WorkspaceError(errors.GitError):
    """The workspace cannot be opened or brought up to date."""


class Workspace:
    """A local checkout of the fleet repo that the reconciler reads and writes in."""

    def __init__(self, path: Path, *, branch: str, sleep: Callable[[float], None]) -> None:
        self.path = path
        self.branch = branch
        self._ref = f"refs/heads/{branch}"
        self._sleep = sleep

    @classmethod
    def open(
        cls,
        repo: str,
        *,
        branch: str,
        workdir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        env: Mapping[str, str] | None = None,
    ) -> Workspace:
        """Work in a local checkout, or in a clone of a URL or bare repo (kept and re-used);
        env is added to git's environment where it reaches the remote (credentials)."""
        if not git_succeeds(["check-ref-format", f"refs/heads/{branch}"], cwd=Path.cwd()):
            raise WorkspaceError(f"{branch!r} is not a valid branch name")
        url = clone.clone_source(repo)
        if url is not None:
            path = workdir or clone.cache_dir(url, branch=branch)
            try:
                workspace = cls(
                    clone.clone_or_reuse(url, branch=branch, path=path, env=env),
                    branch=branch,
                    sleep=sleep,
                )
                problem = workspace._repair_clone(env=env)
                if problem:  # the clone is ours to throw away: a crash (or a hand) broke it
                    log.warning("re-making the clone in %s: %s", path, problem)
                    clone.clone_or_reuse(url, branch=branch, path=path, fresh=True, env=env)
            except clone.CloneError as error:
                raise WorkspaceError(str(error)) from error
            return workspace
        top = None
        if Path(repo).is_dir():
            top = run_git(["rev-parse", "--show-toplevel"], cwd=Path(repo), check=False)
        if top is None or top.returncode != 0:
            raise WorkspaceError(f"{repo} is not a git checkout")
        workspace = cls(Path(top.stdout.decode().strip()), branch=branch, sleep=sleep)
        problem = finish_interrupted_move(workspace.path)
        if problem:
            raise WorkspaceError(problem)
        if not git_succeeds(["rev-parse", "--verify", "-q", workspace._ref], cwd=workspace.path):
            # Checked out on another branch, the checkout may have ours only as origin's.
            tracking = f"refs/remotes/origin/{branch}"
            if not git_succeeds(["update-ref", workspace._ref, tracking, ""], cwd=workspace.path):
                raise WorkspaceError(f"{workspace.path} has no branch {branch}")
        return workspace

    def _repair_clone(self, *, env: Mapping[str, str] | None) -> str:
        """Finish a crashed move and catch up with origin; '' or why the clone is unusable.

        Usable: its branch checked out at origin's tip, with clean files. Raises
        WorkspaceError when origin cannot be fetched (a new clone would not help).
        """
        try:
            if not is_checked_out(self.path, branch=self.branch):
                return f"{self.branch} is not checked out"
            problem = finish_interrupted_move(self.path)
            if problem:
                return problem
            remote = self.refresh(env=env)
            if remote is not None and self.head() != remote:
                return f"{self.branch} is not at origin's tip and cannot be fast-forwarded"
            return "the checkout has changes" if changed_files(self.path) else ""
        except GitError as error:
            return f"git fails in it: {error.stderr}"

    def head(self) -> str:
        """The commit at the tip of the branch."""
        return git_text(["rev-parse", "--verify", f"{self._ref}^{{commit}}"], cwd=self.path)

    def has_origin(self) -> bool:
        """True when the checkout has a remote named origin to fetch from and push to."""
        return git_succeeds(["remote", "get-url", "origin"], cwd=self.path)

    def refresh(self, *, env: Mapping[str, str] | None = None) -> str | None:
        """Fetch origin and fast-forward the branch if the checkout is clean (local work is
        kept); origin's tip, None when there is none."""
        if not self.has_origin():
            return None
        try:
            remote = fetch(self.path, self.branch, env=env)
        except GitError as error:
            problem = f"cannot fetch {self.branch} from origin: {error.stderr}"
            raise WorkspaceError(problem) from error
        local = self.head()
        if remote is None or local == remote or not is_ancestor(self.path, local, remote):
            return remote
        if is_checked_out(self.path, branch=self.branch) and changed_files(self.path):
            log.info("not fast-forwarding %s: the checkout has local changes", self.branch)
            return remote
        problem = advance(self.path, branch=self.branch, old=local, new=remote)
        if problem:
            log.info("not fast-forwarding %s: %s", self.branch, problem)
        return remote

    def diff_for(self, move: Move) -> str:
        """The diff the move would make (stat, renames, both kustomizations); writes nothing.

        Raises MoveRefused when the move cannot be made on the current tip.
        """
        base, paths = self.head(), MovePaths.of(move)
        objects = self.path / git_text(["rev-parse", "--git-path", "objects"], cwd=self.path)
        with tempfile.TemporaryDirectory(prefix="placement-objects-") as scratch:
            # The move is built as for real, its objects in a scratch store beside the repo's.
            env = {"GIT_OBJECT_DIRECTORY": scratch}
            env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(objects.resolve())
            new = build_move_commit(self.path, move, base=base, author=DEFAULT_AUTHOR, env=env)
            diff = ["diff", "--no-color", "--no-ext-diff", "-M", base, new]
            stat = git_text([*diff, "--stat=160", "--summary"], cwd=self.path, env=env)
            listings = ["--", paths.source_kustomization, paths.target_kustomization]
            patch = git_text([*diff, *listings], cwd=self.path, env=env)
        return f"{stat}\n\n{patch}\n"

    def apply(
        self,
        move: Move,
        *,
        push: bool = True,
        author: tuple[str, str] = DEFAULT_AUTHOR,
        env: Mapping[str, str] | None = None,
    ) -> MoveResult:
        """Commit the move on the branch (and push it); on any error nothing is changed."""
        try:
            return self._apply(move, publish=push and self.has_origin(), author=author, env=env)
        except MoveRefused as refused:
            return MoveResult(move.group, "", False, error=str(refused))
        except errors.GitError as failure:
            return MoveResult(move.group, "", False, error=f"cannot move {move.group}: {failure}")

    def _apply(
        self, move: Move, *, publish: bool, author: tuple[str, str], env: Mapping[str, str] | None
    ) -> MoveResult:
        """Build the move on the tip, push it (rebuilt on origin's new tip when the race is
        lost), then bring the branch and checkout along."""
        base = tip = self.head()
        paths = MovePaths.of(move)
        if is_checked_out(self.path, branch=self.branch):
            changed = changed_files(self.path, *paths)
            if changed:
                raise MoveRefused(move.group, f"the checkout has local changes in {changed}")
        for attempt in range(PUSH_ATTEMPTS):
            try:
                new = build_move_commit(self.path, move, base=tip, author=author)
            except MoveRefused as refused:
                done_by = self._commit_that_moved(move, tip=tip)
                if not done_by and tip == base:
                    raise
                if not done_by:
                    changed = f"origin/{self.branch} changed meanwhile"
                    return _not_pushed(move, f"conflict: {changed} and {refused.reason}")
                if tip != base:  # another reconciler won the race with this very move
                    log.info("%s: origin already has this move as %s", move.group, done_by[:12])
                    problem = advance(self.path, branch=self.branch, old=base, new=tip)
                    if problem:
                        log.info("not fast-forwarding %s: %s", self.branch, problem)
                return MoveResult(move.group, done_by, publish, already_moved=True)
            if not publish:
                break
            problem = push(self.path, f"{new}:{self._ref}", ref=self._ref, env=env)
            if problem in ("", UP_TO_DATE):
                break
            if problem != LOST_RACE:
                return _not_pushed(move, problem)
            if attempt == PUSH_ATTEMPTS - 1:
                gave_up = f"gave up after {PUSH_ATTEMPTS} tries"
                return _not_pushed(move, f"origin/{self.branch} kept moving, {gave_up}")
            self._sleep(BACKOFF_SECONDS * 2**attempt * random.uniform(0.5, 1.5))
            remote = fetch(self.path, self.branch, env=env)
            if remote is None or not is_ancestor(self.path, base, remote):
                return _not_pushed(move, f"origin/{self.branch} and the local branch have diverged")
            tip = remote
        # Built on base, the commit changes nothing but the move's paths: only they follow.
        follow = paths if tip == base else ()
        error = advance(self.path, branch=self.branch, old=base, new=new, paths=follow)
        if error and not publish:
            return MoveResult(move.group, "", False, error=f"cannot move {move.group}: {error}")
        if error:
            log.warning("pushed %s, but %s cannot follow: %s", new[:12], self.path, error)
        return MoveResult(move.group, new, publish)

    def _commit_that_moved(self, move: Move, *, tip: str) -> str:
        """The commit of tip's history that made this move, when tip has the group moved.

        '' unless at tip the group is at the target (directory and listing) and gone from
        the source. Only for a whole-group move: a phase of make-before-break is rebuilt,
        or reported as a conflict.
        """
        if move.phase:
            return ""
        paths = MovePaths.of(move)
        tree = BaseTree(self.path, base=tip, paths=paths)
        if tree.exists(paths.source_dir) or not tree.exists(paths.target_dir):
            return ""
        listing = tree.text(paths.target_kustomization)
        try:
            if listing is None or not kustomization.lists_group(listing[1], move.group):
                return ""
        except errors.FleetRepoError:
            return ""
        return git_text(["rev-list", "-1", tip, "--", paths.source_dir], cwd=self.path)


def _not_pushed(move: Move, problem: str) -> MoveResult:
    error = f"cannot move {move.group}: {problem}; nothing was pushed"
    return MoveResult(move.group, "", False, error=error)
