"""Make-before-break across passes on the demo: copy to cloud, wait, then finish or revert.

Phase one puts ray-pred under cloud next to onprem (both copies marked moveInProgress);
while the copy is not healthy the reconciler waits; once every pod of the copy is Running
and Ready and its RayService Ready, phase two removes onprem's copy. If the copy does not
turn healthy within healthyDeadline (30m), the copy is reverted instead.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.demo.stories import copy_on_cloud, write_snapshots
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all, git, taken_at

START = dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))
GROUP = "clusters/{}/groups/ray-pred"


def at(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(fleet: Path, status: Path, now: str) -> str:
    out = io.StringIO()
    taken_at(status, now)
    code = main(
        ["run", "--repo", str(fleet), "--status", str(status), "--now", now, "--mode", "direct"],
        out=out,
    )
    assert code == 0, out.getvalue()
    return out.getvalue()


def ray_copy_on_cloud(snapshots: Path, *, ready: bool) -> Path:
    """Snapshots with ray-pred's copy running on cloud (Ready or not), as the demo story has."""
    out = snapshots.parent / ("healthy" if ready else "starting")
    return write_snapshots(
        snapshots, out, delta=dt.timedelta(0), taken=START, transform=copy_on_cloud, ready=ready
    )


@pytest.fixture
def copied(fleet: Path, snapshots: Path) -> Path:
    """Phase one done: ray-pred (strategy make-before-break) copied to cloud."""
    policy = fleet / GROUP.format("onprem") / "placement.yaml"
    policy.write_text("strategy: make-before-break  # we have a global service (Cluster Mesh)\n")
    commit_all(fleet, "ray-pred: relocate without downtime")
    run(fleet, snapshots, NOW)
    subject = git(fleet, "log", "-1", "--format=%s")
    assert subject == "placement: copy ray-pred to cloud (make-before-break 1/2, from onprem)"
    assert (fleet / GROUP.format("onprem")).is_dir() and (fleet / GROUP.format("cloud")).is_dir()
    marker = (fleet / GROUP.format("cloud") / "placement.yaml").read_text()
    assert "moveInProgress: {from: onprem, to: cloud, started: '2026-11-28T12:10:00Z'}" in marker
    assert "Placement-Phase: copy" in git(fleet, "log", "-1", "--format=%B")
    return fleet


def test_waits_while_the_copy_is_not_healthy_then_finishes(copied: Path, snapshots: Path) -> None:
    waiting = run(copied, ray_copy_on_cloud(snapshots, ready=False), at(5))
    assert "copy on cloud: waiting for the copy to turn healthy until 12:40Z" in waiting
    assert "0/3 pods ready; RayService ray-pred not Ready" in waiting
    assert (copied / GROUP.format("onprem")).is_dir()
    run(copied, ray_copy_on_cloud(snapshots, ready=True), at(8))
    subject = git(copied, "log", "-1", "--format=%s")
    assert subject == "placement: move ray-pred from onprem to cloud (make-before-break 2/2)"
    assert not (copied / GROUP.format("onprem")).exists()
    assert not (copied / GROUP.format("cloud") / "placement.yaml").read_text().count("moveIn")
    assert "ray-pred" not in (copied / "clusters/onprem/groups/kustomization.yaml").read_text()
    assert "Placement-Phase: finish" in git(copied, "log", "-1", "--format=%B")
    out = io.StringIO()
    assert main(["validate", "--repo", str(copied)], out=out) == 0, out.getvalue()


def test_a_copy_not_healthy_by_the_deadline_is_reverted(copied: Path, snapshots: Path) -> None:
    run(copied, ray_copy_on_cloud(snapshots, ready=False), at(29))
    assert (copied / GROUP.format("cloud")).is_dir()
    run(copied, ray_copy_on_cloud(snapshots, ready=False), at(31))
    subject = git(copied, "log", "-1", "--format=%s")
    assert subject == "placement: revert the copy of ray-pred on cloud (not healthy in time)"
    assert not (copied / GROUP.format("cloud")).exists()
    assert (copied / GROUP.format("onprem")).is_dir()
    assert "moveInProgress" not in (copied / GROUP.format("onprem") / "placement.yaml").read_text()
    assert "Placement-Reason: unhealthy-target" in git(copied, "log", "-1", "--format=%B")


def test_validate_accepts_the_two_copies_only_while_marked(copied: Path) -> None:
    out = io.StringIO()
    assert main(["validate", "--repo", str(copied)], out=out) == 0, out.getvalue()
    policy = copied / GROUP.format("cloud") / "placement.yaml"
    policy.write_text("strategy: make-before-break\n")
    out = io.StringIO()
    assert main(["validate", "--repo", str(copied)], out=out) == 1
    assert "is under several clusters (cloud, onprem)" in out.getvalue()
