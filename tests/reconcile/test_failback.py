"""Failback across passes on the demo: ray-pred goes to cloud, then comes home to onprem.

Hysteresis: no move on the first pass where home fits with margin, a move on the second,
none within the cooldown. The later snapshots are the demo's, after the relocation: the
old RayClusters pruned from onprem and its 8-CPU build pod finished.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main
from reconciler.gitrepo.history import read_moves
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all, git, taken_at

GONE = ("ray-pred-", "buildkitd-")


@pytest.fixture
def later(snapshots: Path, tmp_path: Path) -> Path:
    """Snapshots of the fleet after the relocation: onprem has room again."""
    out = tmp_path / "later"
    out.mkdir()
    for name in ("onprem", "cloud"):
        data = yaml.safe_load((snapshots / f"{name}.yaml").read_text())
        data["items"] = [
            item
            for item in data["items"]
            if not item["metadata"]["name"].startswith(GONE) and item["kind"] != "RayService"
        ]
        (out / f"{name}.yaml").write_text(yaml.safe_dump(data))
    return out


def run(fleet: Path, status: Path, now: str) -> tuple[int, str]:
    out = io.StringIO()
    taken_at(status, now)
    code = main(
        ["run", "--repo", str(fleet), "--status", str(status), "--now", now, "--mode", "direct"],
        out=out,
    )
    return code, out.getvalue()


def at(offset: dt.timedelta) -> str:
    """A time relative to the real clock: move commits carry real committer dates."""
    return (dt.datetime.now(dt.UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def relocate_with_failback(fleet: Path, snapshots: Path) -> None:
    policy = fleet / "clusters/onprem/groups/ray-pred/placement.yaml"
    policy.write_text("failback: true  # come home to onprem when it has room again\n")
    commit_all(fleet, "ray-pred: fail back to onprem")
    code, output = run(fleet, snapshots, NOW)
    assert code == 0 and "ray-pred: committed" in output
    assert (fleet / "clusters/cloud/groups/ray-pred/placement.yaml").is_file()


def test_failback_waits_for_two_passes_then_moves_home(
    fleet: Path, snapshots: Path, later: Path
) -> None:
    relocate_with_failback(fleet, snapshots)
    code, first = run(fleet, later, at(dt.timedelta(hours=1)))
    assert code == 0
    assert "onprem has fitted on 1 pass(es) in a row; failback waits for 2" in first
    assert (fleet / "clusters/cloud/groups/ray-pred").is_dir()
    code, second = run(fleet, later, at(dt.timedelta(hours=1, minutes=1)))
    assert code == 0 and "ray-pred: committed" in second
    assert (fleet / "clusters/onprem/groups/ray-pred").is_dir()
    moves = [(r.source, r.target, r.reason) for r in read_moves(fleet)]
    assert moves == [("onprem", "cloud", "upgrade-stalled"), ("cloud", "onprem", "failback")]
    message = git(fleet, "log", "-1", "--format=%B")
    assert "away from its home onprem, which fits it again" in message
    assert "Placement-Reason: failback" in message


def test_a_pass_where_home_does_not_fit_resets_the_count(
    fleet: Path, snapshots: Path, later: Path
) -> None:
    relocate_with_failback(fleet, snapshots)
    run(fleet, later, at(dt.timedelta(hours=1)))
    run(fleet, snapshots, at(dt.timedelta(hours=1, minutes=1)))  # onprem full again
    code, output = run(fleet, later, at(dt.timedelta(hours=1, minutes=2)))
    assert code == 0
    assert "fitted on 1 pass(es) in a row" in output
    assert (fleet / "clusters/cloud/groups/ray-pred").is_dir()


def test_no_failback_within_the_cooldown(fleet: Path, snapshots: Path, later: Path) -> None:
    relocate_with_failback(fleet, snapshots)
    for minute in (1, 2, 3):
        code, output = run(fleet, later, at(dt.timedelta(minutes=minute)))
        assert code == 0
    assert "cooldown until" in output
    assert (fleet / "clusters/cloud/groups/ray-pred").is_dir()


def test_plan_shows_the_home_fit_without_counting_a_pass(
    fleet: Path, snapshots: Path, later: Path
) -> None:
    relocate_with_failback(fleet, snapshots)
    for _ in range(3):  # plan writes nothing, not even the failback count
        out = io.StringIO()
        taken_at(later, at(dt.timedelta(hours=1)))
        main(
            [
                "plan",
                "--repo",
                str(fleet),
                "--status",
                str(later),
                "--now",
                at(dt.timedelta(hours=1)),
                "-o",
                "json",
            ],
            out=out,
        )
    ray = next(d for d in json.loads(out.getvalue())["decisions"] if d["group"] == "ray-pred")
    assert ray["action"] == "stay"
    assert ray["candidates"][0]["detail"].startswith("fits with a 20% margin")
