"""Rendered groups kept on disk between passes, keyed by the git tree ids of what they read.

A key is the group's path and tree id, the tree ids of every directory outside it that the
render reads (render_inputs), and the renderer's command and version: a pass re-renders
only the groups whose inputs changed. All tree ids come from one `git ls-tree`; a
directory with uncommitted changes (`git status`) has no trustworthy id, so its groups are
rendered afresh and not stored. Outside a git checkout nothing is cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_GIT_TIMEOUT = 60.0


def render_cache_dir() -> Path:
    """Where rendered groups are kept: beside the clones ($XDG_CACHE_HOME, else ~/.cache)."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "placement-reconciler" / "render"


class TreeIds:
    """The tree id of every directory of a checkout's HEAD, minus those with local changes."""

    def __init__(self, ids: Mapping[str, str], *, dirty: Sequence[str]) -> None:
        self._ids = ids
        self._dirty = tuple(dirty)

    @classmethod
    def of(cls, root: Path) -> TreeIds | None:
        """Read from git; None when root is not the top of a git checkout or git fails."""
        if not (root / ".git").exists():
            return None
        listing = _git(root, ["ls-tree", "-r", "-d", "-z", "--full-tree", "HEAD"])
        status = _git(root, ["status", "--porcelain", "-z", "--untracked-files=all"])
        if listing is None or status is None:
            return None
        ids: dict[str, str] = {}
        for record in listing.split("\0"):
            meta, _, path = record.partition("\t")
            if path:
                ids[path] = meta.split()[2]
        return cls(ids, dirty=_changed_paths(status))

    def tree(self, directory: str) -> str | None:
        """The directory's tree id, or None when it is not committed as it is on disk."""
        prefix = directory.rstrip("/") + "/"
        if any(path.startswith(prefix) or prefix.startswith(path + "/") for path in self._dirty):
            return None
        return self._ids.get(directory)


def _changed_paths(status: str) -> list[str]:
    """Every path `git status --porcelain -z` names: a rename's or copy's source too."""
    records = iter(status.split("\0"))
    paths: list[str] = []
    for record in records:
        if len(record) < 4:
            continue
        paths.append(record[3:])
        if record[0] in "RC":
            paths.append(next(records, ""))  # the source path follows, without a status
    return paths


def _git(root: Path, args: list[str]) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode(errors="surrogateescape") if done.returncode == 0 else None


def cache_key(
    *, group: str, directories: Sequence[str], trees: TreeIds, renderer: Sequence[str]
) -> str | None:
    """The key of one render, or None when an input has no committed tree id."""
    parts: list[str] = [*renderer, "--", group]
    for directory in (group, *directories):
        tree = trees.tree(directory)
        if tree is None:
            return None
        parts += [directory, tree]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def load(cache: Path, key: str) -> list[Any] | None:
    """The objects stored under a key, or None when there are none (or they are unreadable)."""
    try:
        with open(cache / key[:2] / f"{key}.json", "rb") as file:
            stored = json.load(file)
    except (OSError, ValueError):
        return None
    objects = stored.get("objects") if isinstance(stored, dict) else None
    return objects if isinstance(objects, list) else None


def store(cache: Path, key: str, objects: Sequence[Mapping[str, Any]]) -> None:
    """Keep a render under its key (written whole, then renamed: readers never see half)."""
    directory = cache / key[:2]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({"objects": list(objects)}, file, separators=(",", ":"))
        os.replace(temporary, directory / f"{key}.json")
    except OSError:
        return  # a cache that cannot be written only costs the next pass a render
