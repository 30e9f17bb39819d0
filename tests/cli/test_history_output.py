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
