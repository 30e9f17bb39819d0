"""`history` tells each step of a placement: when it reached the branch, in UTC."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fleet_repo import git, move_message, write_fleet


def test_make_before_break_steps_are_told_as_such_with_times_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    steps = [("copy", "2024-05-01T12:00:00+02:00"), ("revert", "2024-05-01T13:00:00+02:00")]
    for phase, when in steps:
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        message = move_message("ray-pred", "onprem", "cloud") + f"Placement-Phase: {phase}\n"
        git(fleet, "commit", "--allow-empty", "-q", "-m", message)
    out = io.StringIO()

    assert main(["history", "--repo", str(fleet)], out=out) == 0

    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["REACHED", "THE", "BRANCH"]
    assert lines[1].split()[:5] == ["2024-05-01T10:00Z", "ray-pred", "copy", "onprem", "cloud"]
    assert lines[2].split()[:5] == ["2024-05-01T11:00Z", "ray-pred", "revert", "onprem", "cloud"]


def make_before_break_then_back(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ray-pred copied to cloud and finished through pull request #7, then moved home."""
    git(fleet, "checkout", "-q", "-b", "placement/ray-pred")
    for phase, when in (("copy", "2024-05-01T12:00:00Z"), ("finish", "2024-05-01T12:30:00Z")):
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        message = move_message("ray-pred", "onprem", "cloud") + f"Placement-Phase: {phase}\n"
        git(fleet, "commit", "--allow-empty", "-q", "-m", message)
    git(fleet, "checkout", "-q", "main")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T13:00:00Z")
    merge = "Merge pull request #7 from org/placement/ray-pred"
    git(fleet, "merge", "-q", "--no-ff", "-m", merge, "placement/ray-pred")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-02T09:15:00Z")
    back = move_message("ray-pred", "cloud", "onprem", reason="failback")
    git(fleet, "commit", "--allow-empty", "-q", "-m", back)


def test_history_as_a_mermaid_timeline_draws_each_step_and_its_pull_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.mermaid_grammar import check_mermaid

    fleet = write_fleet(tmp_path / "fleet")
    make_before_break_then_back(fleet, monkeypatch)
    out = io.StringIO()

    assert main(["history", "--repo", str(fleet), "--format", "mermaid"], out=out) == 0

    timeline = out.getvalue()
    assert check_mermaid(timeline) == []
    lines = timeline.splitlines()
    assert lines[:3] == [
        "timeline",
        "    title Placement history (times in UTC)",
        "    section ray-pred",
    ]
    assert lines[3].startswith(
        "        2024-05-01 13h00 : copy (make-before-break 1/2) onprem → cloud"
    )
    assert lines[3].endswith(" : on onprem + cloud : pull request #7")
    assert lines[4].endswith(" : on cloud : pull request #7")  # the finish came in the same merge
    assert lines[5] == "        2024-05-02 09h15 : move cloud → onprem : failback : on onprem"


def test_history_json_holds_the_same_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    fleet = write_fleet(tmp_path / "fleet")
    make_before_break_then_back(fleet, monkeypatch)
    out = io.StringIO()

    assert main(["history", "--repo", str(fleet), "-o", "json", "ray-pred"], out=out) == 0

    [entry] = json.loads(out.getvalue())["groups"]
    steps = entry["steps"]
    assert entry["group"] == "ray-pred"
    assert [(s["step"], s["on"], s["pullRequest"]) for s in steps] == [
        ("copy", ["onprem", "cloud"], 7),
        ("finish", ["cloud"], 7),
        ("move", ["onprem"], None),
    ]
    assert steps[2]["reached"] == "2024-05-02T09:15:00Z"
