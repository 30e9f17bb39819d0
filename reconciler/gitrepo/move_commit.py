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
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from reconciler.core import errors
from reconciler.gitrepo import kustomization
from reconciler.gitrepo.git_command import git_text, run_git

if TYPE_CHECKING:
    from reconciler.gitrepo.workspace import Move

NEW_FILE_MODE = "100644"
GITLINK_MODE = "160000"
PHASES = ("", "copy", "finish", "revert")  # "" moves the whole group in one commit
POLICY_FILE = "placement.yaml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Entry = tuple[str, str]  # a file's mode and object id


class MoveRefused(errors.GitError):
    """The move cannot be written on this base; the message says why in plain words."""

    def __init__(self, group: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot move {group}: {reason}")


class MovePaths(NamedTuple):
    """Where a move reads and writes in the fleet repo."""

    source_dir: str
    target_dir: str
    source_kustomization: str
    target_kustomization: str

    @classmethod
    def of(cls, move: Move) -> MovePaths:
        source, target = f"clusters/{move.source}/groups", f"clusters/{move.target}/groups"
        listing = "kustomization.yaml"
        group = move.group
        return cls(
            f"{source}/{group}", f"{target}/{group}", f"{source}/{listing}", f"{target}/{listing}"
        )


class BaseTree:
    """What one commit holds at a move's paths, listed with one `ls-tree`."""

    def __init__(
        self, repo: Path, *, base: str, paths: MovePaths, env: Mapping[str, str] | None = None
    ) -> None:
        self._repo, self._env = repo, env
        listing = git_text(
            ["ls-tree", "-r", "-z", "--full-tree", base, "--", *paths], cwd=repo, env=env
        )
        self.files: dict[str, Entry] = {}
        for record in filter(None, listing.split("\0")):
            meta, path = record.split("\t", 1)
            mode, _, sha = meta.split()
            self.files[path] = (mode, sha)

    def under(self, directory: str) -> dict[str, Entry]:
        """Every file below the directory, at any depth."""
        return {path: e for path, e in self.files.items() if path.startswith(directory + "/")}

    def exists(self, path: str) -> bool:
        """True when a file is at path, or below it."""
        return path in self.files or bool(self.under(path))

    def text(self, path: str) -> tuple[str, str] | None:
        """The mode and text of the file at path, or None when no file is there."""
        found = self.files.get(path)
        if found is None or found[0] == GITLINK_MODE:  # a submodule: no text here
            return None
        blob = run_git(["cat-file", "blob", found[1]], cwd=self._repo, env=self._env)
        return found[0], blob.stdout.decode()


def build_move_commit(
    repo: Path,
    move: Move,
    *,
    base: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Write the commit of the move (or of one of its phases) on top of base; its sha."""
    group, phase = move.group, move.phase
    if phase not in PHASES:
        raise MoveRefused(group, f"unknown phase {phase!r}")
    for what, name in (("group", group), ("cluster", move.source), ("cluster", move.target)):
        if not _NAME.fullmatch(name):
            raise MoveRefused(group, f"{name!r} is not a valid {what} name")
    if move.source == move.target:
        raise MoveRefused(group, f"it is already on {move.source}")
    paths = MovePaths.of(move)
    tree = BaseTree(repo, base=base, paths=paths, env=env)
    at_source, at_target = tree.under(paths.source_dir), tree.under(paths.target_dir)
    if not at_source:
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if phase in ("", "copy") and tree.exists(paths.target_dir):
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    if phase in ("finish", "revert") and not at_target:
        raise MoveRefused(group, f"{paths.target_dir} does not exist: no move in progress")
    entries: dict[str, Entry | None] = {}  # the change to base; None removes the path

    def write(path: str, found: tuple[str, str] | None, text: str) -> None:
        """Set path to text, in the mode of the file it replaces."""
        blob = ["hash-object", "-w", "--no-filters", "--stdin"]
        sha = git_text(blob, cwd=repo, env=env, stdin=text.encode())
        entries[path] = (found[0] if found else NEW_FILE_MODE, sha)

    policy = f"{paths.source_dir}/{POLICY_FILE}"
    if phase in ("", "copy"):  # the group arrives at the target, listed there too
        source, target = paths.source_kustomization, paths.target_kustomization
        listing = tree.text(source)
        if listing is None:
            raise MoveRefused(group, f"{source} does not exist")
        with _refusing(group, source):
            try:  # a copy keeps the source's listing, which must name the group all the same
                unlisted = kustomization.without_group(listing[1], group)
            except kustomization.NotListed:
                raise MoveRefused(group, f"it is not listed in {source}") from None
        if not phase:
            write(source, listing, unlisted)
        found = tree.text(target)
        with _refusing(group, target):
            write(target, found, kustomization.with_group(found and found[1], group))
        for path, entry in at_source.items():
            if not (phase and path == policy):
                entries[paths.target_dir + path[len(paths.source_dir) :]] = entry
    if not phase:
        entries.update(dict.fromkeys(at_source))
    elif phase == "copy":
        found = tree.text(policy)
        with _refusing(group, policy):
            marked = kustomization.with_move_marker(
                found and found[1], source=move.source, target=move.target, started=move.started
            )
        for path in (policy, f"{paths.target_dir}/{POLICY_FILE}"):
            write(path, found, marked)
    else:  # finish: the source copy leaves; revert: the target copy leaves
        finish = phase == "finish"
        entries.update(dict.fromkeys(at_source if finish else at_target))
        listing_path = paths.source_kustomization if finish else paths.target_kustomization
        found = tree.text(listing_path)
        with _refusing(group, listing_path):
            if found is not None and kustomization.lists_group(found[1], group):
                write(listing_path, found, kustomization.without_group(found[1], group))
        staying = f"{paths.target_dir if finish else paths.source_dir}/{POLICY_FILE}"
        found = tree.text(staying)
        if found is not None:
            with _refusing(group, staying):
                cleared = kustomization.without_move_marker(found[1])
            if cleared is None:  # nothing else was left in the file
                entries[staying] = None
            else:
                write(staying, found, cleared)
    return write_commit(
        repo, base=base, entries=entries, message=move.message, author=author, env=env
    )


def write_commit(
    repo: Path,
    *,
    base: str,
    entries: Mapping[str, Entry | None],
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Commit base with entries changed (None removes the path), built in a private index."""
    with tempfile.TemporaryDirectory(prefix="placement-index-") as scratch:
        index_env = {**(env or {}), "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _start_index(repo, base=base, env=env or {}, index_env=index_env)
        index_info = ""
        for path, entry in entries.items():
            mode, sha = entry or ("0", "0" * len(base))  # mode 0 removes the path
            index_info += f"{mode} {sha}\t{path}\0"
        update = ["update-index", "-z", "--index-info"]
        run_git(update, cwd=repo, env=index_env, stdin=index_info.encode())
        tree = git_text(["write-tree"], cwd=repo, env=index_env)
    name, email = author
    identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
    identity |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
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
def _refusing(group: str, path: str) -> Iterator[None]:
    """A file of the repo that cannot be read or edited safely refuses the move, saying why."""
    try:
        yield
    except errors.FleetRepoError as error:
        raise MoveRefused(group, f"cannot edit {path}: {error}") from error
