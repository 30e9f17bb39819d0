"""A git call that times out fails that one move, never the pass (issue 12 item 4).

Before, `subprocess.TimeoutExpired` escaped: a push that timed out ended the pass after
earlier moves were already pushed, their results vanished from the report, and a clone
left its scratch directory behind.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reconciler.gitrepo import branch, clone
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import writer_for
from tests.fleet_repo import DEMO_NOW, taken_at
from tests.reconcile.github_fleet import WHEN


def hang_on_receive(remote: Path, seconds: float) -> None:
    """origin takes `seconds` to answer a push, like a server that stalls."""
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nsleep {seconds}\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)


def test_a_push_that_times_out_is_reported_for_its_move_and_the_pass_ends(
    fleet: Path, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang_on_receive(fleet.parent / "remote.git", 5)
    monkeypatch.setattr(branch, "NETWORK_TIMEOUT", 0.5)
    workspace = Workspace.open(str(fleet), branch="main")
    before = workspace.head()

    outcome = run_pass(
        workspace,
        status=snapshot_status(taken_at(snapshots, DEMO_NOW)),
        writer=writer_for("direct"),
        now=WHEN,
    )

    assert [d.group for d in outcome.plan.moves] == ["ray-pred"]
    (result,) = outcome.results
    assert result.group == "ray-pred"
    assert "timed out after 0.5s" in result.error
    assert outcome.failed == (result,)
    assert workspace.head() == before  # nothing half-written: the branch did not move


def test_a_clone_that_times_out_leaves_no_scratch_directory(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clone, "NETWORK_TIMEOUT", 0.001)
    home = tmp_path / "clones"
    home.mkdir()

    with pytest.raises(clone.CloneError, match="timed out"):
        clone.clone_or_reuse(
            f"file://{fleet.parent / 'remote.git'}", branch="main", path=home / "fleet"
        )

    assert list(home.iterdir()) == []
