"""Write a group move into the fleet repo as one commit, and push it.

The commit is built without touching the checkout (`move_commit`) and, when there is a
remote, pushed first: origin gets it before the local branch moves, so a crash never
leaves a local commit that origin lacks. The local branch and its checkout then follow
(`branch.advance`: compare-and-swap on the ref, then the two-way merge of read-tree,
which refuses rather than overwrite local changes). A lost push race is rebuilt on the
new remote tip and retried with backoff; a real conflict is reported, never forced.

A move runs its slow questions side by side: the local-changes `git status` and the
origin lookup run as their own processes while the commit is built (one `cat-file` and
one `mktree` process serve every tree read and written), and what the checkout update
needs is found while the push runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.gitrepo import clone, kustomization
from reconciler.gitrepo.already_moved import commit_that_moved
from reconciler.gitrepo.base_tree import BatchTree
from reconciler.gitrepo.branch import (
    CheckoutUpdate,
    InterruptedMoveError,
    advance,
    finish_interrupted_move,
    is_ancestor,
    is_checked_out,
)
from reconciler.gitrepo.git_command import (
    NETWORK_TIMEOUT,
    GitError,
    git_succeeds,
    git_text,
    run_git,
    start_git,
)
from reconciler.gitrepo.local_changes import LocalChanges
from reconciler.gitrepo.move_commit import (
    MovePaths,
    MoveRefused,
    build_move_commit,
    scratch_objects,
)
from reconciler.gitrepo.phase_commit import build_phase_commit
from reconciler.gitrepo.tree_objects import ObjectReader, TreeObjects, UnusualTree

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 3
BACKOFF_SECONDS = 1.0
DEFAULT_AUTHOR = ("placement-reconciler", "placement-reconciler@users.noreply.local")
_JOURNAL = "placement-reconciler-move"
_LOST_RACE = ("non-fast-forward", "fetch first", "stale info")
# How origin says that another push updated the ref at the same moment (a lost race too).
_REF_BUSY = ("failed to update ref", "cannot lock ref", "failed to lock")


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

    `already_moved`: the branch (on origin, or locally without one) already had this
    very move, made by another writer such as a second reconciler; commit is then that
    writer's commit, and nothing new was written.
    """

    group: str
    commit: str
    pushed: bool
    error: str = ""
    already_moved: bool = False


class WorkspaceError(RuntimeError):
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
        """Work in a local checkout, or in a clone of a URL or bare repo (kept and re-used).

        `env` is added to the environment of the git commands that reach the remote
        (clone, fetch): the credentials for it, resolved by the caller.
        """
        if not git_succeeds(["check-ref-format", f"refs/heads/{branch}"], cwd=Path.cwd()):
            raise WorkspaceError(f"{branch!r} is not a valid branch name")
        if clone.is_clone_source(repo):
            url = clone.clone_url(repo)
            path = workdir or clone.cache_dir(url, branch=branch)
            try:
                path = clone.clone_or_reuse(url, branch=branch, path=path, env=env)
                workspace = cls(path, branch=branch, sleep=sleep)
                problem = workspace._repair_clone(env=env)
                if problem:
                    # The clone is ours to throw away: a crash (or a hand) left it unusable.
                    log.warning("re-making the clone in %s: %s", path, problem)
                    path = clone.clone_or_reuse(url, branch=branch, path=path, fresh=True, env=env)
                    workspace = cls(path, branch=branch, sleep=sleep)
            except clone.CloneError as error:
                raise WorkspaceError(str(error)) from error
            return workspace
        if not Path(repo).is_dir():
            raise WorkspaceError(f"{repo} is not a git checkout")
        top = run_git(["rev-parse", "--show-toplevel"], cwd=Path(repo), check=False)
        if top.returncode != 0:
            raise WorkspaceError(f"{repo} is not a git checkout")
        workspace = cls(Path(top.stdout.decode().strip()), branch=branch, sleep=sleep)
        workspace._finish_interrupted_move()
        workspace._ensure_branch()
        return workspace

    def _repair_clone(self, *, env: Mapping[str, str] | None = None) -> str:
        """Finish a crashed move and catch up with origin; '' or why the clone is unusable.

        A clone is usable when its branch is checked out at origin's tip with clean files.
        Raises WorkspaceError when origin cannot be fetched (a new clone would not help).
        """
        try:
            finish_interrupted_move(self.path)
        except InterruptedMoveError as error:
            return str(error)
        except GitError as error:
            return f"cannot finish an interrupted move: {error.stderr}"
        self.refresh(env=env)
        tracking = f"refs/remotes/origin/{self.branch}"
        remote = run_git(["rev-parse", "--verify", "-q", tracking], cwd=self.path, check=False)
        if remote.returncode != 0:
            return ""  # origin has no such branch: nothing to catch up with
        if self.head() != remote.stdout.decode().strip():
            return f"{self.branch} is not at origin's tip and cannot be fast-forwarded"
        changed = run_git(
            ["status", "--porcelain", "--untracked-files=no"], cwd=self.path, check=False
        )
        if changed.returncode != 0 or changed.stdout.strip():
            return "the checkout has changes or cannot be read"
        return ""

    def head(self) -> str:
        """The commit at the tip of the branch."""
        return git_text(["rev-parse", "--verify", f"{self._ref}^{{commit}}"], cwd=self.path)

    def has_origin(self) -> bool:
        """True when the checkout has a remote named origin to fetch from and push to."""
        return git_succeeds(["remote", "get-url", "origin"], cwd=self.path)

    def refresh(self, *, env: Mapping[str, str] | None = None) -> None:
        """Fetch origin and fast-forward the branch if the checkout is clean; keep local work.

        `env` is added to the fetch's environment (the credentials for origin).
        """
        if not self.has_origin():
            return
        try:
            remote = self._fetch(env=env)
        except GitError as error:
            raise WorkspaceError(
                f"cannot fetch {self.branch} from origin: {error.stderr}"
            ) from error
        if remote is None:
            return
        local = self.head()
        if local == remote or not is_ancestor(self.path, local, remote):
            return
        if is_checked_out(self.path, branch=self.branch) and git_text(
            ["status", "--porcelain", "--untracked-files=no"], cwd=self.path
        ):
            log.info("not fast-forwarding %s: the checkout has local changes", self.branch)
            return
        problem = advance(self.path, branch=self.branch, old=local, new=remote)
        if problem:
            log.info("not fast-forwarding %s: %s", self.branch, problem)

    def diff_for(self, move: Move) -> str:
        """The diff the move would make (stat, renames, both kustomizations); writes nothing.

        Raises MoveRefused when the move cannot be made on the current tip.
        """
        base = self.head()
        paths = MovePaths.of(group=move.group, source=move.source, target=move.target)
        with scratch_objects(self.path) as env:
            new = self.build_commit(move, base=base, author=DEFAULT_AUTHOR, env=env)
            flags = ["--no-color", "--no-ext-diff", "-M"]
            stat = git_text(
                ["diff", *flags, "--stat=160", "--summary", base, new], cwd=self.path, env=env
            )
            patch = git_text(
                [
                    "diff",
                    *flags,
                    base,
                    new,
                    "--",
                    paths.source_kustomization,
                    paths.target_kustomization,
                ],
                cwd=self.path,
                env=env,
            )
        return f"{stat}\n\n{patch}\n"

    def apply(
        self,
        move: Move,
        *,
        push: bool = True,
        author: tuple[str, str] = DEFAULT_AUTHOR,
        env: Mapping[str, str] | None = None,
    ) -> MoveResult:
        """Commit the move on the branch (and push it); on any error nothing is changed.

        With a remote the commit is pushed first and the local branch follows only once
        origin has it, so a crash never leaves a local commit that origin lacks. `env` is
        added to the environment of the push and fetch (the credentials for origin).
        """
        paths = MovePaths.of(group=move.group, source=move.source, target=move.target)
        with contextlib.ExitStack() as running:
            objects = running.enter_context(TreeObjects(self.path))
            # These two questions run as their own processes while the commit is built.
            origin = start_git(["remote", "get-url", "origin"], cwd=self.path) if push else None
            if origin is not None:
                running.callback(origin.stop)
            local_changes = LocalChanges(self.path, paths=paths.all())
            running.callback(local_changes.stop)
            base = self.head()
            try:
                done_by, new = self._prepare(
                    move, base=base, author=author, objects=objects, checks=local_changes
                )
            except MoveRefused as refused:
                return MoveResult(move.group, "", False, error=str(refused))
            except GitError as failure:
                error = f"cannot move {move.group}: {failure}"
                return MoveResult(move.group, "", False, error=error)
            pushed = origin is not None and origin.succeeded()
            if done_by:  # the branch moved on under this pass, with this very move
                return MoveResult(move.group, done_by, pushed, already_moved=True)
            return self._publish(
                move,
                base=base,
                new=new,
                pushed=pushed,
                author=author,
                reader=objects.reader,
                env=env,
            )

    def _prepare(
        self,
        move: Move,
        *,
        base: str,
        author: tuple[str, str],
        objects: TreeObjects,
        checks: LocalChanges,
    ) -> tuple[str, str]:
        """('', the new commit), or (the commit that already made this move, '').

        Local changes in the move's paths are reported before anything else went wrong.
        """
        if not is_checked_out(self.path, branch=self.branch):
            checks.stop()  # the files here are not the branch's: nothing to check
        try:
            done_by = self._move_commit_on(move, tip=base, objects=objects)
            new = ""
            if not done_by:
                new = self.build_commit(move, base=base, author=author, objects=objects)
        except Exception:
            checks.refuse_if_any(move.group)
            raise
        checks.refuse_if_any(move.group)
        return done_by, new

    def _publish(
        self,
        move: Move,
        *,
        base: str,
        new: str,
        pushed: bool,
        author: tuple[str, str],
        reader: ObjectReader,
        env: Mapping[str, str] | None = None,
    ) -> MoveResult:
        """Push the new commit (when there is an origin), then let the branch follow.

        While the push runs, the trees for the checkout update are prepared, and the two
        kustomizations the commit leaves are parsed for the next move that edits them.
        """
        with CheckoutUpdate(self.path, old=base, new=new, reader=reader) as update:
            if pushed:

                def meanwhile() -> None:
                    update.prepare()
                    _remember_listings(reader, commit=new, move=move)

                outcome = self._push_meanwhile(
                    move, base=base, commit=new, author=author, meanwhile=meanwhile, env=env
                )
                if isinstance(outcome, MoveResult):
                    return outcome
                new = outcome  # another commit when it was rebuilt on a new tip of origin
            error = advance(
                self.path, branch=self.branch, old=base, new=new, reader=reader, update=update
            )
        if not error:
            return MoveResult(move.group, new, pushed)
        if not pushed:
            return MoveResult(move.group, "", False, error=f"cannot move {move.group}: {error}")
        log.warning("pushed %s, but %s cannot follow: %s", new[:12], self.path, error)
        return MoveResult(move.group, new, True)

    def _push_meanwhile(
        self,
        move: Move,
        *,
        base: str,
        commit: str,
        author: tuple[str, str],
        meanwhile: Callable[[], None],
        env: Mapping[str, str] | None = None,
    ) -> str | MoveResult:
        """`_push_with_retries`, with `meanwhile` run in a thread of its own until it ends."""

        def work() -> None:
            try:
                meanwhile()
            except Exception:  # only work done ahead: what it missed is done when needed
                log.debug("the work done while pushing failed", exc_info=True)

        helper = threading.Thread(target=work, name="placement-meanwhile", daemon=True)
        helper.start()
        try:
            return self._push_with_retries(move, base=base, commit=commit, author=author, env=env)
        except MoveRefused as refused:
            return MoveResult(move.group, "", False, error=str(refused))
        except GitError as failure:
            return MoveResult(move.group, "", False, error=f"cannot move {move.group}: {failure}")
        finally:
            helper.join()

    def _push_with_retries(
        self,
        move: Move,
        *,
        base: str,
        commit: str,
        author: tuple[str, str],
        env: Mapping[str, str] | None = None,
    ) -> str | MoveResult:
        """Push; when the race is lost, rebuild on the new remote tip and try again.

        Returns the commit that origin accepted, or a MoveResult saying why none was.
        """
        problem = ""
        for attempt in range(PUSH_ATTEMPTS):
            problem = self._push(commit, env=env)
            if not problem:
                return commit
            if problem not in _LOST_RACE or attempt == PUSH_ATTEMPTS - 1:
                break
            self._sleep(BACKOFF_SECONDS * 2**attempt * random.uniform(0.5, 1.5))
            remote = self._fetch(env=env)
            if remote is None or not is_ancestor(self.path, base, remote):
                problem = f"origin/{self.branch} and the local branch have diverged"
                break
            try:
                commit = self.build_commit(move, base=remote, author=author)
            except MoveRefused as refused:
                done_by = self._move_commit_on(move, tip=remote)
                if done_by:
                    # Another reconciler won the race with the same move: nothing to do.
                    log.info("%s: origin already has this move as %s", move.group, done_by[:12])
                    problem = advance(self.path, branch=self.branch, old=base, new=remote)
                    if problem:
                        log.info("not fast-forwarding %s: %s", self.branch, problem)
                    return MoveResult(move.group, done_by, True, already_moved=True)
                problem = f"conflict: origin/{self.branch} changed meanwhile and {refused.reason}"
                break
        if problem in _LOST_RACE:
            problem = (
                f"origin/{self.branch} kept moving ({problem}), gave up after {attempt + 1} tries"
            )
        error = f"cannot move {move.group}: {problem}; nothing was pushed"
        return MoveResult(move.group, "", False, error=error)

    def _move_commit_on(self, move: Move, *, tip: str, objects: TreeObjects | None = None) -> str:
        """The commit of tip's history that made this move, when tip has the group moved.

        Only for a whole-group move: a phase of make-before-break is not recognised here
        (it is rebuilt, or reported as a conflict).
        """
        if move.phase:
            return ""
        paths = MovePaths.of(group=move.group, source=move.source, target=move.target)
        reader = objects.reader if objects is not None else None
        return commit_that_moved(self.path, paths=paths, group=move.group, tip=tip, reader=reader)

    def build_commit(
        self,
        move: Move,
        *,
        base: str,
        author: tuple[str, str],
        env: Mapping[str, str] | None = None,
        objects: TreeObjects | None = None,
    ) -> str:
        """Write the move's commit (a whole move or one phase) on top of base; its sha."""
        if move.phase:
            return build_phase_commit(
                self.path,
                base=base,
                group=move.group,
                source=move.source,
                target=move.target,
                phase=move.phase,
                started=move.started,
                message=move.message,
                author=author,
                env=env,
                objects=objects,
            )
        return build_move_commit(
            self.path,
            base=base,
            group=move.group,
            source=move.source,
            target=move.target,
            message=move.message,
            author=author,
            env=env,
            objects=objects,
        )

    def _push(self, commit: str, *, env: Mapping[str, str] | None = None) -> str:
        """Push commit to the branch on origin; '' on success, else why not."""
        spec = f"{commit}:{self._ref}"
        done = run_git(
            ["push", "--porcelain", "origin", spec],
            cwd=self.path,
            env=env,
            check=False,
            timeout=NETWORK_TIMEOUT,
        )
        for line in done.stdout.decode(errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) == 3 and fields[1].endswith(f":{self._ref}"):
                if done.returncode == 0 and fields[0] in (" ", "*", "=", "+"):
                    return ""
                if any(busy in fields[2] for busy in _REF_BUSY):
                    return "fetch first"
                return next((r for r in _LOST_RACE if r in fields[2]), fields[2].strip())
        stderr = GitError(["push"], done.returncode, done.stderr.decode(errors="replace")).stderr
        return stderr or f"git push exited with {done.returncode}"

    def _fetch(self, *, env: Mapping[str, str] | None = None) -> str | None:
        """Fetch the branch from origin; the remote tip, or None if origin has no such branch."""
        tracking = f"refs/remotes/origin/{self.branch}"
        fetched = run_git(
            ["fetch", "--quiet", "--no-tags", "origin", f"+{self._ref}:{tracking}"],
            cwd=self.path,
            env=env,
            check=False,
            timeout=NETWORK_TIMEOUT,
        )
        if fetched.returncode != 0:
            error = GitError(["fetch"], fetched.returncode, fetched.stderr.decode(errors="replace"))
            if "couldn't find remote ref" in error.stderr:
                return None
            raise error
        return git_text(["rev-parse", "--verify", f"{tracking}^{{commit}}"], cwd=self.path)

    def _finish_interrupted_move(self) -> None:
        try:
            finish_interrupted_move(self.path)
        except InterruptedMoveError as error:
            raise WorkspaceError(str(error)) from error

    def _ensure_branch(self) -> None:
        if git_succeeds(["rev-parse", "--verify", "-q", self._ref], cwd=self.path):
            return
        tracking = f"refs/remotes/origin/{self.branch}"
        if not git_succeeds(["rev-parse", "--verify", "-q", tracking], cwd=self.path):
            raise WorkspaceError(f"{self.path} has no branch {self.branch}")
        run_git(["update-ref", self._ref, tracking, ""], cwd=self.path)


def _remember_listings(reader: ObjectReader, *, commit: str, move: Move) -> None:
    """Parse the commit's two kustomizations ahead (see `kustomization.remember`)."""
    paths = MovePaths.of(group=move.group, source=move.source, target=move.target)
    try:
        tree = BatchTree(reader, base=commit)
        for path in (paths.source_kustomization, paths.target_kustomization):
            listing = tree.blob(path)
            if listing is not None:
                kustomization.remember(listing.text)
    except (UnusualTree, GitError, UnicodeDecodeError) as error:
        log.debug("not parsing the kustomizations of %s ahead: %s", commit[:12], error)
