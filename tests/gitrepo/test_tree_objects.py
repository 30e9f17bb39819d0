"""Trees read through `cat-file --batch` and written through `mktree --batch`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.gitrepo.git_command import GitError
from reconciler.gitrepo.tree_objects import (
    ObjectReader,
    TreeEntry,
    TreeObjects,
    UnusualTree,
    canonical_mode,
    is_plain_name,
    parse_tree,
)
from tests.fleet_repo import git, write_fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "fleet")


def raw_tree(repo: Path, lines: list[str]) -> bytes:
    """The raw bytes of the tree these `mode type id\\tname` lines make, as git stores it."""
    tree = git(repo, "mktree", "--missing", stdin="".join(f"{line}\n" for line in lines).encode())
    return subprocess.run(
        ["git", "cat-file", "tree", tree], cwd=repo, capture_output=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("100644", "100644"),
        ("100664", "100644"),
        ("100755", "100755"),
        ("100775", "100755"),
        ("120000", "120000"),
        ("40000", "40000"),
        ("040000", "40000"),
        ("160000", "160000"),
    ],
)
def test_modes_are_read_as_git_reads_them(raw: str, canonical: str) -> None:
    assert canonical_mode(raw) == canonical


@pytest.mark.parametrize("raw", ["0", "20000", "x"])
def test_a_mode_git_has_no_kind_for_is_unusual(raw: str) -> None:
    with pytest.raises(UnusualTree):
        canonical_mode(raw)


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("deployment.yaml", True),
        ("c000-job-012", True),
        (".gitignore", True),
        ("x y", True),
        (".git", False),
        (".GIT", False),
        (".git. ", False),
        ("git~1", False),
        ("..", False),
        ("a\\b", False),
        ("caf\u00e9", False),
        ("tab\there", False),
    ],
)
def test_plain_names(name: str, plain: bool) -> None:
    assert is_plain_name(name) is plain


def test_a_tree_is_parsed_with_canonical_modes(fleet: Path) -> None:
    blob = git(fleet, "rev-parse", "HEAD:fleet.yaml")
    tree = git(fleet, "rev-parse", "HEAD:clusters")
    raw = raw_tree(
        fleet,
        [f"100664 blob {blob}\tb.yaml", f"100755 blob {blob}\ta.sh", f"040000 tree {tree}\tc"],
    )

    assert parse_tree(raw, oid_bytes=20) == [
        TreeEntry("100755", "a.sh", blob),
        TreeEntry("100644", "b.yaml", blob),
        TreeEntry("40000", "c", tree),
    ]


@pytest.mark.parametrize(
    "entries",
    [
        [b"100644 b\0", b"100644 a\0"],  # out of order
        [b"100644 a\0", b"100644 a\0"],  # twice
        [b"100644 a\0", b"40000 a\0"],  # a file and a directory of one name
    ],
    ids=["unsorted", "duplicate", "file-and-directory"],
)
def test_a_tree_git_would_not_write_is_unusual(entries: list[bytes]) -> None:
    raw = b"".join(entry + bytes(20) for entry in entries)

    with pytest.raises(UnusualTree):
        parse_tree(raw, oid_bytes=20)


def test_lookups_walk_the_trees_and_answer_none_off_the_map(fleet: Path) -> None:
    with TreeObjects(fleet) as objects:
        root = objects.reader.tree("HEAD^{tree}")
        assert root is not None
        found = objects.reader.lookup(root[0], "clusters/onprem/groups/ray-pred/deployment.yaml")
        missing = objects.reader.lookup(root[0], "clusters/onprem/groups/nothing/here")
        through_a_file = objects.reader.lookup(root[0], "fleet.yaml/below")

    blob = git(fleet, "rev-parse", "HEAD:clusters/onprem/groups/ray-pred/deployment.yaml")
    assert found == TreeEntry("100644", "deployment.yaml", blob)
    assert (missing, through_a_file) == (None, None)


def test_a_written_tree_is_the_one_mktree_writes(fleet: Path) -> None:
    blob = git(fleet, "rev-parse", "HEAD:fleet.yaml")
    entries = [TreeEntry("100644", "z", blob), TreeEntry("100755", "a", blob)]

    with TreeObjects(fleet) as objects:
        tree = objects.writer.write_tree(entries)

    listing = f"100755 blob {blob}\ta\n100644 blob {blob}\tz\n"
    assert tree == git(fleet, "mktree", stdin=listing.encode())


def test_a_broken_reader_fails_every_request_the_same_way(fleet: Path) -> None:
    reader = ObjectReader(fleet)
    reader._process.popen.kill()  # as if git died

    with pytest.raises(GitError) as first:
        reader.read("HEAD")
    with pytest.raises(GitError) as second:
        reader.tree("HEAD^{tree}")
    reader.close()

    assert str(first.value) == str(second.value)
    assert str(first.value).startswith("git cat-file failed")


def test_a_missing_object_is_none_and_the_reader_goes_on(fleet: Path) -> None:
    with TreeObjects(fleet) as objects:
        assert objects.reader.read("0" * 40) is None
        assert objects.reader.tree("HEAD:fleet.yaml") is None  # a blob, not a tree
        assert objects.reader.read("HEAD") is not None
