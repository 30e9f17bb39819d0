"""Write the commit that moves one group, using git plumbing only.

The commit is built in a private index file (GIT_INDEX_FILE in a temporary directory):
the base tree is read into it, the group's entries are re-added under the target path
with the same blob ids and modes, the two edited kustomization blobs are written, and
`git write-tree` + `git commit-tree` make the commit. Nothing here touches the working
tree, the real index or any ref, so a failure or a crash at any point leaves the
repository as it was (at most some unreachable objects, which `git gc` removes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from reconciler.act import kustomization
from reconciler.act.git_command import git_succeeds, git_text, run_git

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NEW_FILE_MODE = "100644"


class MoveRefused(ValueError):
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
class _TreeEntry:
    mode: str
    kind: str
    sha: str
    path: str


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
    _check_names(group=group, source=source, target=target)
    paths = MovePaths.of(group=group, source=source, target=target)
    env = dict(env or {})
    moved = _list_tree(repo, base, paths.source_dir, env=env)
    if not moved or any(not e.path.startswith(paths.source_dir + "/") for e in moved):
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if git_succeeds(["cat-file", "-e", f"{base}:{paths.target_dir}"], cwd=repo, env=env):
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    source_k = _blob(repo, base, paths.source_kustomization, env=env)
    if source_k is None:
        raise MoveRefused(group, f"{paths.source_kustomization} does not exist")
    target_k = _blob(repo, base, paths.target_kustomization, env=env)
    source_text, target_text = _edited_kustomizations(
        group, paths=paths, source=source_k, target=target_k
    )

    prefix = len(paths.source_dir)
    target_mode = target_k.mode if target_k else _NEW_FILE_MODE
    return commit_tree_edit(
        repo,
        base=base,
        removed=[entry.path for entry in moved],
        added=[(e.mode, e.sha, f"{paths.target_dir}{e.path[prefix:]}") for e in moved],
        written={
            paths.source_kustomization: (source_k.mode, source_text),
            paths.target_kustomization: (target_mode, target_text),
        },
        message=message,
        author=author,
        env=env,
    )


def commit_tree_edit(
    repo: Path,
    *,
    base: str,
    removed: Iterable[str],
    added: Iterable[tuple[str, str, str]],
    written: Mapping[str, tuple[str, str]],
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str],
) -> str:
    """Commit on top of base: paths removed, existing blobs added (mode, sha, path), files
    written ({path: (mode, text)}); built in a private index, touching no ref or checkout."""
    with _private_index(env) as index_env:
        run_git(["read-tree", base], cwd=repo, env=index_env)
        zero = "0" * len(base)
        lines = [f"0 {zero}\t{path}" for path in removed]
        lines += [f"{mode} {sha}\t{path}" for mode, sha, path in added]
        for path, (mode, text) in written.items():
            sha = git_text(
                ["hash-object", "-w", "--no-filters", "--stdin"],
                cwd=repo,
                env=index_env,
                stdin=text.encode(),
            )
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
    return git_text(
        ["commit-tree", tree, "-p", base, "-F", "-"],
        cwd=repo,
        env={**env, **identity},
        stdin=body.encode(),
    )


@contextlib.contextmanager
def scratch_objects(repo: Path) -> Iterator[dict[str, str]]:
    """An environment where new objects go to a temporary store (the repo's stay readable).

    Used for a dry run: the move is built exactly as for real, and afterwards nothing of
    it is left in the repository.
    """
    objects = Path(git_text(["rev-parse", "--git-path", "objects"], cwd=repo))
    objects = objects if objects.is_absolute() else (repo / objects)
    with tempfile.TemporaryDirectory(prefix="placement-objects-") as scratch:
        yield {
            "GIT_OBJECT_DIRECTORY": scratch,
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(objects.resolve()),
        }


def _check_names(*, group: str, source: str, target: str) -> None:
    for what, name in (("group", group), ("cluster", source), ("cluster", target)):
        if not _NAME.fullmatch(name):
            raise MoveRefused(group, f"{name!r} is not a valid {what} name")
    if source == target:
        raise MoveRefused(group, f"it is already on {source}")


def _edited_kustomizations(
    group: str, *, paths: MovePaths, source: _Blob, target: _Blob | None
) -> tuple[str, str]:
    if not kustomization.lists_group(source.text, group):
        raise MoveRefused(group, f"it is not listed in {paths.source_kustomization}")
    try:
        source_text = kustomization.without_group(source.text, group)
    except kustomization.KustomizationError as error:
        raise MoveRefused(group, f"cannot edit {paths.source_kustomization}: {error}") from error
    try:
        target_text = kustomization.with_group(target.text if target else None, group)
    except kustomization.KustomizationError as error:
        raise MoveRefused(group, f"cannot edit {paths.target_kustomization}: {error}") from error
    return source_text, target_text


@dataclasses.dataclass(frozen=True)
class _Blob:
    mode: str
    text: str


def _blob(repo: Path, base: str, path: str, *, env: Mapping[str, str]) -> _Blob | None:
    entries = [e for e in _list_tree(repo, base, path, env=env) if e.path == path]
    if not entries or entries[0].kind != "blob":
        return None
    content = run_git(["cat-file", "blob", entries[0].sha], cwd=repo, env=env).stdout
    return _Blob(mode=entries[0].mode, text=content.decode())


def _list_tree(repo: Path, base: str, path: str, *, env: Mapping[str, str]) -> list[_TreeEntry]:
    """Every blob (and submodule link) at or under path in base, recursively."""
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", base, "--", path], cwd=repo, env=env)
    entries = []
    for record in out.stdout.decode().split("\0"):
        if not record:
            continue
        meta, entry_path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        entries.append(_TreeEntry(mode=mode, kind=kind, sha=sha, path=entry_path))
    return entries


@contextlib.contextmanager
def _private_index(env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="placement-index-") as scratch:
        yield {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
