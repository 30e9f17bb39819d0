"""Running git: output, failures, deadlines, and commands that run while other work goes on."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from reconciler.gitrepo.git_command import GitError, git_text, run_git, start_git
from tests.fleet_repo import write_fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "fleet")


def test_output_and_failures_are_reported(fleet: Path) -> None:
    assert git_text(["rev-parse", "--abbrev-ref", "HEAD"], cwd=fleet) == "main"
    with pytest.raises(GitError, match="git rev-parse failed: fatal: Needed a single revision"):
        run_git(["rev-parse", "--verify", "no-such-ref^{commit}"], cwd=fleet)


def test_a_command_past_its_deadline_is_killed_even_when_its_child_lingers(fleet: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(subprocess.TimeoutExpired):  # the alias's shell outlives the kill
        run_git(["-c", "alias.wait=!sleep 3", "wait"], cwd=fleet, timeout=0.3)

    assert time.perf_counter() - started < 2


def test_a_started_command_reports_when_asked(fleet: Path) -> None:
    question = start_git(["remote", "get-url", "origin"], cwd=fleet)
    listing = start_git(["ls-files", "fleet.yaml"], cwd=fleet)

    assert not question.succeeded()  # no origin here
    assert listing.finish() == b"fleet.yaml\n"
    question.stop()  # again: nothing left to do
    with pytest.raises(GitError, match="git cat-file failed"):
        start_git(["cat-file", "-e", "0" * 40], cwd=fleet).finish()
