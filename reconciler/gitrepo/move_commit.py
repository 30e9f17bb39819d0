"""Write the commit that moves one group, using git plumbing only.

The commit is built beside the checkout: the few trees on the group's paths are read
through one `cat-file --batch` process and written again with one `mktree --batch`
(`tree_edit`), the group's files keep their blob ids and modes under the target path,
the two edited kustomization blobs are written, and `git commit-tree` makes the commit.
The result is the tree that `read-tree` + `update-index --index-info` + `write-tree`
in a private index would write, which remains the way for trees the batch route finds
unusual. Nothing here touches the working tree, the real index or any ref, so a failure
or a crash at any point leaves the repository as it was (at most some unreachable
objects, which `git gc` removes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from reconciler.gitrepo import kustomization
from reconciler.gitrepo.base_tree import BaseTree, BatchTree, Blob, CommandTree
from reconciler.gitrepo.git_command import git_text, run_git
from reconciler.gitrepo.tree_edit import FileEdit, edited_tree
from reconciler.gitrepo.tree_objects import TreeObjects, UnusualTree, objects_for

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
    objects: TreeObjects | None = None,
) -> str:
    """Write the commit moving the group from source to target on top of base; its sha."""
    _check_names(group=group, source=source, target=target)
    return commit_change(
        repo,
        base=base,
        change_of=lambda tree: _move_edit(tree, group=group, source=source, target=target),
        message=message,
        author=author,
        env=env,
        objects=objects,
    )


def commit_change(
    repo: Path,
    *,
    base: str,
    change_of: Callable[[BaseTree], TreeChange],
    message: str,
    author: tuple[str, str],
    env: Mapping[str, str] | None,
    objects: TreeObjects | None,
) -> str:
    """Write the commit of a change to base; its sha.

    The change is worked out on base's tree read through the batch reader, or through
    single git commands when that tree is unusual (see tree_objects.UnusualTree).
    """
    env = dict(env or {})
    with objects_for(repo, env=env, shared=objects) as batch:
        try:
            change = change_of(BatchTree(batch.reader, base=base))
        except UnusualTree:
            change = change_of(CommandTree(repo, base=base, env=env))
        return commit_tree_edit(
            repo,
            base=base,
            removed=change.removed,
            added=change.added,
            written=change.written,
            message=message,
            author=author,
            env=env,
            objects=batch,
        )


@dataclasses.dataclass(frozen=True)
class TreeChange:
    """A commit's change to its base: files removed, existing blobs added, files written."""

    removed: list[str]
    added: list[tuple[str, str, str]]  # (mode, sha, path)
    written: dict[str, tuple[str, str]]  # path: (mode, text)


def _move_edit(tree: BaseTree, *, group: str, source: str, target: str) -> TreeChange:
    paths = MovePaths.of(group=group, source=source, target=target)
    moved = tree.files_under(paths.source_dir)
    if not moved or any(not e.path.startswith(paths.source_dir + "/") for e in moved):
        raise MoveRefused(group, f"{paths.source_dir} does not exist")
    if tree.exists(paths.target_dir):
        raise MoveRefused(group, f"{paths.target_dir} already exists")
    source_k = tree.blob(paths.source_kustomization)
    if source_k is None:
        raise MoveRefused(group, f"{paths.source_kustomization} does not exist")
    target_k = tree.blob(paths.target_kustomization)
    source_text, target_text = _edited_kustomizations(
        group, paths=paths, source=source_k, target=target_k
    )
    prefix = len(paths.source_dir)
    target_mode = target_k.mode if target_k else _NEW_FILE_MODE
    return TreeChange(
        removed=[entry.path for entry in moved],
        added=[(e.mode, e.sha, f"{paths.target_dir}{e.path[prefix:]}") for e in moved],
        written={
            paths.source_kustomization: (source_k.mode, source_text),
            paths.target_kustomization: (target_mode, target_text),
        },
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
    objects: TreeObjects | None = None,
) -> str:
    """Commit on top of base: paths removed, existing blobs added (mode, sha, path), files
    written ({path: (mode, text)}); touching no ref, index or checkout."""
    removed, added = list(removed), list(added)
    tree = None
    if objects is not None:
        with contextlib.suppress(UnusualTree):
            tree = _tree_in_batch(
                repo, objects, base=base, removed=removed, added=added, written=written, env=env
            )
    if tree is None:
        tree = _tree_in_private_index(
            repo, base=base, removed=removed, added=added, written=written, env=env
        )
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


def _tree_in_batch(
    repo: Path,
    objects: TreeObjects,
    *,
    base: str,
    removed: list[str],
    added: list[tuple[str, str, str]],
    written: Mapping[str, tuple[str, str]],
    env: Mapping[str, str],
) -> str:
    """The edited tree, rewriting only the trees on the edited paths (see tree_edit)."""
    found = objects.reader.tree(f"{base}^{{tree}}")
    if found is None:
        raise UnusualTree(f"{base} has no tree")
    edits: dict[str, FileEdit] = dict.fromkeys(removed)
    edits.update({path: (mode, sha) for mode, sha, path in added})
    blobs = _write_blobs(repo, [text for _, text in written.values()], env=env)
    for (path, (mode, _)), sha in zip(written.items(), blobs, strict=True):
        edits[path] = (mode, sha)
    return edited_tree(objects.reader, objects.writer, base_tree=found[0], edits=edits)


def _write_blobs(repo: Path, texts: list[str], *, env: Mapping[str, str]) -> list[str]:
    """Write each text as a blob, as it is (no filters), with one hash-object; their ids."""
    if not texts:
        return []
    with tempfile.TemporaryDirectory(prefix="placement-blobs-") as scratch:
        files = []
        for number, text in enumerate(texts):
            file = Path(scratch) / str(number)
            file.write_bytes(text.encode())
            files.append(str(file))
        out = git_text(["hash-object", "-w", "--no-filters", "--", *files], cwd=repo, env=env)
    blobs = out.split()
    if len(blobs) != len(texts):
        raise UnusualTree(f"hash-object wrote {len(blobs)} blobs for {len(texts)} files")
    return blobs


def _tree_in_private_index(
    repo: Path,
    *,
    base: str,
    removed: list[str],
    added: list[tuple[str, str, str]],
    written: Mapping[str, tuple[str, str]],
    env: Mapping[str, str],
) -> str:
    """The edited tree, built in a private index: read-tree, update-index, write-tree."""
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
        return git_text(["write-tree"], cwd=repo, env=index_env)


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
    group: str, *, paths: MovePaths, source: Blob, target: Blob | None
) -> tuple[str, str]:
    listing = kustomization.parse(source.text)
    if not listing.lists_group(group):
        raise MoveRefused(group, f"it is not listed in {paths.source_kustomization}")
    try:
        source_text = listing.without_group(group)
    except kustomization.KustomizationError as error:
        raise MoveRefused(group, f"cannot edit {paths.source_kustomization}: {error}") from error
    try:
        target_text = kustomization.with_group(target.text if target else None, group)
    except kustomization.KustomizationError as error:
        raise MoveRefused(group, f"cannot edit {paths.target_kustomization}: {error}") from error
    return source_text, target_text


@contextlib.contextmanager
def _private_index(env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="placement-index-") as scratch:
        yield {**env, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
