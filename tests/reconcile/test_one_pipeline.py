"""Every mode runs the same pass and returns the same outcome; `run --once` and the daemon
both go through it."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.main import main
from reconciler.gitrepo.history import read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile import run as run_module
from reconciler.reconcile.outcome import PassOutcome, WriteResult
from reconciler.reconcile.run import Pipeline, run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import (
    DirectWriter,
    DryRunWriter,
    PullRequestWriter,
    Writer,
    writer_for,
)
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW, git, taken_at
from tests.reconcile.github_fleet import WHEN, pulls


def test_the_three_modes_return_the_same_outcome_type(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    status = snapshot_status(taken_at(snapshots, WHEN))
    workspace = Workspace.open(str(fleet), branch="main")
    writers: list[Writer] = [DryRunWriter(), PullRequestWriter(pulls(github)), DirectWriter()]

    outcomes = [run_pass(workspace, status=status, writer=w, now=WHEN) for w in writers]

    assert [type(o) for o in outcomes] == [PassOutcome] * 3
    assert [o.mode for o in outcomes] == ["dry-run", "pr", "direct"]
    for outcome in outcomes:
        assert [d.group for d in outcome.plan.moves] == ["ray-pred"]
        assert all(type(r) is WriteResult for r in outcome.results)
        assert outcome.failed == () and outcome.stopped == ""
    shown, proposed, committed = (o.results for o in outcomes)
    assert [(r.group, r.action) for r in shown] == [("ray-pred", "shown")]
    assert "clusters/cloud/groups/kustomization.yaml" in shown[0].diff
    assert [(r.group, r.action, r.number) for r in proposed] == [("ray-pred", "opened", 1)]
    assert [(r.group, r.action, r.pushed) for r in committed] == [("ray-pred", "committed", True)]
    assert [m.commit for m in read_moves(fleet)] == [committed[0].commit]


def test_a_mode_picks_its_writer_once(github: FakeGitHub) -> None:
    assert isinstance(writer_for("dry-run"), DryRunWriter)
    assert isinstance(writer_for("direct"), DirectWriter)
    assert isinstance(writer_for("pr", pulls=pulls(github)), PullRequestWriter)
    with pytest.raises(ValueError, match="needs the pull requests"):
        writer_for("pr")
    with pytest.raises(ValueError, match="unknown mode 'sideways'"):
        writer_for("sideways")


def test_a_pipeline_asks_for_git_credentials_before_every_pass(
    fleet: Path, snapshots: Path
) -> None:
    asked: list[int] = []

    def credentials() -> dict[str, str]:
        asked.append(len(asked))
        return {"GIT_CONFIG_COUNT": "0"}

    workspace = Workspace.open(str(fleet), branch="main")
    status = snapshot_status(taken_at(snapshots, WHEN))
    pipeline = Pipeline(workspace, status=status, writer=DryRunWriter(), git_env=credentials)
    pipeline.run(WHEN)
    pipeline.run(WHEN)
    assert asked == [0, 1]


def test_run_once_and_the_daemon_run_the_same_pass(
    fleet: Path, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real_run_pass = run_module.run_pass
    daemon = False

    def spy(workspace: Workspace, **kwargs: Any) -> PassOutcome:
        outcome = real_run_pass(workspace, **kwargs)
        calls.append((kwargs["writer"].mode, "daemon" if daemon else "once"))
        if daemon:  # as a SIGTERM during the pass: the loop ends after it
            os.kill(os.getpid(), signal.SIGTERM)
        return outcome

    monkeypatch.setattr(run_module, "run_pass", spy)
    common = ["run", "--repo", str(fleet), "--status", str(taken_at(snapshots, DEMO_NOW))]
    common += ["--mode", "dry-run", "--now", DEMO_NOW]

    once = io.StringIO()
    assert main([*common, "--once"], out=once) == 0
    daemon = True
    taken_at(snapshots, dt.datetime.now(dt.UTC))  # the daemon's passes run at the real time
    looped = io.StringIO()
    assert main([*common, "--interval", "1h", "--metrics-port", "0"], out=looped) == 0

    assert calls == [("dry-run", "once"), ("dry-run", "daemon")]
    for out in (once, looped):
        assert "(dry-run: nothing written)" in out.getvalue()
    assert git(fleet, "status", "--porcelain") == ""
