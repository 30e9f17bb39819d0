"""Running git: output, failures, and deadlines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.core import errors
from reconciler.gitrepo.git_command import GitError, git_text, run_git


def test_output_and_failures_are_reported(fleet: Path) -> None:
    assert git_text(["rev-parse", "--abbrev-ref", "HEAD"], cwd=fleet) == "main"
    with pytest.raises(GitError, match="git rev-parse failed: fatal: Needed a single revision"):
        run_git(["rev-parse", "--verify", "no-such-ref^{commit}"], cwd=fleet)


def test_a_failed_command_is_a_git_error_a_user_can_act_on(fleet: Path) -> None:
    with pytest.raises(errors.GitError):
        run_git(["cat-file", "-e", "0" * 40], cwd=fleet)


def test_a_command_past_its_deadline_is_killed_even_when_its_child_lingers(fleet: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(GitError, match=r"git -c failed: timed out after 0.3s"):
        run_git(["-c", "alias.wait=!sleep 3", "wait"], cwd=fleet, timeout=0.3)

    assert time.perf_counter() - started < 2
