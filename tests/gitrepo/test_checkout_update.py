"""The checkout follows its branch exactly as `git read-tree -m -u old new` would make it.

Each scenario runs twice, in two identical clones: once through `_update_checkout` (only
the changed files when they are plainly clean, else read-tree of the changed-only trees)
and once through read-tree of the whole trees, as the checkout update always did. The
outcome (message, index, files, status) must be the same, refusals included.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.gitrepo import branch, path_checkout
from reconciler.gitrepo.move_commit import build_move_commit
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR
from tests.fleet_repo import clone, git, write_fleet

FIXED_DATES = {"GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
GROUP = "clusters/onprem/groups/ray-pred"
TARGET = "clusters/cloud/groups/ray-pred"

Setup = Callable[[Path], None]


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "seed")


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each PathCheckout.write answered: True when only the changed files were written."""
    answers: list[bool] = []
    real = path_checkout.PathCheckout.write

    def write(self: path_checkout.PathCheckout, *, new: str) -> bool:
        answers.append(real(self, new=new))
        return answers[-1]

    monkeypatch.setattr(path_checkout.PathCheckout, "write", write)
    return answers


def move_commit(repo: Path) -> str:
    """The commit moving ray-pred to cloud on HEAD (the same in every clone of the seed)."""
    return build_move_commit(
        repo,
        base=git(repo, "rev-parse", "HEAD"),
        group="ray-pred",
        source="onprem",
        target="cloud",
        message="move\n",
        author=DEFAULT_AUTHOR,
        env=FIXED_DATES,
    )


def outcome(
    repo: Path,
    *,
    update: Callable[[Path, str, str], str],
    setup: Setup = lambda repo: None,
    new_commit: Callable[[Path], str] = move_commit,
) -> tuple[str, str, dict[str, bytes], str]:
    old = git(repo, "rev-parse", "HEAD")
    new = new_commit(repo)
    setup(repo)
    git(repo, "update-ref", "refs/heads/main", new, old)
    message = update(repo, old, new).replace(str(repo), "<repo>")
    files = {
        str(path.relative_to(repo)): path.read_bytes() if not path.is_symlink() else b"-> "
        for path in sorted(repo.rglob("*"))
        if (path.is_file() or path.is_symlink()) and ".git" not in path.relative_to(repo).parts
    }
    index = git(repo, "ls-files", "--stage")
    status = git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored")
    return message, index, files, status


def ours(repo: Path, old: str, new: str) -> str:
    return branch._update_checkout(repo, old=old, new=new)


def read_tree(repo: Path, old: str, new: str) -> str:
    return branch._two_way_merge(repo, old=old, new=new, env={})


def assert_same_as_read_tree(
    seed: Path,
    tmp_path: Path,
    *,
    setup: Setup = lambda repo: None,
    new_commit: Callable[[Path], str] = move_commit,
) -> tuple[str, str, dict[str, bytes], str]:
    mine = outcome(clone(seed, tmp_path / "a"), update=ours, setup=setup, new_commit=new_commit)
    theirs = outcome(
        clone(seed, tmp_path / "b"), update=read_tree, setup=setup, new_commit=new_commit
    )
    assert mine == theirs
    return mine


def written_before_the_index(repo: Path) -> None:
    """Make every file older than the index, so that git trusts their stat data."""
    time.sleep(0.01)
    git(repo, "update-index", "-q", "--refresh")


# Only the changed files are written, when they are plainly clean


def test_a_clean_move_writes_only_the_changed_files(
    seed: Path, tmp_path: Path, routes: list[bool]
) -> None:
    message, _, files, status = assert_same_as_read_tree(
        seed, tmp_path, setup=written_before_the_index
    )

    assert routes == [True]
    assert (message, status) == ("", "")
    assert f"{TARGET}/deployment.yaml" in files and f"{GROUP}/deployment.yaml" not in files
    assert not (tmp_path / "a" / GROUP).exists()


def test_modes_symlinks_and_nested_files_change_as_read_tree_changes_them(
    seed: Path, tmp_path: Path, routes: list[bool]
) -> None:
    def new_commit(repo: Path) -> str:
        git(repo, "update-index", "--chmod=+x", f"{GROUP}/deployment.yaml")
        link = git(repo, "hash-object", "-w", "--stdin", stdin=b"deployment.yaml")
        git(repo, "update-index", "--add", "--cacheinfo", f"120000,{link},{GROUP}/current")
        nested = git(repo, "hash-object", "-w", "--stdin", stdin=b"deep\n")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{nested},{GROUP}/a/b/c.txt")
        git(repo, "rm", "-q", "--cached", f"{GROUP}/scripts/smoke.sh")
        tree = git(repo, "write-tree")
        commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "x", env=FIXED_DATES)
        git(repo, "read-tree", "HEAD")  # the index back as it was: the commit is not checked out
        written_before_the_index(repo)
        return commit

    _, index, files, status = assert_same_as_read_tree(seed, tmp_path, new_commit=new_commit)

    assert routes == [True]
    assert status == ""
    assert f"100755 {git(tmp_path / 'a', 'rev-parse', f'HEAD:{GROUP}/deployment.yaml')}" in index
    assert os.readlink(tmp_path / "a" / GROUP / "current") == "deployment.yaml"
    assert files[f"{GROUP}/a/b/c.txt"] == b"deep\n"
    assert not (tmp_path / "a" / GROUP / "scripts").exists()


# Anything short of plainly clean: read-tree decides, in its own words


def modify(path: str, content: bytes = b"edited by hand\n") -> Setup:
    def setup(repo: Path) -> None:
        written_before_the_index(repo)
        (repo / path).write_bytes(content)

    return setup


def stage(path: str) -> Setup:
    def setup(repo: Path) -> None:
        (repo / path).write_text("staged\n")
        git(repo, "add", "--", path)
        written_before_the_index(repo)

    return setup


def put(path: str, *, ignore: bool = False) -> Setup:
    def setup(repo: Path) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text("in the way\n")
        if ignore:
            (repo / ".git" / "info" / "exclude").write_text(f"/{path}\n")
        written_before_the_index(repo)

    return setup


def unmerged_elsewhere(repo: Path) -> None:
    blob = git(repo, "rev-parse", "HEAD:fleet.yaml")
    stages = "".join(f"100644 {blob} {n}\tfleet.yaml\0" for n in (1, 2, 3))
    git(repo, "update-index", "--force-remove", "fleet.yaml")
    git(repo, "update-index", "-z", "--index-info", stdin=stages.encode())


def flag(option: str, path: str) -> Setup:
    def setup(repo: Path) -> None:
        written_before_the_index(repo)
        git(repo, "update-index", option, "--", path)

    return setup


def touched(repo: Path) -> None:
    """Same content, new stat data: read-tree refuses, refreshes, then goes ahead."""
    written_before_the_index(repo)
    (repo / GROUP / "deployment.yaml").write_bytes((repo / GROUP / "deployment.yaml").read_bytes())


def racily_clean(repo: Path) -> None:
    """Stat data recorded for a file no older than the index: git looks at its content."""
    future = time.time_ns() + 10 * 10**9
    os.utime(repo / GROUP / "deployment.yaml", ns=(future, future))
    git(repo, "update-index", "-q", "--refresh")


def locked_index(repo: Path) -> None:
    written_before_the_index(repo)
    (repo / ".git" / "index.lock").write_text("")


def symlinked_directory(repo: Path) -> None:
    """The cluster's groups directory is a symlink to a copy: no plain directory on the way."""
    groups = repo / "clusters" / "cloud" / "groups"
    groups.rename(repo / "elsewhere")
    groups.symlink_to(repo / "elsewhere")
    written_before_the_index(repo)


@pytest.mark.parametrize(
    "setup",
    [
        modify(f"{GROUP}/deployment.yaml"),
        modify("clusters/cloud/groups/kustomization.yaml"),
        modify(f"{GROUP}/deployment.yaml", b""),
        stage(f"{GROUP}/config/settings.properties"),
        stage("clusters/onprem/groups/kustomization.yaml"),
        put(f"{TARGET}/deployment.yaml"),
        put(f"{TARGET}/deployment.yaml", ignore=True),
        put(f"{TARGET}/kustomization.yaml/inside"),
        unmerged_elsewhere,
        flag("--assume-unchanged", f"{GROUP}/deployment.yaml"),
        flag("--skip-worktree", f"{GROUP}/deployment.yaml"),
        touched,
        racily_clean,
        locked_index,
        symlinked_directory,
    ],
    ids=[
        "modified-in-group",
        "modified-kustomization",
        "emptied-in-group",
        "staged-in-group",
        "staged-kustomization",
        "untracked-at-target",
        "ignored-at-target",
        "directory-at-target",
        "unmerged-elsewhere",
        "assume-unchanged",
        "skip-worktree",
        "touched",
        "racily-clean",
        "index-locked",
        "symlinked-directory",
    ],
)
def test_anything_short_of_plainly_clean_is_left_to_read_tree(
    seed: Path, tmp_path: Path, routes: list[bool], setup: Setup
) -> None:
    assert_same_as_read_tree(seed, tmp_path, setup=setup)

    assert True not in routes


def test_a_file_that_becomes_a_directory_is_left_to_read_tree(
    seed: Path, tmp_path: Path, routes: list[bool]
) -> None:
    def new_commit(repo: Path) -> str:
        blob = git(repo, "hash-object", "-w", "--stdin", stdin=b"now a file\n")
        git(repo, "rm", "-q", "-r", "--cached", f"{GROUP}/config")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{GROUP}/config")
        tree = git(repo, "write-tree")
        commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "x", env=FIXED_DATES)
        git(repo, "read-tree", "HEAD")
        written_before_the_index(repo)
        return commit

    message, _, files, status = assert_same_as_read_tree(seed, tmp_path, new_commit=new_commit)

    assert routes == []  # read-tree's, from the start
    assert (message, status, files[f"{GROUP}/config"]) == ("", "", b"now a file\n")


def test_an_index_written_after_it_was_read_is_left_to_read_tree(
    seed: Path, tmp_path: Path
) -> None:
    repo = clone(seed, tmp_path / "a")
    old = git(repo, "rev-parse", "HEAD")
    new = move_commit(repo)
    written_before_the_index(repo)
    git(repo, "update-ref", "refs/heads/main", new, old)
    with branch.CheckoutUpdate(repo, old=old, new=new) as update:
        update.prepare()  # the index entries are read here
        (repo / GROUP / "deployment.yaml").write_text("edited and staged meanwhile\n")
        git(repo, "add", "--", f"{GROUP}/deployment.yaml")
        message = update.run()

    assert message.startswith("the checkout has local changes in the way")
    assert f"{GROUP}/deployment.yaml" in message
    assert (repo / GROUP / "deployment.yaml").read_text() == "edited and staged meanwhile\n"


def test_a_sparse_checkout_is_left_to_read_tree_of_the_whole_trees(
    seed: Path, tmp_path: Path, routes: list[bool]
) -> None:
    def sparse(repo: Path) -> None:
        git(repo, "sparse-checkout", "set", "--no-cone", "/*", "!/clusters/edge/")
        written_before_the_index(repo)

    assert_same_as_read_tree(seed, tmp_path, setup=sparse)

    assert routes == []
