"""Edit a tree as `read-tree` + `update-index --index-info` + `write-tree` would, minus the index.

Only the trees on the edited paths are read and written again; every other subtree keeps
its id. Written again means what write-tree does to a directory whose entries changed:
modes canonical, empty subtrees gone, entries in git's order (mktree sorts them). For the
shapes handled here the tree is byte for byte the one the index route writes; a file
edited where a directory is (or the other way round), an odd name, or a tree git would
read differently raises `UnusualTree`, and the caller takes the index route instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from reconciler.gitrepo.tree_objects import (
    TREE_MODE,
    ObjectReader,
    TreeEntry,
    TreeWriter,
    UnusualTree,
    canonical_mode,
    empty_tree,
    is_plain_name,
)

# A file-level edit: (mode, blob id) to put at the path, or None to remove what is there.
FileEdit = tuple[str, str] | None


@dataclasses.dataclass(frozen=True)
class _Leaf:
    edit: FileEdit


_Nested = dict[str, "_Leaf | _Nested"]


def edited_tree(
    reader: ObjectReader, writer: TreeWriter, *, base_tree: str, edits: Mapping[str, FileEdit]
) -> str:
    """The id of base_tree with these edits made (later edits of a path win)."""
    new = _rewrite(reader, writer, base_tree, _nest(edits))
    return new if new is not None else writer.write_tree([])


def _nest(edits: Mapping[str, FileEdit]) -> _Nested:
    """{"a/b": e} as {"a": {"b": _Leaf(e)}}; a path that is both a file and a directory
    among the edits is unusual."""
    root: _Nested = {}
    for path, edit in edits.items():
        *parents, name = path.split("/")
        level = root
        for part in [*parents, name]:
            if not is_plain_name(part):
                raise UnusualTree(f"the path {path!r}")
        for part in parents:
            below = level.setdefault(part, {})
            if isinstance(below, _Leaf):
                raise UnusualTree(f"{path} is edited as a file and as a directory")
            level = below
        if isinstance(level.get(name), dict):
            raise UnusualTree(f"{path} is edited as a file and as a directory")
        if edit is not None and canonical_mode(edit[0]) == TREE_MODE:
            raise UnusualTree(f"{path} would be a directory entry")
        level[name] = _Leaf(edit)
    return root


def _rewrite(
    reader: ObjectReader, writer: TreeWriter, tree: str | None, edits: _Nested
) -> str | None:
    """The new id of one directory (None when it ends up empty, as write-tree drops it)."""
    entries: dict[str, TreeEntry] = {}
    if tree is not None:
        found = reader.tree(tree)
        if found is None:
            raise UnusualTree(f"{tree} is not a tree")
        for entry in found[1]:
            if entry.kind == "tree" and entry.oid == empty_tree(len(entry.oid)):
                continue  # the index holds no entry for it, so write-tree leaves it out
            entries[entry.name] = entry
    for name, edit in edits.items():
        existing = entries.get(name)
        if isinstance(edit, _Leaf):
            if existing is not None and existing.kind == "tree":
                raise UnusualTree(f"a file edit where the directory {name} is")
            if edit.edit is None:
                entries.pop(name, None)
            else:
                mode, oid = edit.edit
                entries[name] = TreeEntry(mode=canonical_mode(mode), name=name, oid=oid)
            continue
        if existing is not None and existing.kind != "tree":
            raise UnusualTree(f"a directory edit where the file {name} is")
        below = _rewrite(reader, writer, existing.oid if existing else None, edit)
        if below is None:
            entries.pop(name, None)
        else:
            entries[name] = TreeEntry(mode=TREE_MODE, name=name, oid=below)
    if not entries:
        return None
    return writer.write_tree(entries.values())
