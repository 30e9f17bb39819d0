"""A small pair of trees that makes `read-tree -m -u` do what it does for two big ones.

A two-way merge (`git read-tree -m -u old new`) decides path by path, from the index
entry and the path's entries in old and in new. Where the two entries are equal (or both
absent) it keeps the index entry and the file as they are. So two trees holding only the
paths whose entries differ, each with its entry from old and from new, make read-tree
write the same index and the same files, and refuse for the same local changes with the
same message; but it walks a handful of trees instead of all of them. (`read-tree` drops
the index's cache-tree first, so with old and new themselves it reads every tree of the
repository twice over: most of its time in a fleet repo of 10,000 directories.)

Both trees also hold the last path of old and of new, unchanged or not: with an equal
entry on both sides read-tree keeps it as it is, but it makes read-tree meet every index
entry during its walk. Entries it meets only after the walk are handled by a loop that,
in git 2.39, scans again from the start of the index for each one: quadratic, 0.7 s for
an index of 30,000 files.

Finding what differs only reads trees (it also lists the changed files, for
`path_checkout`); the pair is written only when asked for, to a scratch object directory,
so the repository keeps no trace.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from reconciler.gitrepo.tree_objects import (
    TREE_MODE,
    ObjectReader,
    TreeEntry,
    TreeWriter,
    UnusualTree,
)

# Beyond this many directories that differ, the whole trees are as cheap to merge.
MAX_CHANGED_DIRECTORIES = 256

# A changed file: its path, its entry in old and in new (None where it is absent).
FileChange = tuple[str, TreeEntry | None, TreeEntry | None]


class _TooMany(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class MergePair:
    """The two trees to give read-tree, and the env in which git can read them."""

    env: dict[str, str]
    old_tree: str
    new_tree: str


@dataclasses.dataclass
class _Differences:
    """One directory where old and new differ: the entries each side keeps (those that
    differ, and those on the kept paths), and the subdirectories both have, compared."""

    old: list[TreeEntry] = dataclasses.field(default_factory=list)
    new: list[TreeEntry] = dataclasses.field(default_factory=list)
    below: dict[str, _Differences] = dataclasses.field(default_factory=dict)


class MergeTrees:
    """What differs between the trees of two commits, and the changed-only pair for
    `read-tree -m -u old new`, kept until closed.

    `find` (which may run in another thread, while a push runs, say) reads what differs;
    `changes` lists the changed files; `pair` writes the two trees. A reader of the
    repository may be shared (not while `find` runs elsewhere).
    """

    def __init__(
        self,
        repo: Path,
        *,
        old: str,
        new: str,
        objects_dir: Path,
        reader: ObjectReader | None = None,
    ) -> None:
        self.repo, self.old, self.new = repo, old, new
        self._objects_dir = objects_dir
        self._reader = reader
        self._found = False
        self._differences: _Differences | None = None
        self._changes: tuple[FileChange, ...] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> MergeTrees:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the scratch objects, if the pair was written."""
        if self._scratch is not None:
            self._scratch.cleanup()

    def find(self) -> None:
        """Read what differs (once)."""
        if self._found:
            return
        self._found = True
        reader = self._reader or ObjectReader(self.repo)
        try:
            walk = _Walk(reader)
            self._differences = walk.of(old=self.old, new=self.new)
            self._changes = walk.changes()
        except (UnusualTree, _TooMany):
            self._differences = self._changes = None
        finally:
            if reader is not self._reader:
                reader.close()

    def changes(self) -> tuple[FileChange, ...] | None:
        """Every file whose entry differs, when all are plain files or symlinks changed in
        place, added or removed; None when a submodule, or a file that becomes a directory
        or the other way round, is among them (or the trees were not worth comparing)."""
        self.find()
        return self._changes

    def pair(self) -> MergePair | None:
        """The two trees, written now; None when the whole trees are the better choice."""
        self.find()
        if self._differences is None:
            return None
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="placement-merge-")
        env = {
            "GIT_OBJECT_DIRECTORY": self._scratch.name,
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self._objects_dir.resolve()),
        }
        writer = TreeWriter(self.repo, env=env)
        try:
            old_tree = writer.write_tree(_side(writer, self._differences, old=True))
            new_tree = writer.write_tree(_side(writer, self._differences, old=False))
        finally:
            writer.close()
        return MergePair(env, old_tree, new_tree)


def _side(writer: TreeWriter, differences: _Differences, *, old: bool) -> list[TreeEntry]:
    """One side's entries of a directory, its compared subdirectories written as trees."""
    entries = list(differences.old if old else differences.new)
    for name, below in differences.below.items():
        below_entries = _side(writer, below, old=old)
        if below_entries:
            entries.append(TreeEntry(TREE_MODE, name, writer.write_tree(below_entries)))
    return entries


class _Walk:
    """Compares two commits' trees, reading only the trees that differ."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._budget = MAX_CHANGED_DIRECTORIES
        self._changes: list[FileChange] | None = []

    def of(self, *, old: str, new: str) -> _Differences | None:
        old_root = self._reader.tree(f"{old}^{{tree}}")
        new_root = self._reader.tree(f"{new}^{{tree}}")
        if old_root is None or new_root is None:
            return None  # let read-tree itself say what is wrong
        last = {self._last_path(old_root[0]), self._last_path(new_root[0])} - {()}
        return self._differing(old_root[0], new_root[0], last, "")

    def changes(self) -> tuple[FileChange, ...] | None:
        return tuple(self._changes) if self._changes is not None else None

    def _last_path(self, tree: str) -> tuple[str, ...]:
        """The path of the tree's last entry in git's order, down to a file (or an empty tree)."""
        path: tuple[str, ...] = ()
        while True:
            found = self._reader.tree(tree)
            if found is None or not found[1]:
                return path
            entry = found[1][-1]
            path += (entry.name,)
            if entry.kind != "tree":
                return path
            tree = entry.oid

    def _differing(
        self, old: str, new: str, keep: set[tuple[str, ...]], prefix: str
    ) -> _Differences:
        """Where the old and the new directory differ (and the paths in keep, relative to
        this directory, even where they do not)."""
        self._budget -= 1
        if self._budget < 0:
            raise _TooMany()
        old_found, new_found = self._reader.tree(old), self._reader.tree(new)
        if old_found is None or new_found is None:
            raise UnusualTree(f"{old} or {new} is not a tree")
        before = {entry.name: entry for entry in old_found[1]}
        after = {entry.name: entry for entry in new_found[1]}
        differences = _Differences()
        for name in sorted(before.keys() | after.keys()):
            was, now = before.get(name), after.get(name)
            below = {path[1:] for path in keep if path[0] == name}
            if was == now and not below:
                continue
            path = prefix + name
            if was is not None and now is not None and was.kind == now.kind == "tree":
                differences.below[name] = self._differing(
                    was.oid, now.oid, below - {()}, path + "/"
                )
                continue
            if was != now:
                self._changed(path, was, now)
            if was is not None:
                differences.old.append(was)
            if now is not None:
                differences.new.append(now)
        return differences

    def _changed(self, path: str, was: TreeEntry | None, now: TreeEntry | None) -> None:
        """Note a changed entry (never two trees: those are compared entry by entry)."""
        if self._changes is None:
            return
        kinds = {entry.kind for entry in (was, now) if entry is not None}
        if "commit" in kinds or len(kinds) > 1:
            self._changes = None  # a submodule, or a file that becomes a directory
            return
        if kinds != {"tree"}:
            self._changes.append((path, was, now))
            return
        tree = was or now  # a directory that only one side has: each of its files changed
        assert tree is not None
        for file_path, entry in self._reader.files(tree.oid, path):
            if entry.kind == "commit":
                self._changes = None
                return
            self._changes.append((file_path, entry, None) if was else (file_path, None, entry))
