"""Move a branch to a new commit, and its checkout with it, as close to atomically as git allows.

The branch moves with one compare-and-swap `git update-ref` (it fails if anyone else
moved it). If the branch is checked out, the files and the index then follow with a
two-tree `git read-tree -m -u old new`, which checks everything before it writes
anything and refuses rather than overwrite local changes; the branch is then put back.

Between those two steps a crash would leave the branch ahead of the files, so a journal
(`placement-reconciler-move` in the git directory) is written before the branch moves
and removed once the files follow; `finish_interrupted_move` completes what it names.

The read-tree gets two trees that hold only the paths where old and new differ
(`changed_trees`): the same merge, path by path, without walking the whole repository.
When every changed file is plainly clean, the outcome of that merge is known, and only
those files are written (`path_checkout`), read-tree deciding whenever they are not.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
from pathlib import Path

from reconciler.gitrepo.changed_trees import MergeTrees
from reconciler.gitrepo.git_command import GitError, git_succeeds, git_text, run_git
from reconciler.gitrepo.path_checkout import PathCheckout
from reconciler.gitrepo.tree_objects import ObjectReader

log = logging.getLogger(__name__)

_JOURNAL = "placement-reconciler-move"
# The environment that can move a repository's git directory (part of the cache key).
_LOCATION_VARIABLES = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY")
# HEAD as the files ref backend writes it: a symbolic ref, or a detached commit id.
_SYMBOLIC_HEAD = re.compile(r"ref: (refs/[^\s]+)\n")
_DETACHED_HEAD = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\n")


class InterruptedMoveError(RuntimeError):
    """A crashed move left the checkout behind its branch, and it cannot be finished safely."""


def advance(
    repo: Path,
    *,
    branch: str,
    old: str,
    new: str,
    reader: ObjectReader | None = None,
    update: CheckoutUpdate | None = None,
) -> str:
    """Move branch from old to new, and the checkout with it; '' or why it could not.

    `reader`, an ObjectReader of the repository already running, saves starting one;
    `update`, a CheckoutUpdate for the same old and new, may be prepared already.
    """
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
            problem = _update_checkout(repo, old=old, new=new, reader=reader, update=update)
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
    layout = _layout(repo)
    return not layout.bare and _head_ref(repo, layout) == f"refs/heads/{branch}"


def _head_ref(repo: Path, layout: _Layout) -> str:
    """The branch HEAD names ('' when detached), as `git symbolic-ref -q HEAD` says it.

    Read from the HEAD file when it is a plain one; anything else (a symlink, another ref
    backend's placeholder, an odd content) is left to git.
    """
    head = layout.git_dir / "HEAD"
    try:
        text = "" if head.is_symlink() else head.read_text()
    except (OSError, UnicodeDecodeError):
        text = ""
    symbolic = _SYMBOLIC_HEAD.fullmatch(text)
    if symbolic and symbolic.group(1) != "refs/heads/.invalid":
        return symbolic.group(1)
    if _DETACHED_HEAD.fullmatch(text):
        return ""
    named = run_git(["symbolic-ref", "-q", "HEAD"], cwd=repo, check=False)
    return named.stdout.decode().strip()


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where a repository keeps things, and whether it is bare: facts that do not change."""

    bare: bool
    git_dir: Path
    index: Path
    journal: Path
    objects: Path
    sparse_checkout: Path


def _layout(repo: Path) -> _Layout:
    location = tuple(os.environ.get(name) for name in _LOCATION_VARIABLES)
    return _layout_of(repo.resolve(), location)


@functools.lru_cache(maxsize=32)
def _layout_of(repo: Path, location: tuple[str | None, ...]) -> _Layout:
    lines = git_text(
        [
            "rev-parse",
            "--is-bare-repository",
            "--absolute-git-dir",
            "--git-path",
            "index",
            "--git-path",
            _JOURNAL,
            "--git-path",
            "objects",
            "--git-path",
            "info/sparse-checkout",
        ],
        cwd=repo,
    ).splitlines()
    bare, git_dir, index, journal, objects, sparse = lines
    return _Layout(
        bare=bare == "true",
        git_dir=Path(git_dir),
        index=repo / index,
        journal=repo / journal,  # relative ones are relative to repo; absolute ones stay
        objects=repo / objects,
        sparse_checkout=repo / sparse,
    )


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    """True when older is newer or one of its ancestors."""
    return git_succeeds(["merge-base", "--is-ancestor", older, newer], cwd=repo)


class CheckoutUpdate:
    """The update of the checkout from old to new, with what it needs found ahead.

    `prepare` (which may run in another thread, while a push runs, and never raises)
    finds the changed files and reads their index entries. `run` then updates: only the
    changed files when they are plainly clean (`path_checkout`), else with a read-tree
    of the changed-only trees (`changed_trees`), else of the whole trees.
    """

    def __init__(
        self, repo: Path, *, old: str, new: str, reader: ObjectReader | None = None
    ) -> None:
        self.repo, self.old, self.new = repo, old, new
        self._layout = _layout(repo)
        self._trees = MergeTrees(
            repo, old=old, new=new, objects_dir=self._layout.objects, reader=reader
        )
        self._paths: PathCheckout | None = None
        self._prepared = False
        self._broken = False

    def __enter__(self) -> CheckoutUpdate:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._trees.close()

    def prepare(self) -> None:
        """Find the changed files and read their index entries (once)."""
        if self._prepared:
            return
        self._prepared = True
        try:
            if self._sparse():
                return
            changes = self._trees.changes()
            if changes is not None:
                index = self._layout.index
                self._paths = PathCheckout.read(self.repo, index=index, changes=changes)
        except Exception:  # the read-tree of the whole trees then says what is wrong, if anything
            log.debug("preparing the checkout update from %s failed", self.old[:12], exc_info=True)
            self._broken = True

    def run(self) -> str:
        """Update the checkout; '' or why it could not (local changes in the way, ...)."""
        self.prepare()
        if self._broken or self._sparse():  # sparse patterns apply to every path
            return _two_way_merge(self.repo, old=self.old, new=self.new, env={})
        if self._paths is not None and self._paths.write(new=self.new):
            return ""  # every changed file was plainly clean: what read-tree would have done
        try:
            pair = self._trees.pair()
        except (GitError, OSError):
            log.debug("writing the changed-only trees failed", exc_info=True)
            pair = None
        if pair is None:
            return _two_way_merge(self.repo, old=self.old, new=self.new, env={})
        return _two_way_merge(self.repo, old=pair.old_tree, new=pair.new_tree, env=pair.env)

    def _sparse(self) -> bool:
        return self._layout.sparse_checkout.exists()


def _update_checkout(
    repo: Path,
    *,
    old: str,
    new: str,
    reader: ObjectReader | None = None,
    update: CheckoutUpdate | None = None,
) -> str:
    if update is not None and (update.old, update.new) == (old, new):
        return update.run()
    with CheckoutUpdate(repo, old=old, new=new, reader=reader) as fresh:
        return fresh.run()


def _two_way_merge(repo: Path, *, old: str, new: str, env: dict[str, str]) -> str:
    merge = ["read-tree", "-m", "-u", old, new]
    if run_git(merge, cwd=repo, env=env, check=False).returncode == 0:
        return ""
    # Stale stat data makes read-tree think clean files are modified. The refresh stats every
    # file of the checkout, so it runs only when read-tree refused (which wrote nothing).
    run_git(["update-index", "-q", "--refresh"], cwd=repo, check=False)
    merged = run_git(merge, cwd=repo, env=env, check=False)
    if merged.returncode == 0:
        return ""
    detail = GitError(["read-tree"], merged.returncode, merged.stderr.decode(errors="replace"))
    return f"the checkout has local changes in the way ({detail.stderr})"


def _journal_path(repo: Path) -> Path:
    return _layout(repo).journal


def _write_atomically(path: Path, text: str) -> None:
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    os.replace(scratch, path)
