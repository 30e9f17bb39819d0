"""Which branch a checkout has out, read from HEAD (and left to git when HEAD is unusual)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.gitrepo.branch import is_checked_out
from tests.fleet_repo import git


def test_the_branch_of_head_is_checked_out_and_no_other(fleet: Path) -> None:
    git(fleet, "branch", "review")

    assert is_checked_out(fleet, branch="main")
    assert not is_checked_out(fleet, branch="review")


def test_a_detached_head_has_no_branch_checked_out(fleet: Path) -> None:
    git(fleet, "checkout", "-q", "--detach")

    assert not is_checked_out(fleet, branch="main")


def test_a_bare_repository_has_nothing_checked_out(fleet: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(fleet), str(bare))

    assert not is_checked_out(bare, branch="main")


@pytest.mark.parametrize(
    "head",
    [
        "symlink",  # the symlink HEAD of old gits
        "ref:refs/heads/main\n",  # no space: git reads it, the plain reading does not
    ],
)
def test_an_unusual_head_is_left_to_git(fleet: Path, head: str) -> None:
    path = fleet / ".git" / "HEAD"
    path.unlink()
    if head == "symlink":
        path.symlink_to("refs/heads/main")
    else:
        path.write_text(head)
    assert git(fleet, "symbolic-ref", "-q", "HEAD") == "refs/heads/main"  # as git reads it

    assert is_checked_out(fleet, branch="main")
    assert not is_checked_out(fleet, branch="review")
