"""Read git objects and write trees through two long-lived batch processes.

`git cat-file --batch` answers every read and `git mktree --batch -z` writes every tree,
one process each for a whole commit, so rewriting the handful of trees on a group's path
costs two process starts instead of a pass over an index of the whole repository.

Trees are parsed here; anything git itself would treat specially (an unknown mode, an
unsorted or duplicated entry, a name git refuses in an index) raises `UnusualTree`, so
the caller can fall back to the plain index-based way instead of guessing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType

from reconciler.gitrepo.git_command import GitError, start_git

TREE_MODE = "40000"
GITLINK_MODE = "160000"
# The empty tree's id per hash length: an index never holds one, so write-tree drops it.
_EMPTY_TREE = {
    40: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    64: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}
# Names we rewrite trees around without a second thought: printable ASCII, no separators,
# and nothing git could take for its own directory. Anything else goes the index way.
_PLAIN_NAME = re.compile(r"[\x20-\x7e]+")
_ODD_CHARACTERS = frozenset('/\\:"*<>?|')


class UnusualTree(Exception):
    """A tree this fast path does not handle exactly like git's index would; fall back."""


@dataclasses.dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree, its mode canonical as git reads it (40000, 100644, ...)."""

    mode: str
    name: str
    oid: str

    @property
    def kind(self) -> str:
        if self.mode == TREE_MODE:
            return "tree"
        return "commit" if self.mode == GITLINK_MODE else "blob"


def canonical_mode(raw: str) -> str:
    """The mode git gives an entry when it reads a tree (its `canon_mode`)."""
    try:
        mode = int(raw, 8)
    except ValueError:
        raise UnusualTree(f"mode {raw!r}") from None
    kind = mode & 0o170000
    if kind == 0o100000:
        return "100755" if mode & 0o100 else "100644"
    if kind == 0o120000:
        return "120000"
    if kind == 0o040000:
        return TREE_MODE
    if kind == 0o160000:
        return GITLINK_MODE
    raise UnusualTree(f"mode {raw!r}")


def is_plain_name(name: str) -> bool:
    """True for a path component that every git accepts in an index, on every system."""
    if name in {".", ".."} or not _PLAIN_NAME.fullmatch(name):
        return False
    if any(character in _ODD_CHARACTERS for character in name):
        return False
    folded = name.lower().rstrip(" .")
    return folded != ".git" and not folded.startswith("git~")


def empty_tree(oid_length: int) -> str:
    """The id of the empty tree for ids of this many hex digits."""
    return _EMPTY_TREE[oid_length]


class _Batch:
    """A long-lived git batch command: a request written, its answer read, in turn."""

    def __init__(self, args: list[str], *, repo: Path, env: Mapping[str, str] | None) -> None:
        self._process = start_git(args, cwd=repo, env=env, interactive=True)
        self._failure: GitError | None = None

    def close(self) -> None:
        """End the process (stdin closed, so it ends as it would on its own)."""
        self._process.close()

    def _ask(self, request: bytes) -> bytes:
        """Write the request; the answer's first line (with its newline)."""
        if self._failure is not None:
            raise self._failure
        popen = self._process.popen
        assert popen.stdin is not None and popen.stdout is not None
        try:
            popen.stdin.write(request)
            popen.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise self._failed() from None
        line = popen.stdout.readline()
        if not line.endswith(b"\n"):
            raise self._failed()
        return line

    def _read_exactly(self, size: int) -> bytes:
        assert self._process.popen.stdout is not None
        content = self._process.popen.stdout.read(size)
        if len(content) != size:
            raise self._failed()
        return content

    def _failed(self) -> GitError:
        """The process broke off: it is ended, and this and every later request fail so."""
        self._process.stop()
        self._failure = self._process.error()
        return self._failure


class ObjectReader(_Batch):
    """`git cat-file --batch`: objects read one at a time, trees parsed and remembered."""

    def __init__(self, repo: Path, *, env: Mapping[str, str] | None = None) -> None:
        super().__init__(["cat-file", "--batch"], repo=repo, env=env)
        self._trees: dict[str, list[TreeEntry]] = {}

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """(id, type, content) of the object spec names, or None when there is none."""
        if "\n" in spec:
            raise UnusualTree(f"object name {spec!r}")
        header = self._ask(spec.encode() + b"\n")
        fields = header.decode(errors="replace").split()
        if len(fields) != 3 or not fields[2].isdigit():
            return None  # "<spec> missing" or "<spec> ambiguous"
        oid, kind, size = fields
        content = self._read_exactly(int(size) + 1)
        return oid, kind, content[:-1]

    def tree(self, spec: str) -> tuple[str, list[TreeEntry]] | None:
        """The id and entries of the tree spec names, or None when it names no tree."""
        if spec in self._trees:
            return spec, self._trees[spec]
        found = self.read(spec)
        if found is None or found[1] != "tree":
            return None
        oid, _, content = found
        entries = parse_tree(content, oid_bytes=len(oid) // 2)
        self._trees[oid] = entries
        return oid, entries

    def lookup(self, root: str, path: str) -> TreeEntry | None:
        """The entry at path (a/b/c) under the root tree, or None if there is none."""
        *parents, name = path.split("/")
        tree: str | None = root
        for part in parents:
            entry = self._entry(tree, part)
            tree = entry.oid if entry is not None and entry.kind == "tree" else None
            if tree is None:
                return None
        return self._entry(tree, name)

    def files(self, tree: str, prefix: str) -> list[tuple[str, TreeEntry]]:
        """Every blob and submodule link under the tree, recursively, as (path, entry)."""
        found = self.tree(tree)
        if found is None:
            raise UnusualTree(f"{prefix} is not a tree")
        listed = []
        for entry in found[1]:
            path = f"{prefix}/{entry.name}"
            if entry.kind == "tree":
                listed += self.files(entry.oid, path)
            else:
                listed.append((path, entry))
        return listed

    def _entry(self, tree: str | None, name: str) -> TreeEntry | None:
        found = self.tree(tree) if tree is not None else None
        if found is None:
            return None
        return next((entry for entry in found[1] if entry.name == name), None)


class TreeWriter(_Batch):
    """`git mktree --batch -z`: trees written one at a time, each id answered at once."""

    def __init__(self, repo: Path, *, env: Mapping[str, str] | None = None) -> None:
        super().__init__(["mktree", "--batch", "-z"], repo=repo, env=env)

    def write_tree(self, entries: Iterable[TreeEntry]) -> str:
        """Write a tree of these entries (mktree sorts them); its id."""
        records = b"".join(f"{e.mode} {e.kind} {e.oid}\t{e.name}".encode() + b"\0" for e in entries)
        return self._ask(records + b"\0").decode().strip()


class TreeObjects:
    """A reader and a tree writer together, as a context manager that ends both.

    `env` applies to both (a scratch object directory, say).
    """

    def __init__(self, repo: Path, *, env: Mapping[str, str] | None = None) -> None:
        self._repo = repo
        self._env = dict(env or {})
        self._reader: ObjectReader | None = None
        self._writer: TreeWriter | None = None

    def __enter__(self) -> TreeObjects:
        self._reader = ObjectReader(self._repo, env=self._env)
        try:
            self._writer = TreeWriter(self._repo, env=self._env)
        except BaseException:
            self._reader.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for part in (self._reader, self._writer):
            if part is not None:
                part.close()

    @property
    def reader(self) -> ObjectReader:
        if self._reader is None:
            raise RuntimeError("TreeObjects is used outside its with block")
        return self._reader

    @property
    def writer(self) -> TreeWriter:
        if self._writer is None:
            raise RuntimeError("TreeObjects is used outside its with block")
        return self._writer


@contextlib.contextmanager
def objects_for(
    repo: Path, *, env: Mapping[str, str], shared: TreeObjects | None
) -> Iterator[TreeObjects]:
    """The shared TreeObjects when there is one (opened with the same env), else new ones."""
    if shared is not None:
        yield shared
        return
    with TreeObjects(repo, env=env) as objects:
        yield objects


def parse_tree(content: bytes, *, oid_bytes: int) -> list[TreeEntry]:
    """The entries of a raw tree object, checked to be in git's order without repeats."""
    entries: list[TreeEntry] = []
    previous = b""
    names: set[bytes] = set()
    at = 0
    while at < len(content):
        space = content.index(b" ", at)
        nul = content.index(b"\0", space)
        raw_name = content[space + 1 : nul]
        oid = content[nul + 1 : nul + 1 + oid_bytes]
        if len(oid) != oid_bytes:
            raise UnusualTree("a truncated tree")
        mode = canonical_mode(content[at:space].decode("ascii", errors="replace"))
        key = raw_name + b"/" if mode == TREE_MODE else raw_name
        if (entries and key <= previous) or raw_name in names:
            raise UnusualTree(f"entries out of order at {raw_name!r}")
        try:
            name = raw_name.decode()
        except UnicodeDecodeError:
            raise UnusualTree(f"a name that is not UTF-8: {raw_name!r}") from None
        if not is_plain_name(name):
            raise UnusualTree(f"the name {name!r}")
        entries.append(TreeEntry(mode=mode, name=name, oid=oid.hex()))
        previous = key
        names.add(raw_name)
        at = nul + 1 + oid_bytes
    return entries
