"""Write the commit of a group move (or of a make-before-break phase) with git plumbing.

The base is read with `git ls-tree` and `git cat-file`. The new tree is built in a
private index (`GIT_INDEX_FILE` in a temporary directory): `read-tree <base>`, the change
as `update-index --index-info` (moved files keep their blob and mode, edited files get the
blobs `hash-object` writes), then `write-tree`, and `commit-tree` makes the commit. Nothing
here touches the working tree, the real index or a ref, so a failure or a crash at any
point leaves the repository as it was (at most unreachable objects, which `git gc` removes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from reconciler.core import errors
from reconciler.gitrepo import kustomization
from reconciler.gitrepo.git_command import git_text, run_git

NEW_FILE_MODE = "100644"
GITLINK_MODE = "160000"
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

    removed: list[str]
    added: list[File]
    written: dict[str, tuple[str, str]]  # path: (mode, text)


def build_move_commit(
    repo: Path,
    *,
    base: str,
    group: str,
    source: str,
    target: str,
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Write the commit moving the group from source to target on top of base; its sha."""
    check_names(group=group, source=source, target=target)
    paths = MovePaths.of(group=group, source=source, target=target)
    tree = BaseTree(repo, base=base, paths=paths, env=env)
    moved = tree.files_under(paths.source_dir)
    if not moved:
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if tree.exists(paths.target_dir):
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    listing = tree.text(paths.source_kustomization)
    if listing is None:
        raise MoveRefused(group, f"{paths.source_kustomization} does not exist")
    with refusing(group, paths.source_kustomization):
        if not kustomization.lists_group(listing[1], group):
            raise MoveRefused(group, f"it is not listed in {paths.source_kustomization}")
        source_text = kustomization.without_group(listing[1], group)
    target_listing = tree.text(paths.target_kustomization)
    with refusing(group, paths.target_kustomization):
        target_text = kustomization.with_group(target_listing and target_listing[1], group)
    prefix = len(paths.source_dir)
    change = TreeChange(
        removed=[file.path for file in moved],
        added=[dataclasses.replace(f, path=paths.target_dir + f.path[prefix:]) for f in moved],
        written={
            paths.source_kustomization: (listing[0], source_text),
            paths.target_kustomization: (mode_of(target_listing), target_text),
        },
    )
    return write_commit(repo, base=base, change=change, message=message, author=author, env=env)


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
        run_git(["read-tree", base], cwd=repo, env=index_env)
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


def check_names(*, group: str, source: str, target: str) -> None:
    """Refuse names that are not plain path components, and a move onto the same cluster."""
    for what, name in (("group", group), ("cluster", source), ("cluster", target)):
        if not _NAME.fullmatch(name):
            raise MoveRefused(group, f"{name!r} is not a valid {what} name")
    if source == target:
        raise MoveRefused(group, f"it is already on {source}")


@contextlib.contextmanager
def refusing(group: str, path: str) -> Iterator[None]:
    """A file of the repo that cannot be read or edited safely refuses the move, saying why."""
    try:
        yield
    except errors.FleetRepoError as error:
        raise MoveRefused(group, f"cannot edit {path}: {error}") from error


def mode_of(found: tuple[str, str] | None) -> str:
    """The mode a file keeps when it is rewritten (a new one is a plain file)."""
    return found[0] if found is not None else NEW_FILE_MODE
