"""Writing a move into the fleet repo: one atomic commit, pushed, never forced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reconciler.gitrepo import branch
from reconciler.gitrepo.move_commit import build_move_commit
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Move, Workspace, WorkspaceError
from tests.fleet_repo import (
    clone,
    commit_file,
    git,
    make_remote,
    move_message,
    repo_state,
    tree_entries,
)

RAY_TO_CLOUD = Move(
    group="ray-pred",
    source="onprem",
    target="cloud",
    message=move_message("ray-pred", "onprem", "cloud"),
)
SOURCE_DIR = "clusters/onprem/groups/ray-pred"
TARGET_DIR = "clusters/cloud/groups/ray-pred"
SOURCE_K = "clusters/onprem/groups/kustomization.yaml"
TARGET_K = "clusters/cloud/groups/kustomization.yaml"


class RecordedSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# The move itself


def test_a_move_renames_every_file_with_the_same_blobs_and_modes(fleet: Path) -> None:
    before = git(fleet, "rev-parse", "HEAD")
    old_files = tree_entries(fleet, before, SOURCE_DIR)

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert (result.pushed, git(fleet, "rev-parse", "HEAD")) == (False, result.commit)
    assert git(fleet, "rev-parse", "HEAD^") == before
    new_files = tree_entries(fleet, "HEAD", TARGET_DIR)
    assert new_files == {path.replace("onprem", "cloud"): e for path, e in old_files.items()}
    assert new_files[f"{TARGET_DIR}/scripts/smoke.sh"][0] == "100755"
    assert tree_entries(fleet, "HEAD", SOURCE_DIR) == {}
    assert not (fleet / SOURCE_DIR).exists()
    assert (fleet / TARGET_DIR / "deployment.yaml").is_file()
    assert git(fleet, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_move_is_one_commit_touching_only_the_group_and_both_kustomizations(
    fleet: Path,
) -> None:
    Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    changed = git(fleet, "diff", "--no-renames", "--name-only", "HEAD^", "HEAD").splitlines()
    assert sorted(changed) == sorted(
        [SOURCE_K, TARGET_K]
        + [f"{d}/{f}" for d in (SOURCE_DIR, TARGET_DIR) for f in _group_file_names()]
    )
    assert git(fleet, "log", "-1", "--format=%B") == RAY_TO_CLOUD.message.rstrip("\n")
    assert git(fleet, "log", "-1", "--format=%an <%ae>|%cn") == (
        "placement-reconciler <placement-reconciler@users.noreply.local>|placement-reconciler"
    )


def test_both_kustomizations_change_by_exactly_the_one_line(fleet: Path) -> None:
    source_before = (fleet / SOURCE_K).read_text().splitlines()
    target_before = (fleet / TARGET_K).read_text().splitlines()

    Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert (fleet / SOURCE_K).read_text().splitlines() == [
        line for line in source_before if line != "  - ray-pred"
    ]
    target_after = (fleet / TARGET_K).read_text().splitlines()
    added = target_after.index("  - ray-pred")
    assert target_after[added - 1] == "  - batch"
    assert target_after[:added] + target_after[added + 1 :] == target_before


def test_a_cluster_without_groups_gets_a_new_kustomization(fleet: Path) -> None:
    move = Move("ray-pred", "onprem", "edge", move_message("ray-pred", "onprem", "edge"))

    result = Workspace.open(str(fleet), branch="main").apply(move)

    assert result.error == ""
    assert (fleet / "clusters/edge/groups/kustomization.yaml").read_text() == (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ray-pred\n"
    )
    assert (fleet / "clusters/edge/groups/ray-pred/deployment.yaml").is_file()


def test_unrelated_local_changes_are_kept(fleet: Path) -> None:
    (fleet / "fleet.yaml").write_text("# being edited by a person\n")
    (fleet / "notes.txt").write_text("untracked\n")

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert (fleet / "fleet.yaml").read_text() == "# being edited by a person\n"
    assert git(fleet, "status", "--porcelain").splitlines() == [" M fleet.yaml", "?? notes.txt"]


def test_a_change_staged_elsewhere_stays_staged_and_out_of_the_move(fleet: Path) -> None:
    _stage(fleet, "fleet.yaml")

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert "fleet.yaml" not in git(fleet, "diff", "--name-only", "HEAD^", "HEAD").splitlines()
    assert git(fleet, "status", "--porcelain").splitlines() == ["M  fleet.yaml"]


# Dry run


def test_diff_for_shows_the_move_and_writes_nothing(fleet: Path) -> None:
    before = repo_state(fleet)
    objects_before = git(fleet, "count-objects", "-v")

    diff = Workspace.open(str(fleet), branch="main").diff_for(RAY_TO_CLOUD)

    assert repo_state(fleet) == before
    assert git(fleet, "status", "--porcelain") == ""
    assert git(fleet, "count-objects", "-v") == objects_before
    assert "rename clusters/{onprem => cloud}/groups/ray-pred/deployment.yaml (100%)" in diff
    assert "-  - ray-pred" in diff
    assert "+  - ray-pred" in diff
    assert "6 files changed, 1 insertion(+), 1 deletion(-)" in diff


# Preconditions


@pytest.mark.parametrize(
    ("move", "prepare", "error"),
    [
        (
            Move("gpu-train", "onprem", "cloud", "m"),
            None,
            "cannot move gpu-train: clusters/onprem/groups/gpu-train does not exist",
        ),
        (
            RAY_TO_CLOUD,
            (f"{TARGET_DIR}/leftover.yaml", "kind: ConfigMap\n"),
            "cannot move ray-pred: clusters/cloud/groups/ray-pred already exists",
        ),
        (
            RAY_TO_CLOUD,
            (SOURCE_K, "resources:\n  - web\n"),
            "cannot move ray-pred: it is not listed in clusters/onprem/groups/kustomization.yaml",
        ),
        (
            Move("ray-pred", "onprem", "onprem", "m"),
            None,
            "cannot move ray-pred: it is already on onprem",
        ),
        (
            Move("ray-pred", "onprem", "../cloud", "m"),
            None,
            "cannot move ray-pred: '../cloud' is not a valid cluster name",
        ),
    ],
    ids=["missing-source", "existing-target", "not-listed", "same-cluster", "bad-name"],
)
def test_a_move_that_cannot_be_made_is_refused_in_plain_words(
    fleet: Path, move: Move, prepare: tuple[str, str] | None, error: str
) -> None:
    if prepare:
        commit_file(fleet, prepare[0], prepare[1], message="prepare")
    before = repo_state(fleet)

    result = Workspace.open(str(fleet), branch="main").apply(move)

    assert (result.error, result.commit, result.pushed) == (error, "", False)
    assert repo_state(fleet) == before


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (f"{SOURCE_DIR}/deployment.yaml", "edited by hand\n"),
        (f"{SOURCE_DIR}/new-file.yaml", "not committed\n"),
        (f"{TARGET_DIR}/stray.yaml", "in the way\n"),
        (TARGET_K, "# half edited\n"),
    ],
    ids=["modified-in-group", "untracked-in-group", "untracked-at-target", "kustomization"],
)
def test_local_changes_in_the_way_refuse_the_move(fleet: Path, path: str, content: str) -> None:
    (fleet / path).parent.mkdir(parents=True, exist_ok=True)
    (fleet / path).write_text(content)
    before = repo_state(fleet)

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error.startswith("cannot move ray-pred: the checkout has local changes in")
    assert path in result.error
    assert repo_state(fleet) == before


def test_local_changes_are_reported_before_any_other_refusal(fleet: Path) -> None:
    stray = "clusters/onprem/groups/gpu-train/notes.txt"
    (fleet / stray).parent.mkdir(parents=True)
    (fleet / stray).write_text("untracked\n")
    before = repo_state(fleet)

    move = Move("gpu-train", "onprem", "cloud", "m")  # also refused: no such group
    result = Workspace.open(str(fleet), branch="main").apply(move)

    assert result.error == f"cannot move gpu-train: the checkout has local changes in {stray}"
    assert repo_state(fleet) == before


# Failures mid-way


def fail_git_command(patch: pytest.MonkeyPatch, command: str) -> None:
    """Every `git <command>` started from now on fails at once, as a broken git would."""
    real_popen = subprocess.Popen

    def popen(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        if list(args[:2]) == ["git", command]:
            args = ["sh", "-c", "echo 'fatal: injected failure' >&2; exit 128"]
        return real_popen(args, **kwargs)  # type: ignore[call-overload, no-any-return]

    patch.setattr(subprocess, "Popen", popen)


@pytest.mark.parametrize(
    "command",
    [
        "ls-tree",
        "cat-file",
        "read-tree",
        "update-index",
        "hash-object",
        "write-tree",
        "commit-tree",
    ],
)
def test_a_git_failure_while_building_leaves_everything_untouched(
    fleet: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    if command == "read-tree":  # used only when the checkout's index is not the base
        _stage(fleet, "fleet.yaml")
    workspace = Workspace.open(str(fleet), branch="main")
    before = repo_state(fleet)

    with monkeypatch.context() as patch:
        fail_git_command(patch, command)
        result = workspace.apply(RAY_TO_CLOUD)

    assert result.error == f"cannot move ray-pred: git {command} failed: fatal: injected failure"
    assert repo_state(fleet) == before


def test_a_branch_moved_between_build_and_update_is_not_overwritten(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Workspace.open(str(fleet), branch="main")
    before = repo_state(fleet)
    other = git(fleet, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "someone else")

    def build_then_race(*args: object, **kwargs: object) -> str:
        built = build_move_commit(*args, **kwargs)  # type: ignore[arg-type]
        git(fleet, "update-ref", "refs/heads/main", other)
        return built

    monkeypatch.setattr("reconciler.gitrepo.workspace.build_move_commit", build_then_race)
    result = workspace.apply(RAY_TO_CLOUD)

    assert result.error == (
        "cannot move ray-pred: the branch main moved while the commit was written"
    )
    after = repo_state(fleet)
    assert after.branch_tip == other
    assert (after.index, after.files) == (before.index, before.files)


def test_a_checkout_that_refuses_to_follow_puts_the_branch_back(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Workspace.open(str(fleet), branch="main")
    before = repo_state(fleet)
    monkeypatch.setattr(branch, "_update_checkout", lambda repo, **_: "refused")

    result = workspace.apply(RAY_TO_CLOUD)

    assert result.error == "cannot move ray-pred: refused"
    assert repo_state(fleet) == before
    assert not list((fleet / ".git").glob("placement-reconciler-move*"))


CRASHING_MOVE = """
import os, signal, sys
from reconciler.gitrepo import branch, workspace as git_writer, move_commit
from reconciler.gitrepo.workspace import Move, Workspace

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

where = sys.argv[2]
if where == "build":
    real = move_commit.git_text
    def git_text(args, **kwargs):
        if args[0] == "commit-tree":
            die()
        return real(args, **kwargs)
    move_commit.git_text = git_text
elif where == "after-branch-moved":
    branch._update_checkout = die
elif where == "after-push":
    git_writer.advance = die
elif where == "after-checkout":  # index and files at the new commit, the journal still there
    real_update = branch._update_checkout
    def update(*args, **kwargs):
        real_update(*args, **kwargs)
        die()
    branch._update_checkout = update
Workspace.open(sys.argv[1], branch="main").apply(Move("ray-pred", "onprem", "cloud", "m"))
"""


@pytest.mark.parametrize("where", ["build", "after-branch-moved", "after-checkout"])
def test_a_crash_leaves_the_old_commit_or_the_new_one(fleet: Path, where: str) -> None:
    before = repo_state(fleet)

    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_MOVE), str(fleet), where],
        capture_output=True,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    Workspace.open(str(fleet), branch="main")

    after = repo_state(fleet)
    if after.branch_tip == before.branch_tip:
        assert after == before
    else:
        assert git(fleet, "rev-parse", "HEAD^") == before.branch_tip
        assert after.status == ""
        assert (fleet / TARGET_DIR / "deployment.yaml").is_file()
        assert not (fleet / SOURCE_DIR).exists()
    assert (where == "build") == (after == before)


def test_a_crash_after_the_push_is_caught_up_by_the_next_open(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    before = repo_state(checkout)

    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_MOVE), str(checkout), "after-push"],
        capture_output=True,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    assert repo_state(checkout) == before

    workspace = Workspace.open(str(checkout), branch="main")
    workspace.refresh()

    assert workspace.head() == git(remote, "rev-parse", "main") != before.branch_tip
    assert git(checkout, "status", "--porcelain") == ""
    assert (checkout / TARGET_DIR / "deployment.yaml").is_file()


def test_a_branch_that_is_not_checked_out_moves_without_touching_the_files(fleet: Path) -> None:
    git(fleet, "checkout", "--quiet", "-b", "review")
    before = repo_state(fleet, branch="review")

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert git(fleet, "rev-parse", "main") == result.commit
    assert repo_state(fleet, branch="review") == before
    assert TARGET_DIR + "/deployment.yaml" in git(fleet, "ls-tree", "-r", "--name-only", "main")


# Pushing


def test_a_move_is_pushed_to_origin(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")

    result = Workspace.open(str(checkout), branch="main").apply(RAY_TO_CLOUD)

    assert (result.error, result.pushed) == ("", True)
    assert git(remote, "rev-parse", "refs/heads/main") == result.commit
    assert git(checkout, "rev-parse", "HEAD") == result.commit
    assert git(checkout, "rev-parse", "refs/remotes/origin/main") == result.commit


def test_push_false_commits_locally_only(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    remote_before = git(remote, "rev-parse", "main")

    result = Workspace.open(str(checkout), branch="main").apply(RAY_TO_CLOUD, push=False)

    assert (result.error, result.pushed) == ("", False)
    assert git(checkout, "rev-parse", "HEAD") == result.commit
    assert git(remote, "rev-parse", "main") == remote_before


def test_a_lost_push_race_is_rebuilt_on_the_new_tip_and_pushed(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    sleep = RecordedSleep()
    workspace = Workspace.open(str(checkout), branch="main", sleep=sleep)
    other = clone(remote, tmp_path / "other")
    theirs = commit_file(other, "fleet.yaml", "# edited elsewhere\n", message="tune fleet")
    git(other, "push", "--quiet", "origin", "main")

    result = workspace.apply(RAY_TO_CLOUD)

    assert (result.error, result.pushed) == ("", True)
    assert len(sleep.calls) == 1
    assert git(remote, "rev-parse", "main") == result.commit
    assert git(remote, "rev-parse", "main^") == theirs
    assert git(checkout, "rev-parse", "HEAD") == result.commit
    assert (checkout / "fleet.yaml").read_text() == "# edited elsewhere\n"
    assert (checkout / TARGET_DIR / "deployment.yaml").is_file()
    assert git(checkout, "status", "--porcelain") == ""


def test_a_real_conflict_is_reported_and_nothing_is_forced(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    sleep = RecordedSleep()
    workspace = Workspace.open(str(checkout), branch="main", sleep=sleep)
    other = Workspace.open(str(clone(remote, tmp_path / "other")), branch="main")
    to_edge = Move("ray-pred", "onprem", "edge", move_message("ray-pred", "onprem", "edge"))
    assert other.apply(to_edge).pushed
    remote_before = git(remote, "rev-parse", "main")
    before = repo_state(checkout)

    result = workspace.apply(RAY_TO_CLOUD)

    assert (result.commit, result.pushed) == ("", False)
    assert result.error == (
        "cannot move ray-pred: conflict: origin/main changed meanwhile and "
        "clusters/onprem/groups/ray-pred does not exist; nothing was pushed"
    )
    assert git(remote, "rev-parse", "main") == remote_before
    assert repo_state(checkout) == before
    assert len(sleep.calls) == 1


def test_losing_every_race_gives_up_after_three_tries_with_growing_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    other = clone(remote, tmp_path / "other")
    sleep = RecordedSleep()
    workspace = Workspace.open(str(checkout), branch="main", sleep=sleep)
    before = repo_state(checkout)

    def someone_pushes_first() -> None:
        commit_file(other, "notes.txt", f"{len(sleep.calls)}\n", message="busy")
        git(other, "push", "--quiet", "origin", "main")

    def fetch_then_someone_pushes(
        repo: Path, name: str, *, env: Mapping[str, str] | None = None
    ) -> str | None:
        fetched = branch.fetch(repo, name, env=env)
        someone_pushes_first()
        return fetched

    someone_pushes_first()
    monkeypatch.setattr("reconciler.gitrepo.workspace.fetch", fetch_then_someone_pushes)
    result = workspace.apply(RAY_TO_CLOUD)

    assert result.error.startswith("cannot move ray-pred: ")
    assert result.error.endswith("; nothing was pushed"), result.error
    assert "origin/main kept moving" in result.error
    assert "gave up after 3 tries" in result.error
    assert result.pushed is False
    assert len(sleep.calls) == 2
    assert 0.5 <= sleep.calls[0] <= 1.5
    assert 1.0 <= sleep.calls[1] <= 3.0
    assert repo_state(checkout) == before
    assert "ray-pred" not in git(remote, "ls-tree", "-r", "--name-only", "main", "clusters/cloud")


def test_a_push_the_remote_rejects_is_reported_without_retrying(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    checkout = clone(remote, tmp_path / "checkout")
    sleep = RecordedSleep()
    before = repo_state(checkout)

    result = Workspace.open(str(checkout), branch="main", sleep=sleep).apply(RAY_TO_CLOUD)

    assert result.error.startswith("cannot move ray-pred: [remote rejected]")
    assert (result.pushed, sleep.calls) == (False, [])
    assert repo_state(checkout) == before


# Opening and refreshing


def test_open_on_a_clone_url_clones_once_and_reuses_it(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    url = f"file://{remote}"
    workdir = tmp_path / "work"

    first = Workspace.open(url, branch="main", workdir=workdir)
    (workdir / "marker.txt").write_text("kept between runs\n")
    second = Workspace.open(url, branch="main", workdir=workdir)

    assert first.path == second.path == workdir
    assert (workdir / "marker.txt").is_file()
    assert (workdir / "fleet.yaml").is_file()
    assert second.head() == git(remote, "rev-parse", "main")


def test_open_on_a_bare_path_clones_into_the_cache_dir(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)

    workspace = Workspace.open(str(remote), branch="main")

    assert workspace.path.is_relative_to(tmp_path / "cache" / "placement-reconciler")
    assert workspace.apply(RAY_TO_CLOUD).pushed
    assert git(remote, "rev-parse", "main") == workspace.head()


def test_a_reused_clone_fetches_what_others_pushed(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    workdir = tmp_path / "work"
    Workspace.open(str(remote), branch="main", workdir=workdir)
    other = clone(remote, tmp_path / "other")
    theirs = commit_file(other, "fleet.yaml", "# new\n", message="edit")
    git(other, "push", "--quiet", "origin", "main")

    workspace = Workspace.open(str(remote), branch="main", workdir=workdir)

    assert workspace.head() == theirs
    assert (workdir / "fleet.yaml").read_text() == "# new\n"


def test_a_broken_clone_is_cloned_again(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    workdir = tmp_path / "work"
    Workspace.open(str(remote), branch="main", workdir=workdir)
    (workdir / ".git" / "HEAD").write_text("garbage\n")

    workspace = Workspace.open(str(remote), branch="main", workdir=workdir)

    assert workspace.head() == git(remote, "rev-parse", "main")
    assert git(workdir, "status", "--porcelain") == ""


def test_open_refuses_a_directory_that_is_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="is not a git checkout"):
        Workspace.open(str(tmp_path), branch="main")
    with pytest.raises(WorkspaceError, match="is not a git checkout"):
        Workspace.open(str(tmp_path / "missing"), branch="main")


def test_refresh_fast_forwards_a_clean_checkout_only(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    workspace = Workspace.open(str(checkout), branch="main")
    other = clone(remote, tmp_path / "other")
    theirs = commit_file(other, "notes.txt", "hello\n", message="notes")
    git(other, "push", "--quiet", "origin", "main")

    (checkout / "fleet.yaml").write_text("# local edit\n")
    workspace.refresh()
    assert workspace.head() != theirs

    git(checkout, "checkout", "--quiet", "--", "fleet.yaml")
    workspace.refresh()
    assert workspace.head() == theirs
    assert (checkout / "notes.txt").read_text() == "hello\n"


def test_refresh_never_discards_local_commits(tmp_path: Path) -> None:
    remote = make_remote(tmp_path)
    checkout = clone(remote, tmp_path / "checkout")
    mine = commit_file(checkout, "mine.txt", "local\n", message="local work")
    other = clone(remote, tmp_path / "other")
    commit_file(other, "theirs.txt", "remote\n", message="remote work")
    git(other, "push", "--quiet", "origin", "main")

    workspace = Workspace.open(str(checkout), branch="main")
    workspace.refresh()

    assert workspace.head() == mine
    assert (checkout / "mine.txt").is_file()


def _group_file_names() -> list[str]:
    return [
        "kustomization.yaml",
        "deployment.yaml",
        "config/settings.properties",
        "scripts/smoke.sh",
    ]


def test_tests_do_not_see_a_global_git_identity() -> None:
    assert os.environ["GIT_CONFIG_GLOBAL"] == os.devnull
    assert "GIT_AUTHOR_NAME" not in os.environ


# The checkout follows its branch (what the deleted checkout-update tests checked)


def _stage(repo: Path, path: str) -> None:
    (repo / path).write_text("staged\n")
    git(repo, "add", "--", path)


def _put(repo: Path, path: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text("in the way\n")


@pytest.mark.parametrize(
    "setup",
    [
        lambda repo: _put(repo, f"{SOURCE_DIR}/deployment.yaml"),
        lambda repo: _put(repo, TARGET_K),
        lambda repo: _stage(repo, f"{SOURCE_DIR}/config/settings.properties"),
        lambda repo: _stage(repo, SOURCE_K),
        lambda repo: _put(repo, f"{TARGET_DIR}/deployment.yaml"),
    ],
    ids=[
        "modified-in-group",
        "modified-kustomization",
        "staged-in-group",
        "staged-kustomization",
        "untracked-at-target",
    ],
)
@pytest.mark.parametrize("only_the_moves_paths", [False, True], ids=["read-tree", "paths"])
def test_a_checkout_with_local_changes_in_the_way_is_refused_and_left_unchanged(
    fleet: Path, setup: Callable[[Path], None], only_the_moves_paths: bool
) -> None:
    """Changes made after the move's own check (a person at work): the checkout refuses,
    whether it follows the whole commit (read-tree) or only the move's paths."""
    old = git(fleet, "rev-parse", "HEAD")
    new = build_move_commit(fleet, RAY_TO_CLOUD, base=old, author=DEFAULT_AUTHOR)
    setup(fleet)
    before = repo_state(fleet)

    paths = [SOURCE_DIR, TARGET_DIR, SOURCE_K, TARGET_K] if only_the_moves_paths else []
    problem = branch.advance(fleet, branch="main", old=old, new=new, paths=paths)

    assert problem.startswith("the checkout has local changes in the way"), problem
    assert repo_state(fleet) == before
    assert not list((fleet / ".git").glob("placement-reconciler-move*"))


def test_the_checkout_follows_without_running_a_hook(fleet: Path) -> None:
    hook = fleet / ".git/hooks/post-checkout"
    hook.write_text("#!/bin/sh\ntouch hook-ran\n")
    hook.chmod(0o755)

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert not (fleet / "hook-ran").exists()


def test_touched_but_unchanged_files_do_not_stop_the_checkout(fleet: Path) -> None:
    deployment = fleet / SOURCE_DIR / "deployment.yaml"
    deployment.write_bytes(deployment.read_bytes())  # new stat data, same content
    future = time.time() + 10
    os.utime(deployment, (future, future))

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert git(fleet, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_sparse_checkout_follows_within_its_patterns(fleet: Path) -> None:
    git(fleet, "sparse-checkout", "set", "--no-cone", "/*", "!/clusters/cloud/")

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    assert git(fleet, "rev-parse", "HEAD") == result.commit
    assert not (fleet / SOURCE_DIR).exists()
    assert not (fleet / "clusters/cloud").exists()  # outside the patterns: not written
    assert f"{TARGET_DIR}/deployment.yaml" in git(fleet, "ls-files")
    assert git(fleet, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_group_with_links_executables_submodules_and_odd_names_keeps_every_mode(
    fleet: Path,
) -> None:
    head = git(fleet, "rev-parse", "HEAD")
    link = git(fleet, "hash-object", "-w", "--stdin", stdin=b"deployment.yaml")
    blob = git(fleet, "hash-object", "-w", "--stdin", stdin=b"notes\n")
    odd = [
        f"120000,{link},{SOURCE_DIR}/current",
        f"160000,{head},{SOURCE_DIR}/vendored",
        f"100755,{blob},{SOURCE_DIR}/a/b/run",
        f"100644,{blob},{SOURCE_DIR}/notes caf\u00e9.txt",
        f"100644,{blob},clusters/cloud/groups/unrelated/x.yaml",
    ]
    for entry in odd:
        git(fleet, "update-index", "--add", "--cacheinfo", entry)
    git(fleet, "commit", "-q", "-m", "odd entries")
    git(fleet, "reset", "-q", "--hard")
    old_files = tree_entries(fleet, "HEAD", SOURCE_DIR)

    result = Workspace.open(str(fleet), branch="main").apply(RAY_TO_CLOUD)

    assert result.error == ""
    new_files = tree_entries(fleet, "HEAD", TARGET_DIR)
    assert new_files == {p.replace(SOURCE_DIR, TARGET_DIR): e for p, e in old_files.items()}
    assert new_files[f"{TARGET_DIR}/current"][0] == "120000"
    assert new_files[f"{TARGET_DIR}/vendored"] == ("160000", head)
    assert new_files[f"{TARGET_DIR}/a/b/run"][0] == "100755"
    assert tree_entries(fleet, "HEAD", "clusters/cloud/groups/unrelated") != {}
    assert os.readlink(fleet / TARGET_DIR / "current") == "deployment.yaml"
    assert git(fleet, "status", "--porcelain", "--untracked-files=all") == ""


def test_no_temporary_directory_outlives_a_move_or_a_failed_one(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    workspace = Workspace.open(str(fleet), branch="main")

    workspace.diff_for(RAY_TO_CLOUD)
    with monkeypatch.context() as patch:
        fail_git_command(patch, "write-tree")
        assert workspace.apply(RAY_TO_CLOUD).error
    assert workspace.apply(RAY_TO_CLOUD).error == ""

    assert list(scratch.iterdir()) == []
