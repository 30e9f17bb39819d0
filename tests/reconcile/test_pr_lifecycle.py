"""Mode `pr` across passes: what the bot does to its own pull requests as things change.

A withdrawal by the bot is no veto; a merged move's branch is cleaned up; a pull request
a person committed to is never closed by the bot, and the pass report names it.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.cli.report import report_pass
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.outcome import PassOutcome
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import PullRequestWriter
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import clone, commit_file, git, taken_at
from tests.reconcile.github_fleet import WHEN, pulls
from tests.reconcile.test_pr_mode import proposals, withdrawals

BRANCH = "placement/ray-pred"


def one_pass(fleet: Path, fake: FakeGitHub, snapshots: Path, *, now: dt.datetime) -> PassOutcome:
    workspace = Workspace.open(str(fleet), branch="main")
    status = snapshot_status(taken_at(snapshots, now))
    return run_pass(workspace, status=status, writer=PullRequestWriter(pulls(fake)), now=now)


def capacity_freed(snapshots: Path, dest: Path) -> Path:
    """A copy of the snapshots where ray-pred's pending RayCluster is gone: nothing stuck."""
    shutil.copytree(snapshots, dest)
    onprem = dest / "onprem.yaml"
    data = yaml.safe_load(onprem.read_text())
    data["items"] = [
        item
        for item in data["items"]
        if item["metadata"].get("labels", {}).get("ray.io/cluster") != "ray-pred-m4q9z"
    ]
    onprem.write_text(yaml.safe_dump(data))
    return dest


def minutes(n: int) -> dt.datetime:
    return WHEN + dt.timedelta(minutes=n)


def test_a_pull_request_the_bot_withdrew_is_no_veto_when_the_group_is_stuck_again(
    fleet: Path, github: FakeGitHub, snapshots: Path, tmp_path: Path
) -> None:
    freed = capacity_freed(snapshots, tmp_path / "freed")
    stuck = one_pass(fleet, github, snapshots, now=minutes(0))
    assert [(r.group, r.action, r.number) for r in proposals(stuck)] == [("ray-pred", "opened", 1)]

    free = one_pass(fleet, github, freed, now=minutes(2))
    assert [(r.group, r.action, r.number) for r in withdrawals(free)] == [("ray-pred", "closed", 1)]

    again = one_pass(fleet, github, snapshots, now=minutes(4))
    ray = next(d for d in again.plan.decisions if d.group == "ray-pred")
    assert not any("vetoed" in c.detail for c in ray.candidates), ray.candidates
    assert (ray.action, ray.target) == ("move", "cloud")
    assert [(r.group, r.action, r.number) for r in proposals(again)] == [("ray-pred", "opened", 2)]
    assert github.pulls[2].state == "open" and github.pulls[2].head == "placement/ray-pred"
    assert "placement:withdrawn" in github.pulls[1].labels  # how the next passes know


def human_commits_to(fleet: Path, branch: str, *, tmp_path: Path) -> str:
    """A person pushes a commit of their own onto branch; its sha."""
    person = clone(fleet.parent / "remote.git", tmp_path / "person")
    git(person, "fetch", "--quiet", "origin", f"{branch}:{branch}")
    git(person, "switch", "--quiet", branch)
    sha = commit_file(person, "clusters/cloud/groups/ray-pred/NOTE.md", "wait\n", message="wait")
    git(person, "push", "--quiet", "origin", branch)
    return sha


def test_the_pass_that_sees_a_merge_deletes_the_bots_branch(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    one_pass(fleet, github, snapshots, now=minutes(0))
    github.merge(1)
    assert github.branch_sha(BRANCH) is not None  # GitHub's auto-delete is off here

    after = one_pass(fleet, github, snapshots, now=minutes(10))

    assert proposals(after) == () and len(github.pulls) == 1
    assert github.branch_sha(BRANCH) is None


def test_a_merged_branch_with_a_human_commit_is_kept(
    fleet: Path, github: FakeGitHub, snapshots: Path, tmp_path: Path
) -> None:
    one_pass(fleet, github, snapshots, now=minutes(0))
    human = human_commits_to(fleet, BRANCH, tmp_path=tmp_path)
    github.merge(1)

    one_pass(fleet, github, snapshots, now=minutes(10))

    assert github.branch_sha(BRANCH) == human


def test_a_pull_request_a_person_committed_to_is_left_open_when_no_longer_needed(
    fleet: Path, github: FakeGitHub, snapshots: Path, tmp_path: Path
) -> None:
    freed = capacity_freed(snapshots, tmp_path / "freed")
    one_pass(fleet, github, snapshots, now=minutes(0))
    human = human_commits_to(fleet, BRANCH, tmp_path=tmp_path)
    kept = one_pass(fleet, github, snapshots, now=minutes(2))
    assert [(r.action, r.number) for r in proposals(kept)] == [("left-alone", 1)]

    free = one_pass(fleet, github, freed, now=minutes(4))
    still = one_pass(fleet, github, freed, now=minutes(6))

    pull = github.pulls[1]
    assert pull.state == "open" and "placement:withdrawn" not in pull.labels
    assert github.branch_sha(BRANCH) == human
    assert [(r.group, r.action, r.number) for r in withdrawals(free)] == [
        ("ray-pred", "left-alone", 1)
    ]
    assert [(r.group, r.action, r.number) for r in withdrawals(still)] == [
        ("ray-pred", "left-alone", 1)
    ]
    [said] = pull.comments  # said once, not on every pass
    assert "no longer needed" in said and "Fleet Tester" in said
    assert "<!-- placement-reconciler:left-open -->" in said


def test_the_report_names_the_pull_request_left_alone_and_why(
    fleet: Path, github: FakeGitHub, snapshots: Path, tmp_path: Path
) -> None:
    freed = capacity_freed(snapshots, tmp_path / "freed")
    one_pass(fleet, github, snapshots, now=minutes(0))
    human_commits_to(fleet, BRANCH, tmp_path=tmp_path)
    url = f"{github.base_url}/org/fleet/pull/1"

    kept = io.StringIO()
    report_pass(one_pass(fleet, github, snapshots, now=minutes(2)), kept)
    left_open = io.StringIO()
    report_pass(one_pass(fleet, github, freed, now=minutes(4)), left_open)

    assert (
        f"ray-pred: pull request #1 {url} left alone: {BRANCH} has a commit by Fleet Tester "
        "(a person committed to it; the bot will not push over it)"
    ) in kept.getvalue().splitlines()
    assert (
        f"ray-pred: pull request #1 {url} left open: {BRANCH} has a commit by Fleet Tester "
        "(a person committed to it; the bot will not close it)"
    ) in left_open.getvalue().splitlines()


def test_a_merged_move_that_did_not_arrive_is_told_on_its_pull_request_once(
    fleet: Path, github: FakeGitHub, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: in pr mode the bot comments on the merged PR when the group did not arrive."""
    one_pass(fleet, github, snapshots, now=WHEN)
    (number,) = github.pulls
    monkeypatch.setenv("GIT_COMMITTER_DATE", WHEN.isoformat())  # the merge, on the fake's clock
    github.merge(number)
    late = WHEN + dt.timedelta(minutes=20)  # past arrivalDeadline; cloud has none of ray-pred

    first = one_pass(fleet, github, snapshots, now=late)
    again = one_pass(fleet, github, snapshots, now=late + dt.timedelta(minutes=10))

    ray = next(d for d in first.plan.decisions if d.group == "ray-pred")
    assert (ray.cluster, ray.state) == ("cloud", "not-arrived")
    told = [r for r in first.results if r.action == "told not arrived"]
    assert [(r.group, r.number) for r in told] == [("ray-pred", number)]
    comments = github.pulls[number].comments
    assert len(comments) == 1
    assert comments[0].startswith("ray-pred has not arrived on cloud since this was merged: ")
    assert "no object of ray-pred seen on cloud" in comments[0]
    assert not [r for r in again.results if r.action == "told not arrived"]
    assert len(github.pulls[number].comments) == 1
