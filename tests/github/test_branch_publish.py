"""The bot's branch placement/<group>: rebuilt on the base tip, pushed with a lease, if ours."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.github.branch_publish import delete_bot_branch, publish_move_branch
from reconciler.github.credentials import GitHubCredential, git_push_env
from reconciler.gitrepo import move_commit
from reconciler.gitrepo.workspace import Move, Workspace
from tests.fleet_repo import (
    BOT_EMAIL,
    MOVE_BRANCH,
    clone,
    commit_file,
    git,
    move_message,
    remote_sha,
    repo_state,
    tree_entries,
)

BOT = BOT_EMAIL
BUILD = "reconciler.github.branch_publish.build_move_commit"
BRANCH = MOVE_BRANCH
RAY_TO_CLOUD = Move("ray-pred", "onprem", "cloud", move_message("ray-pred", "onprem", "cloud"))


def push_human_commit(remote: Path, tmp_path: Path, *, name: str = "human") -> str:
    """A person checks out the bot's branch, commits on it and pushes."""
    person = clone(remote, tmp_path / name)
    git(person, "fetch", "--quiet", "origin", f"{BRANCH}:{BRANCH}")
    git(person, "switch", "--quiet", BRANCH)
    commit_file(person, "clusters/cloud/groups/ray-pred/NOTE.md", "hold on\n", message="wait")
    git(person, "push", "--quiet", "origin", BRANCH)
    return git(person, "rev-parse", "HEAD")


def test_publish_pushes_one_bot_commit_on_the_base_tip_and_leaves_the_checkout(
    workspace: Workspace, remote: Path
) -> None:
    before = repo_state(workspace.path)

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert (result.pushed, result.error) == (True, "")
    assert remote_sha(remote) == result.commit
    assert git(remote, "rev-parse", f"{result.commit}^") == remote_sha(remote, "main")
    assert git(remote, "log", "-1", "--format=%ae %ce", result.commit) == f"{BOT} {BOT}"
    assert "clusters/cloud/groups/ray-pred/deployment.yaml" in tree_entries(remote, result.commit)
    assert repo_state(workspace.path) == before
    assert remote_sha(remote, "main") == before.branch_tip


def test_publish_with_nothing_new_pushes_nothing(workspace: Workspace, remote: Path) -> None:
    first = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    again = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert (again.pushed, again.error) == (False, "")
    assert again.commit == first.commit == remote_sha(remote)


def test_publish_rebuilds_on_the_new_base_tip_never_stacked(
    workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)
    other = clone(remote, tmp_path / "other")
    commit_file(other, "README.md", "fleet\n", message="docs")
    git(other, "push", "--quiet", "origin", "main")

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert result.pushed
    assert git(remote, "rev-parse", f"{BRANCH}^") == remote_sha(remote, "main")
    assert git(remote, "rev-list", "--count", f"main..{BRANCH}") == "1"
    assert git(workspace.path, "rev-parse", "main") != remote_sha(remote, "main")  # not pulled


def test_a_human_commit_on_the_branch_is_left_alone(
    workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)
    human = push_human_commit(remote, tmp_path)

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert result.human
    assert result.error == f"{BRANCH} has a commit by Fleet Tester: left alone"
    assert (result.pushed, remote_sha(remote)) == (False, human)


def test_a_human_amend_of_the_bot_commit_counts_as_human(
    workspace: Workspace, remote: Path
) -> None:
    bot_commit = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT).commit
    tree = git(remote, "rev-parse", f"{bot_commit}^{{tree}}")
    parent = git(remote, "rev-parse", f"{bot_commit}^")
    bot_author = {"GIT_AUTHOR_NAME": "placement-reconciler", "GIT_AUTHOR_EMAIL": BOT}
    amended = git(remote, "commit-tree", tree, "-p", parent, "-m", "reworded", env=bot_author)
    git(remote, "update-ref", f"refs/heads/{BRANCH}", amended)

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert result.human and "Fleet Tester" in result.error
    assert remote_sha(remote) == amended


def racing(action: Callable[[], None]) -> Callable[..., str]:
    """build_move_commit that lets someone else push first, once, while we build."""
    real = move_commit.build_move_commit
    done: list[bool] = []

    def build(*args: Any, **kwargs: Any) -> str:
        if not done:
            done.append(True)
            action()
        return real(*args, **kwargs)

    return build


def test_the_lease_stops_a_push_over_a_human_commit_made_meanwhile(
    workspace: Workspace, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)
    git(remote, "update-ref", "-d", f"refs/heads/{BRANCH}")  # the next pass starts afresh
    tips: list[str] = []
    human_pushes = racing(lambda: tips.append(push_new_human_branch(remote, tmp_path)))
    monkeypatch.setattr(BUILD, human_pushes)

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert result.human
    assert remote_sha(remote) == tips[0]


def push_new_human_branch(remote: Path, tmp_path: Path) -> str:
    person = clone(remote, tmp_path / "person")
    git(person, "switch", "--quiet", "-c", BRANCH)
    commit_file(person, "notes.md", "mine\n", message="my own branch")
    git(person, "push", "--quiet", "origin", BRANCH)
    return git(person, "rev-parse", "HEAD")


def test_another_reconciler_pushing_the_same_move_meanwhile_is_taken_as_done(
    workspace: Workspace, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Workspace.open(str(clone(remote, tmp_path / "other")), branch="main")
    pushed: list[str] = []

    def other_publishes() -> None:
        # Same move, its evidence worded a little differently: another commit, same tree.
        theirs = Move("ray-pred", "onprem", "cloud", RAY_TO_CLOUD.message + "Seen-By: other\n")
        pushed.append(publish_move_branch(other, theirs, branch=BRANCH, bot_email=BOT).commit)

    monkeypatch.setattr(BUILD, racing(other_publishes))

    result = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert (result.pushed, result.error) == (False, "")
    assert result.commit == pushed[0] == remote_sha(remote)


def test_a_move_that_cannot_be_made_on_the_base_pushes_nothing(
    workspace: Workspace, remote: Path
) -> None:
    move = Move("batch", "onprem", "cloud", move_message("batch", "onprem", "cloud"))

    result = publish_move_branch(workspace, move, branch="placement/batch", bot_email=BOT)

    assert not result.pushed
    assert result.error == "cannot move batch: clusters/onprem/groups/batch does not exist"
    assert remote_sha(remote, "placement/batch") is None


def test_delete_bot_branch_deletes_only_the_bots_own(
    workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    assert delete_bot_branch(workspace, branch=BRANCH, bot_email=BOT)  # nothing there
    publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)

    assert delete_bot_branch(workspace, branch=BRANCH, bot_email=BOT)
    assert remote_sha(remote) is None

    publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)
    human = push_human_commit(remote, tmp_path)
    assert not delete_bot_branch(workspace, branch=BRANCH, bot_email=BOT)
    assert remote_sha(remote) == human


def test_git_errors_carry_no_credential(workspace: Workspace) -> None:
    secret = "ghp_TESTSECRET123"
    url = f"http://x-access-token:{secret}@127.0.0.1:9/org/fleet.git"
    git(workspace.path, "remote", "set-url", "origin", url)
    env = git_push_env(GitHubCredential(kind="token", token=secret), base_url="http://127.0.0.1:9")

    result = publish_move_branch(
        workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT, push_env=env
    )

    assert result.error.startswith(f"cannot publish {BRANCH}:")
    assert secret not in result.error
    assert env["GIT_CONFIG_VALUE_0"].split()[-1] not in result.error
