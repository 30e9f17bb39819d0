"""plan, status and explain read what `run` reads: GitHub's memory (read only) and origin.

Issue 12 item 8: `plan` did not read GitHub, so a vetoed move showed as MOVE and a target
held by an open pull request looked free; and a push to main was not seen until a `run`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW, commit_all, git, taken_at
from tests.reconcile.github_fleet import TOKEN, WHEN
from tests.reconcile.test_pr_mode import one_pass


def cli(*args: str, snapshots: Path, now: dt.datetime = WHEN) -> tuple[int, str]:
    out = io.StringIO()
    status = str(taken_at(snapshots, now))
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    code = main([*args, "--status", status, "--now", stamp], out=out)
    return code, out.getvalue()


def ray_pred_line(plan_text: str) -> str:
    return next(line for line in plan_text.splitlines() if line.startswith("  ray-pred on"))


def test_plan_reads_the_veto_that_run_reads(
    fleet: Path, github: FakeGitHub, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    one_pass(fleet, github, snapshots)
    (number,) = github.pulls
    github.close(number)  # a person closes it without merging: a veto
    later = WHEN + dt.timedelta(hours=1)

    code, text = cli("plan", "--repo", str(fleet), snapshots=snapshots, now=later)

    assert code == 0
    assert "MOVE" not in ray_pred_line(text)
    assert f"pull request #{number} for this move was closed without merging" in text
    assert "note:" not in text
    code, offline = cli("plan", "--repo", str(fleet), "--offline", snapshots=snapshots, now=later)
    assert "MOVE" in ray_pred_line(offline)
    assert offline.rstrip().splitlines()[-1] == (
        "note: --offline: vetoes and open move pull requests were not considered"
    )


def test_plan_decides_what_the_next_run_decides_with_a_pull_request_open(
    fleet: Path, github: FakeGitHub, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    one_pass(fleet, github, snapshots)

    code, text = cli("plan", "--repo", str(fleet), "-o", "json", snapshots=snapshots)
    run = one_pass(fleet, github, snapshots)

    assert code == 0
    planned = [(d["group"], d["action"], d["target"] or "") for d in json.loads(text)["decisions"]]
    assert planned == [(d.group, d.action, d.target) for d in run.plan.decisions]
    assert len(github.pulls) == 1


def test_without_a_credential_the_commands_say_github_was_not_read(
    fleet: Path, github: FakeGitHub, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    for command in (["plan"], ["status"], ["explain", "ray-pred"]):
        code, text = cli(*command, "--repo", str(fleet), snapshots=snapshots)
        assert code == 0, text
        assert text.rstrip().splitlines()[-1] == (
            "note: no GitHub credential in the environment: vetoes and open move pull "
            "requests were not considered"
        ), command


def test_plan_fetches_first_and_sees_a_push_to_main(
    fleet: Path, snapshots: Path, tmp_path: Path
) -> None:
    """Another clone tells ray-pred to wait for capacity; plan must see it without a run."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(fleet.parent / "remote.git"), str(other))
    (other / "clusters/onprem/groups/ray-pred/placement.yaml").write_text(
        "skipCapacityRelocate: true\n"
    )
    commit_all(other, "ray-pred: wait for capacity on onprem")
    git(other, "push", "-q", "origin", "main")
    now = dt.datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))

    code, text = cli("plan", "--repo", str(fleet), snapshots=snapshots, now=now)

    assert code == 0
    assert "MOVE" not in ray_pred_line(text)
    assert "skipCapacityRelocate" in text
