"""Write the commit of a group move, or of one make-before-break phase, with git plumbing.

The base is read with `git ls-tree` and `git cat-file`. The new tree is built in a
private index (`GIT_INDEX_FILE` in a temporary directory) that starts as the base: a copy
of the checkout's index when that holds exactly the base (its cache-tree makes it cheap),
else `read-tree <base>`. The change goes in as `update-index --index-info` (moved files
keep their blob and mode, edited files get the blobs `hash-object` writes), then
`write-tree`, and `commit-tree` makes the commit. Nothing here touches the working tree,
the real index or a ref, so a failure or a crash at any point leaves the repository as it
was (at most unreachable objects, which `git gc` removes).

The phases of make-before-break:
- copy:   the group is added under the target (and to its kustomization) while it stays
          under the source; both copies' placement.yaml carry the moveInProgress marker.
- finish: the source copy leaves (directory and kustomization entry); the marker is cleared.
- revert: the target copy leaves instead; the marker is cleared at the source.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.core import errors
from reconciler.gitrepo import kustomization
from reconciler.gitrepo.git_command import git_text, run_git
from reconciler.gitrepo.placement_file import with_move_marker, without_move_marker

if TYPE_CHECKING:
    from reconciler.gitrepo.workspace import Move

NEW_FILE_MODE = "100644"
GITLINK_MODE = "160000"
PHASES = ("", "copy", "finish", "revert")  # "" moves the whole group in one commit
POLICY_FILE = "placement.yaml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class MoveRefused(errors.GitError):
    """The move cannot be written on this base; the message says why in plain words."""

    def __init__(self, group: str, reason: str) -> None:
        self.group = group
        self.reason = reason
        super().__init__(f"cannot move {group}: {reason}")


@dataclasses.dataclass(frozen=True)
class MovePaths:
    """Where a move reads and writes in the fleet repo."""

    source_dir: str
    target_dir: str
    source_kustomization: str
    target_kustomization: str

    @classmethod
    def of(cls, *, group: str, source: str, target: str) -> MovePaths:
        return cls(
            source_dir=f"clusters/{source}/groups/{group}",
            target_dir=f"clusters/{target}/groups/{group}",
            source_kustomization=f"clusters/{source}/groups/kustomization.yaml",
            target_kustomization=f"clusters/{target}/groups/kustomization.yaml",
        )

    def all(self) -> list[str]:
        return [
            self.source_dir,
            self.target_dir,
            self.source_kustomization,
            self.target_kustomization,
        ]


@dataclasses.dataclass(frozen=True)
class File:
    """A file (or submodule link) of a commit: its mode, object id and path."""

    mode: str
    sha: str
    path: str


class BaseTree:
    """What one commit holds at a move's paths, listed with one `ls-tree`."""

    def __init__(
        self, repo: Path, *, base: str, paths: MovePaths, env: Mapping[str, str] | None = None
    ) -> None:
        self._repo, self._env = repo, env
        args = ["ls-tree", "-r", "-z", "--full-tree", base, "--", *paths.all()]
        self._files: dict[str, File] = {}
        for record in filter(None, git_text(args, cwd=repo, env=env).split("\0")):
            meta, path = record.split("\t", 1)
            mode, _, sha = meta.split()
            self._files[path] = File(mode=mode, sha=sha, path=path)

    def files_under(self, directory: str) -> list[File]:
        """Every file below the directory, at any depth."""
        return [f for path, f in self._files.items() if path.startswith(directory + "/")]

    def exists(self, path: str) -> bool:
        """True when a file is at path, or below it."""
        return path in self._files or bool(self.files_under(path))

    def text(self, path: str) -> tuple[str, str] | None:
        """The mode and text of the file at path, or None when no file is there."""
        found = self._files.get(path)
        if found is None or found.mode == GITLINK_MODE:  # a submodule: no text here
            return None
        blob = run_git(["cat-file", "blob", found.sha], cwd=self._repo, env=self._env)
        return found.mode, blob.stdout.decode()


@dataclasses.dataclass(frozen=True)
class TreeChange:
    """A commit's change to its base: files removed, existing blobs added, files written."""

    removed: list[str] = dataclasses.field(default_factory=list)
    added: list[File] = dataclasses.field(default_factory=list)
    written: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)


def build_move_commit(
    repo: Path,
    move: Move,
    *,
    base: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Write the commit of the move (or of one of its phases) on top of base; its sha."""
    group, source, target, phase = move.group, move.source, move.target, move.phase
    if phase not in PHASES:
        raise MoveRefused(group, f"unknown phase {phase!r}")
    for what, name in (("group", group), ("cluster", source), ("cluster", target)):
        if not _NAME.fullmatch(name):
            raise MoveRefused(group, f"{name!r} is not a valid {what} name")
    if source == target:
        raise MoveRefused(group, f"it is already on {source}")
    paths = MovePaths.of(group=group, source=source, target=target)
    tree = BaseTree(repo, base=base, paths=paths, env=env)
    at_source, at_target = tree.files_under(paths.source_dir), tree.files_under(paths.target_dir)
    if not at_source:
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if phase in ("", "copy") and tree.exists(paths.target_dir):
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    if phase in ("finish", "revert") and not at_target:
        raise MoveRefused(group, f"{paths.target_dir} does not exist: no move in progress")
    change = TreeChange()
    if phase in ("", "copy"):  # the group arrives at the target
        _arrive(tree, change, paths=paths, group=group, unlist_source=not phase)
        policy = f"{paths.source_dir}/{POLICY_FILE}"
        prefix = len(paths.source_dir)
        change.added.extend(
            dataclasses.replace(f, path=paths.target_dir + f.path[prefix:])
            for f in at_source
            if not (phase and f.path == policy)
        )
    if not phase:
        change.removed.extend(file.path for file in at_source)
    elif phase == "copy":
        found = tree.text(policy)
        with _refusing(group, policy):
            marked = with_move_marker(
                found and found[1], source=source, target=target, started=move.started
            )
        for path in (policy, f"{paths.target_dir}/{POLICY_FILE}"):
            change.written[path] = (_mode_of(found), marked)
    else:  # finish: the source copy leaves; revert: the target copy leaves
        finish = phase == "finish"
        change.removed.extend(file.path for file in (at_source if finish else at_target))
        listing = paths.source_kustomization if finish else paths.target_kustomization
        _leave(tree, change, group=group, listing=listing)
        staying = paths.target_dir if finish else paths.source_dir
        _clear_marker(tree, change, group=group, policy=f"{staying}/{POLICY_FILE}")
    return write_commit(
        repo, base=base, change=change, message=move.message, author=author, env=env
    )


def _arrive(
    tree: BaseTree, change: TreeChange, *, paths: MovePaths, group: str, unlist_source: bool
) -> None:
    """The group listed at the target; it must be listed at the source (and leaves it there
    when unlist_source)."""
    source = paths.source_kustomization
    listing = tree.text(source)
    if listing is None:
        raise MoveRefused(group, f"{source} does not exist")
    with _refusing(group, source):
        try:
            if unlist_source:
                change.written[source] = (
                    listing[0],
                    kustomization.without_group(listing[1], group),
                )
            elif not kustomization.lists_group(listing[1], group):
                raise kustomization.NotListed(group)
        except kustomization.NotListed:
            raise MoveRefused(group, f"it is not listed in {source}") from None
    target = paths.target_kustomization
    found = tree.text(target)
    with _refusing(group, target):
        change.written[target] = (
            _mode_of(found),
            kustomization.with_group(found and found[1], group),
        )


def _leave(tree: BaseTree, change: TreeChange, *, group: str, listing: str) -> None:
    """The group's entry gone from the listing, if it is there."""
    found = tree.text(listing)
    with _refusing(group, listing):
        if found is not None and kustomization.lists_group(found[1], group):
            change.written[listing] = (found[0], kustomization.without_group(found[1], group))


def _clear_marker(tree: BaseTree, change: TreeChange, *, group: str, policy: str) -> None:
    """The move marker cleared from placement.yaml; the file goes when nothing else is left."""
    found = tree.text(policy)
    if found is None:
        return
    with _refusing(group, policy):
        cleared = without_move_marker(found[1])
    if cleared is None:
        change.removed.append(policy)
    else:
        change.written[policy] = (found[0], cleared)


def write_commit(
    repo: Path,
    *,
    base: str,
    change: TreeChange,
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Commit the change on top of base, built in a private index; the commit's sha."""
    with tempfile.TemporaryDirectory(prefix="placement-index-") as scratch:
        index_env = {**(env or {}), "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _start_index(repo, base=base, env=env or {}, index_env=index_env)
        zero = "0" * len(base)
        lines = [f"0 {zero}\t{path}" for path in change.removed]
        lines += [f"{file.mode} {file.sha}\t{file.path}" for file in change.added]
        for path, (mode, text) in change.written.items():
            blob_args = ["hash-object", "-w", "--no-filters", "--stdin"]
            sha = git_text(blob_args, cwd=repo, env=index_env, stdin=text.encode())
            lines.append(f"{mode} {sha}\t{path}")
        index_info = "".join(line + "\0" for line in lines).encode()
        run_git(["update-index", "-z", "--index-info"], cwd=repo, env=index_env, stdin=index_info)
        tree = git_text(["write-tree"], cwd=repo, env=index_env)
    name, email = author
    identity = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    body = message if message.endswith("\n") else message + "\n"
    commit_args = ["commit-tree", tree, "-p", base, "-F", "-"]
    return git_text(commit_args, cwd=repo, env={**(env or {}), **identity}, stdin=body.encode())


def _start_index(
    repo: Path, *, base: str, env: Mapping[str, str], index_env: Mapping[str, str]
) -> None:
    """Fill the private index with base: a copy of the checkout's index when its tree is
    exactly base's (write-tree answers that from the copy's cache-tree), else read-tree."""
    asked = ["rev-parse", "--git-path", "index", f"{base}^{{tree}}"]
    checkout_index, base_tree = git_text(asked, cwd=repo, env=env).splitlines()
    with contextlib.suppress(OSError):
        shutil.copyfile(repo / checkout_index, index_env["GIT_INDEX_FILE"])
        copied = run_git(["write-tree"], cwd=repo, env=index_env, check=False)
        if copied.returncode == 0 and copied.stdout.decode().strip() == base_tree:
            return
    run_git(["read-tree", base], cwd=repo, env=index_env)


@contextlib.contextmanager
def scratch_objects(repo: Path) -> Iterator[dict[str, str]]:
    """An environment where new objects go to a temporary store (the repo's stay readable).

    For a dry run: the move is built exactly as for real, and nothing of it is left behind.
    """
    objects = Path(git_text(["rev-parse", "--git-path", "objects"], cwd=repo))
    with tempfile.TemporaryDirectory(prefix="placement-objects-") as scratch:
        yield {
            "GIT_OBJECT_DIRECTORY": scratch,
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str((repo / objects).resolve()),
        }


@contextlib.contextmanager
def _refusing(group: str, path: str) -> Iterator[None]:
    """A file of the repo that cannot be read or edited safely refuses the move, saying why."""
    try:
        yield
    except errors.FleetRepoError as error:
        raise MoveRefused(group, f"cannot edit {path}: {error}") from error


def _mode_of(found: tuple[str, str] | None) -> str:
    """The mode a file keeps when it is rewritten (a new one is a plain file)."""
    return found[0] if found is not None else NEW_FILE_MODE
