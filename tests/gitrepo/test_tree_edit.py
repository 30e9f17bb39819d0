"""A commit built by rewriting the trees on the edited paths is the index route's, byte for byte.

The index route (read-tree into a private index, update-index, write-tree) is how commits
were built before; it stays the fallback for trees the batch route finds unusual. Every
test builds the same commit both ways, with fixed dates, and compares the ids.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.gitrepo import move_commit
from reconciler.gitrepo.move_commit import build_move_commit, commit_tree_edit
from reconciler.gitrepo.phase_commit import build_phase_commit
from reconciler.gitrepo.tree_objects import TreeObjects, UnusualTree, empty_tree
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR
from tests.fleet_repo import git, isolate_git, write_fleet

FIXED_DATES = {"GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
GROUPS = "clusters/onprem/groups"


@contextlib.contextmanager
def index_route(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within the block, commits are built the index way only (the fallback)."""

    def unusual(*args: object, **kwargs: object) -> None:
        raise UnusualTree("forced")

    with monkeypatch.context() as patch:
        patch.setattr(move_commit, "_tree_in_batch", unusual)
        patch.setattr(move_commit, "BatchTree", unusual)  # phase commits read through it too
        yield


@pytest.fixture
def batch_trees(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The trees the batch route wrote (to see that it was the one taken)."""
    written: list[str] = []
    real = move_commit.edited_tree

    def spy(*args: object, **kwargs: object) -> str:
        written.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return written[-1]

    monkeypatch.setattr(move_commit, "edited_tree", spy)
    return written


def both_ways(monkeypatch: pytest.MonkeyPatch, build: Callable[[], str]) -> tuple[str, str]:
    """The commit built the batch way and the index way."""
    batch = build()
    with index_route(monkeypatch):
        index = build()
    return batch, index


def mktree(repo: Path, lines: list[str]) -> str:
    """A tree of these `mode type id\\tname` lines, written as given (even when odd)."""
    return git(repo, "mktree", "--missing", stdin="".join(f"{line}\n" for line in lines).encode())


def with_entries(repo: Path, commit: str, path: str, lines: list[str]) -> str:
    """A commit on top of commit whose directory at path also has these raw entries."""
    parts = path.split("/")
    trees = [git(repo, "rev-parse", f"{commit}^{{tree}}")]
    for part in parts:
        trees.append(git(repo, "rev-parse", f"{trees[-1]}:{part}"))
    new = mktree(repo, git(repo, "cat-file", "-p", trees[-1]).splitlines() + lines)
    for depth in range(len(parts) - 1, -1, -1):
        listing = [
            line
            for line in git(repo, "cat-file", "-p", trees[depth]).splitlines()
            if not line.endswith(f"\t{parts[depth]}")
        ]
        new = mktree(repo, [*listing, f"040000 tree {new}\t{parts[depth]}"])
    return git(repo, "commit-tree", new, "-p", commit, "-m", "odd entries", env=FIXED_DATES)


@pytest.fixture
def odd_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fleet whose rewritten directories hold what an index holds differently, or not at
    all (a submodule link, a symlink, a group-writable mode, an empty subtree), and whose
    moved group has nested directories, symlinks and executables."""
    isolate_git(monkeypatch, tmp_path)
    repo = write_fleet(tmp_path / "fleet")
    head = git(repo, "rev-parse", "HEAD")
    blob = git(repo, "rev-parse", f"HEAD:{GROUPS}/kustomization.yaml")
    link = git(repo, "hash-object", "-w", "--stdin", stdin=b"kustomization.yaml")
    odd = [
        f"160000 commit {head}\tvendored",
        f"120000 blob {link}\tcurrent",
        f"100664 blob {blob}\tgroup-writable.yaml",
        f"040000 tree {empty_tree(40)}\tempty",
    ]
    commit = with_entries(repo, head, GROUPS, odd)
    commit = with_entries(repo, commit, "clusters/cloud/groups", odd)
    commit = with_entries(repo, commit, f"{GROUPS}/ray-pred/config", [f"120000 blob {link}\tln"])
    commit = with_entries(repo, commit, f"{GROUPS}/ray-pred", [f"100755 blob {blob}\trun"])
    git(repo, "update-ref", "refs/heads/main", commit)
    return repo


def move(repo: Path, *, target: str = "cloud") -> Callable[[], str]:
    return lambda: build_move_commit(
        repo,
        base=git(repo, "rev-parse", "HEAD"),
        group="ray-pred",
        source="onprem",
        target=target,
        message="placement: move ray-pred\n",
        author=DEFAULT_AUTHOR,
        env=FIXED_DATES,
    )


@pytest.mark.parametrize("target", ["cloud", "edge"], ids=["existing-cluster", "new-cluster"])
def test_a_move_commit_is_the_index_routes_byte_for_byte(
    odd_fleet: Path, monkeypatch: pytest.MonkeyPatch, batch_trees: list[str], target: str
) -> None:
    batch, index = both_ways(monkeypatch, move(odd_fleet, target=target))

    assert batch == index
    assert len(batch_trees) == 1  # the batch route made the first one
    listing = git(odd_fleet, "ls-tree", f"{batch}:{GROUPS}")
    assert "vendored" in listing and "group-writable" in listing and "empty" not in listing


@pytest.mark.parametrize("phase", ["copy", "finish", "revert"])
def test_phase_commits_are_the_index_routes_byte_for_byte(
    odd_fleet: Path, monkeypatch: pytest.MonkeyPatch, phase: str
) -> None:
    def build(base: str, name: str) -> str:
        return build_phase_commit(
            odd_fleet,
            base=base,
            group="ray-pred",
            source="onprem",
            target="cloud",
            phase=name,
            started="2026-11-28T12:10:00Z",
            message=f"placement: {name} ray-pred\n",
            author=DEFAULT_AUTHOR,
            env=FIXED_DATES,
        )

    head = git(odd_fleet, "rev-parse", "HEAD")
    base = head if phase == "copy" else build(head, "copy")
    batch, index = both_ways(monkeypatch, lambda: build(base, phase))

    assert batch == index


def test_a_name_the_batch_route_leaves_alone_is_written_the_index_way(
    odd_fleet: Path, monkeypatch: pytest.MonkeyPatch, batch_trees: list[str]
) -> None:
    head = git(odd_fleet, "rev-parse", "HEAD")
    blob = git(odd_fleet, "hash-object", "-w", "--stdin", stdin=b"notes\n")
    commit = with_entries(odd_fleet, head, f"{GROUPS}/ray-pred", [f"100644 blob {blob}\tcaf\u00e9"])
    git(odd_fleet, "update-ref", "refs/heads/main", commit)

    batch, index = both_ways(monkeypatch, move(odd_fleet))

    assert batch == index
    assert batch_trees == []  # unusual: the index route from the start
    assert git(odd_fleet, "cat-file", "-p", f"{batch}:clusters/cloud/groups/ray-pred/caf\u00e9")


# Any tree, any edits


NAMES = st.sampled_from(["a", "b", "b.txt", "b-c", "c_d", "z", "A", ".hidden", "x y"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map("/".join)
MODES = st.sampled_from(["100644", "100755", "120000"])


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("edits")
    with pytest.MonkeyPatch.context() as patch:
        isolate_git(patch, repo)
        git(repo, "init", "-q")
    return repo


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    files=st.dictionaries(PATHS, st.tuples(MODES, st.binary(max_size=4)), min_size=1, max_size=8),
    removed=st.lists(PATHS, max_size=4),
    added=st.lists(st.tuples(MODES, st.binary(max_size=4), PATHS), max_size=4),
    written=st.dictionaries(PATHS, st.tuples(MODES, st.text(max_size=4)), max_size=3),
)
def test_any_edit_of_any_tree_is_the_index_routes_byte_for_byte(
    scratch_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, tuple[str, bytes]],
    removed: list[str],
    added: list[tuple[str, bytes, str]],
    written: dict[str, tuple[str, str]],
) -> None:
    repo = scratch_repo
    index = repo / ".git" / "hypothesis-index"
    index.unlink(missing_ok=True)
    env = {**FIXED_DATES, "GIT_INDEX_FILE": str(index)}
    for path, (mode, content) in files.items():
        blob = git(repo, "hash-object", "-w", "--stdin", stdin=content)
        # A path that is both a file and a directory: the index keeps what it can.
        entry = f"{mode},{blob},{path}"
        git(repo, "update-index", "--add", "--replace", "--cacheinfo", entry, env=env)
    tree = git(repo, "write-tree", env=env)
    base = git(repo, "commit-tree", tree, "-m", "base", env=env)
    blobs = [
        (mode, git(repo, "hash-object", "-w", "--stdin", stdin=content), path)
        for mode, content, path in added
    ]

    def build(objects: TreeObjects | None) -> str:
        return commit_tree_edit(
            repo,
            base=base,
            removed=removed,
            added=blobs,
            written=written,
            message="edit\n",
            author=DEFAULT_AUTHOR,
            env=FIXED_DATES,
            objects=objects,
        )

    with TreeObjects(repo) as objects:
        batch = build(objects)
    assert batch == build(None)
