"""What a commit holds at a path, asked the way a move commit needs it.

Two readers answer the same three questions with the same answers: `BatchTree` walks the
trees through one `cat-file --batch` process (the fast way), `CommandTree` asks one git
command per question (`ls-tree`, `cat-file -e`, `cat-file blob`: the original way, kept
for trees the batch reader finds unusual).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from reconciler.gitrepo.git_command import git_succeeds, run_git
from reconciler.gitrepo.tree_objects import ObjectReader, UnusualTree


@dataclasses.dataclass(frozen=True)
class ListedFile:
    """A blob (or submodule link) in a commit, as `ls-tree -r` lists it."""

    mode: str
    kind: str
    sha: str
    path: str


@dataclasses.dataclass(frozen=True)
class Blob:
    """A file's mode and text."""

    mode: str
    text: str


class BaseTree(Protocol):
    """The tree of one commit, asked about paths."""

    def files_under(self, path: str) -> list[ListedFile]:
        """Every file at or under path (`ls-tree -r --full-tree <base> -- <path>`)."""

    def exists(self, path: str) -> bool:
        """True when something is at path (`cat-file -e <base>:<path>`)."""

    def blob(self, path: str) -> Blob | None:
        """The file at path, or None when there is no file (a directory, a link...)."""

    def show(self, path: str) -> str | None:
        """What `cat-file -p <base>:<path>` prints, or None when it fails."""


class CommandTree:
    """Asks git one command per question."""

    def __init__(self, repo: Path, *, base: str, env: Mapping[str, str]) -> None:
        self._repo = repo
        self._base = base
        self._env = env

    def files_under(self, path: str) -> list[ListedFile]:
        out = run_git(
            ["ls-tree", "-r", "-z", "--full-tree", self._base, "--", path],
            cwd=self._repo,
            env=self._env,
        )
        entries = []
        for record in out.stdout.decode().split("\0"):
            if not record:
                continue
            meta, entry_path = record.split("\t", 1)
            mode, kind, sha = meta.split()
            entries.append(ListedFile(mode=mode, kind=kind, sha=sha, path=entry_path))
        return entries

    def exists(self, path: str) -> bool:
        spec = f"{self._base}:{path}"
        return git_succeeds(["cat-file", "-e", spec], cwd=self._repo, env=self._env)

    def blob(self, path: str) -> Blob | None:
        entries = [e for e in self.files_under(path) if e.path == path]
        if not entries or entries[0].kind != "blob":
            return None
        content = run_git(["cat-file", "blob", entries[0].sha], cwd=self._repo, env=self._env)
        return Blob(mode=entries[0].mode, text=content.stdout.decode())

    def show(self, path: str) -> str | None:
        shown = run_git(
            ["cat-file", "-p", f"{self._base}:{path}"], cwd=self._repo, env=self._env, check=False
        )
        return shown.stdout.decode() if shown.returncode == 0 else None


class BatchTree:
    """Walks the trees through an ObjectReader; raises UnusualTree where it would guess."""

    def __init__(self, objects: ObjectReader, *, base: str) -> None:
        found = objects.tree(f"{base}^{{tree}}")
        if found is None:
            raise UnusualTree(f"{base} has no tree")
        self.root = found[0]
        self._objects = objects

    def files_under(self, path: str) -> list[ListedFile]:
        directory_only = path.endswith("/")
        path = path.rstrip("/")
        entry = self._objects.lookup(self.root, path)
        if entry is None:
            return []
        if entry.kind != "tree":
            if directory_only:
                return []
            return [ListedFile(mode=entry.mode, kind=entry.kind, sha=entry.oid, path=path)]
        return [
            ListedFile(mode=e.mode, kind=e.kind, sha=e.oid, path=file_path)
            for file_path, e in self._objects.files(entry.oid, path)
        ]

    def exists(self, path: str) -> bool:
        entry = self._objects.lookup(self.root, path)
        if entry is not None and entry.kind == "commit":
            raise UnusualTree(f"a submodule at {path}")  # cat-file -e asks for its commit
        return entry is not None

    def blob(self, path: str) -> Blob | None:
        entry = self._objects.lookup(self.root, path)
        if entry is None or entry.kind != "blob":
            return None
        return Blob(mode=entry.mode, text=self._text(entry.oid, path))

    def show(self, path: str) -> str | None:
        entry = self._objects.lookup(self.root, path)
        if entry is None:
            return None
        if entry.kind != "blob":
            raise UnusualTree(f"cat-file -p shows a {entry.kind} at {path} in its own way")
        return self._text(entry.oid, path)

    def _text(self, blob: str, path: str) -> str:
        found = self._objects.read(blob)
        if found is None or found[1] != "blob":
            raise UnusualTree(f"the blob at {path} cannot be read")
        return found[2].decode()
