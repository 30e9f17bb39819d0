"""Mode `pr` end to end: real PyGithub against the fake GitHub, a real bare git remote.

One pass opens one clear pull request; passes keep it single and current; merging it is
the move (history shows it, no new PR); closing it unmerged vetoes the move; a group
that is no longer stuck gets its PR closed with a comment.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main
from reconciler.gitrepo.history import read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.outcome import PassOutcome, WriteResult
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import PullRequestWriter
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all, git, taken_at
from tests.reconcile.github_fleet import TOKEN, WHEN, pulls


def one_pass(
    fleet: Path, fake: FakeGitHub, snapshots: Path, *, now: dt.datetime = WHEN
) -> PassOutcome:
    workspace = Workspace.open(str(fleet), branch="main")
    status = snapshot_status(taken_at(snapshots, now))
    outcome = run_pass(workspace, status=status, writer=PullRequestWriter(pulls(fake)), now=now)
    assert outcome.mode == "pr"
    return outcome


def proposals(outcome: PassOutcome) -> tuple[WriteResult, ...]:
    """The pull requests the pass opened, updated or kept for its moves."""
    return tuple(r for r in outcome.results if not r.withdrawal)


def withdrawals(outcome: PassOutcome) -> tuple[WriteResult, ...]:
    """The move pull requests the pass closed (or failed to close)."""
    return tuple(r for r in outcome.results if r.withdrawal)


def test_one_pass_opens_one_clear_pull_request(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    outcome = one_pass(fleet, github, snapshots)
    assert [(r.group, r.action) for r in proposals(outcome)] == [("ray-pred", "opened")]
    (pull,) = github.pulls.values()
    assert pull.title == "placement: move ray-pred from onprem to cloud"
    assert pull.head == "placement/ray-pred"
    assert {"placement", "placement:upgrade-stalled"} <= set(pull.labels)
    assert "upgrade-stalled" in pull.body and "| `cloud` (chosen) | yes |" in pull.body
    assert "<!-- placement-reconciler:move group=ray-pred" in pull.body
    # The move is only proposed: main is untouched until a human merges.
    assert (fleet / "clusters/onprem/groups/ray-pred").is_dir()
    assert github.branch_sha("placement/ray-pred") is not None


def test_passes_keep_one_current_pull_request(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    one_pass(fleet, github, snapshots)
    again = one_pass(fleet, github, snapshots)
    assert [r.action for r in proposals(again)] == ["unchanged"]
    later = one_pass(fleet, github, snapshots, now=WHEN + dt.timedelta(minutes=7))
    assert [r.action for r in proposals(later)] == ["updated"]  # the evidence changed: 17m
    assert len(github.pulls) == 1
    assert "for 17m" in next(iter(github.pulls.values())).body


def test_merging_is_the_move_and_no_new_pull_request_follows(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    one_pass(fleet, github, snapshots)
    (number,) = github.pulls
    github.merge(number)
    after = one_pass(fleet, github, snapshots, now=WHEN + dt.timedelta(minutes=10))
    assert proposals(after) == () and len(github.pulls) == 1
    assert (fleet / "clusters/cloud/groups/ray-pred").is_dir()
    (record,) = read_moves(fleet)
    assert (record.group, record.source, record.target) == ("ray-pred", "onprem", "cloud")
    out = io.StringIO()
    assert main(["history", "--repo", str(fleet)], out=out) == 0
    assert "ray-pred" in out.getvalue() and "upgrade-stalled" in out.getvalue()


def test_a_pull_request_closed_without_merging_vetoes_the_move(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    one_pass(fleet, github, snapshots)
    (number,) = github.pulls
    github.close(number)
    after = one_pass(fleet, github, snapshots, now=WHEN + dt.timedelta(hours=1))
    assert proposals(after) == ()
    assert len(github.pulls) == 1
    ray = next(d for d in after.plan.decisions if d.group == "ray-pred")
    assert ray.action == "report"
    assert f"pull request #{number} for this move was closed without merging" in (
        ray.candidates[0].detail
    )
    expired = one_pass(fleet, github, snapshots, now=WHEN + dt.timedelta(hours=25))
    assert [r.action for r in proposals(expired)] == ["opened"]  # the veto window is over


def test_a_group_no_longer_stuck_gets_its_pull_request_closed_with_a_comment(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    one_pass(fleet, github, snapshots)
    onprem = snapshots / "onprem.yaml"
    data = yaml.safe_load(onprem.read_text())
    data["items"] = [
        item
        for item in data["items"]
        if item["metadata"].get("labels", {}).get("ray.io/cluster") != "ray-pred-m4q9z"
    ]
    onprem.write_text(yaml.safe_dump(data))
    after = one_pass(fleet, github, snapshots)
    assert [(r.group, r.action) for r in withdrawals(after)] == [("ray-pred", "closed")]
    (pull,) = github.pulls.values()
    assert pull.state == "closed" and not pull.merged
    assert any("no longer needed" in comment for comment in pull.comments)
    assert github.branch_sha("placement/ray-pred") is None


def test_the_cli_opens_the_pull_request_with_a_token_from_the_environment(
    fleet: Path,
    github: FakeGitHub,
    snapshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    out = io.StringIO()
    code = main(["run", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW], out=out)
    assert code == 0, out.getvalue() + capsys.readouterr().err
    assert "ray-pred: pull request #1" in out.getvalue() and "opened" in out.getvalue()
    assert len(github.pulls) == 1
    printed = out.getvalue() + capsys.readouterr().err
    bodies = "".join(p.body + p.title + "".join(p.comments) for p in github.pulls.values())
    commits = git(fleet.parent / "remote.git", "log", "--all", "--format=%B")
    for text in (printed, bodies, commits):
        assert TOKEN not in text


def test_pr_mode_without_a_credential_is_a_usage_error(
    fleet: Path,
    github: FakeGitHub,
    snapshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)
    code = main(
        ["run", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW], out=io.StringIO()
    )
    assert code == 2
    assert "needs a GitHub credential" in capsys.readouterr().err
    assert github.pulls == {}


def test_make_before_break_is_two_pull_requests_the_second_after_the_copy_is_healthy(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    from tests.reconcile.test_make_before_break import ray_copy_on_cloud

    policy = fleet / "clusters/onprem/groups/ray-pred/placement.yaml"
    policy.write_text("strategy: make-before-break\n")
    commit_all(fleet, "ray-pred: relocate without downtime")
    git(fleet, "push", "-q", "origin", "main")
    first = one_pass(fleet, github, snapshots)
    assert [r.action for r in proposals(first)] == ["opened"]
    (copy_pr,) = github.pulls.values()
    assert copy_pr.title == "placement: copy ray-pred to cloud (make-before-break 1/2, from onprem)"
    github.merge(copy_pr.number)
    starting = ray_copy_on_cloud(snapshots, ready=False)
    waiting = one_pass(fleet, github, starting, now=WHEN + dt.timedelta(minutes=5))
    assert proposals(waiting) == () and len(github.pulls) == 1  # phase two waits for health
    healthy = ray_copy_on_cloud(snapshots, ready=True)
    second = one_pass(fleet, github, healthy, now=WHEN + dt.timedelta(minutes=8))
    assert [r.action for r in proposals(second)] == ["opened"]
    finish_pr = github.pulls[max(github.pulls)]
    assert (
        finish_pr.title == "placement: move ray-pred from onprem to cloud (make-before-break 2/2)"
    )
    assert "the copy on `cloud` is healthy" in finish_pr.body
    github.merge(finish_pr.number)
    git(fleet, "pull", "-q", "--ff-only")
    assert not (fleet / "clusters/onprem/groups/ray-pred").exists()
    assert (fleet / "clusters/cloud/groups/ray-pred").is_dir()


def test_explain_shows_the_open_pull_request_and_a_veto(
    fleet: Path, github: FakeGitHub, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    one_pass(fleet, github, snapshots)

    def explain(now: dt.datetime) -> str:
        out = io.StringIO()
        status = taken_at(snapshots, now)
        code = main(
            [
                "explain",
                "ray-pred",
                "--repo",
                str(fleet),
                "--status",
                str(status),
                "--now",
                now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ],
            out=out,
        )
        assert code == 0
        return out.getvalue()

    (number,) = github.pulls
    assert f"open pull request: #{number}" in explain(WHEN)
    github.close(number)
    vetoed = explain(WHEN + dt.timedelta(hours=1))
    assert f"pull request #{number} for this move was closed without merging" in vetoed


def test_a_private_fleet_repo_over_http_is_cloned_with_the_token_from_the_environment(
    fleet: Path,
    github: FakeGitHub,
    snapshots: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "GIT_CONFIG_")):
            monkeypatch.delenv(name)
    plan = [
        "plan",
        "--repo",
        github.git_url,
        "--status",
        str(taken_at(snapshots, WHEN)),
        "--now",
        NOW,
    ]
    refused = main([*plan, "--workdir", str(tmp_path / "anonymous")], out=io.StringIO())
    assert refused == 2
    assert TOKEN not in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    environ = dict(os.environ)
    out = io.StringIO()
    assert main([*plan, "--workdir", str(tmp_path / "authenticated")], out=out) == 0
    assert dict(os.environ) == environ  # git got the credential as its env, not ours
    assert "ray-pred on onprem: MOVE" in out.getvalue()
    config = (tmp_path / "authenticated" / ".git" / "config").read_text()
    assert TOKEN not in config and "extraHeader" not in config  # never stored on disk
