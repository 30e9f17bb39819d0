"""`status` and `explain` after ray-pred's move to cloud: arriving, landed, not arrived.

The move is committed by a real pass on the demo's fleet; the passes after it read
snapshots of the fleet later on: onprem without the old copy (pruned), and cloud without
ray-pred (nothing applied), with its copy Running and Ready, or with its pods unschedulable.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli.main import main
from reconciler.demo.stories import copy_on_cloud, later
from tests.fleet_repo import DEMO_NOW, taken_at

UNSCHEDULABLE = (
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def at(minutes: float) -> str:
    """A time after the move: move commits carry the real clock's date."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def unschedulable_on_cloud(items: list[dict[str, Any]], *, cluster: str) -> list[dict[str, Any]]:
    """cloud with ray-pred's objects applied but its pods pending: no node has room."""
    items = copy_on_cloud(items, cluster=cluster, ready=False)
    if cluster != "cloud":
        return items
    for item in items:
        if item["kind"] == "Pod" and item["metadata"]["name"].startswith("ray-pred-"):
            item["spec"].pop("nodeName")
            item["status"] = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": UNSCHEDULABLE,
                        "lastTransitionTime": at(-1),
                    }
                ],
            }
    return items


def fleet_later(snapshots: Path, target: Path, *, cloud: str) -> Path:
    """Snapshots after the move: the old copy pruned from onprem; cloud as asked."""
    target.mkdir()
    for name in ("onprem", "cloud"):
        data = yaml.safe_load((snapshots / f"{name}.yaml").read_text())
        items = later(data["items"], cluster=name)
        if cloud == "ready":
            items = copy_on_cloud(items, cluster=name, ready=True)
        elif cloud == "unschedulable":
            items = unschedulable_on_cloud(items, cluster=name)
        data["items"] = items
        (target / f"{name}.yaml").write_text(yaml.safe_dump(data))
    return target


@pytest.fixture
def moved(fleet: Path, snapshots: Path) -> Path:
    """The demo fleet after the pass that moved ray-pred from onprem to cloud."""
    taken_at(snapshots, DEMO_NOW)
    code, output = cli(
        "run", "--repo", str(fleet), "--status", str(snapshots), "--now", DEMO_NOW,
        "--mode", "direct",
    )  # fmt: skip
    assert code == 0 and "ray-pred: committed" in output
    return fleet


def look(fleet: Path, status: Path, when: str) -> tuple[str, str]:
    """What `status` and `explain ray-pred` print at `when`."""
    taken_at(status, when)
    common = ["--repo", str(fleet), "--status", str(status), "--now", when]
    code, shown = cli("status", *common)
    assert code == 0
    code, told = cli("explain", "ray-pred", *common)
    assert code == 0
    return shown, told


def row(status: str, group: str) -> list[str]:
    return next(line.split() for line in status.splitlines() if line.startswith(group + " "))


def test_ray_pred_is_arriving_then_landed_on_cloud(
    moved: Path, snapshots: Path, tmp_path: Path
) -> None:
    nothing = fleet_later(snapshots, tmp_path / "nothing", cloud="none")
    shown, told = look(moved, nothing, at(5))
    assert row(shown, "ray-pred")[:3] == ["ray-pred", "cloud", "arriving"]
    assert "ray-pred: arriving on cloud: moved 5m" in shown and "ago, given until" in shown
    assert "  no object of ray-pred seen on cloud: the GitOps engine has not applied" in shown
    assert "  state:     arriving" in told
    assert "decision:  REPORT: arriving on cloud" in told
    assert "  landing:   arriving; the move reached the branch at " in told
    assert "  evidence:  no object of ray-pred seen on cloud" in told
    assert "Guards:\n  it is arriving: not judged stuck on cloud before" in told

    ready = fleet_later(snapshots, tmp_path / "ready", cloud="ready")
    shown, told = look(moved, ready, at(8))
    assert row(shown, "ray-pred")[:3] == ["ray-pred", "cloud", "landed"]
    assert "ray-pred: " not in shown  # no evidence to show: it landed
    assert "decision:  STAY: landed on cloud: moved 8m" in told
    assert "ago, every pod seen there is scheduled" in told
    assert "  landing:   landed; the move reached the branch at " in told
    assert "evidence:" not in told


def test_ray_pred_has_not_arrived_past_the_deadline(
    moved: Path, snapshots: Path, tmp_path: Path
) -> None:
    nothing = fleet_later(snapshots, tmp_path / "nothing", cloud="none")
    shown, told = look(moved, nothing, at(20))
    assert row(shown, "ray-pred")[:3] == ["ray-pred", "cloud", "not-arrived"]
    assert "ray-pred: not arrived on cloud: moved 20m" in shown
    assert "ago, past the 15m arrival deadline" in shown
    assert "Argo CD's Application cloud-ray-pred" in shown
    assert "  state:     not-arrived" in told
    assert "Guards:\n  it has not arrived: not judged stuck on cloud before" in told

    pending = fleet_later(snapshots, tmp_path / "pending", cloud="unschedulable")
    shown, told = look(moved, pending, at(20))
    assert row(shown, "ray-pred")[:3] == ["ray-pred", "cloud", "not-arrived"]
    assert (
        "  3 pod(s) unschedulable on cloud (prediction/ray-pred-c10ud-head, "
        "prediction/ray-pred-c10ud-worker-a, prediction/ray-pred-c10ud-worker-b); the scheduler "
        "says: 0/3 nodes are available: 3 Insufficient cpu"
    ) in shown
    assert "  RayService prediction/ray-pred not Ready on cloud" in shown
    assert "  evidence:  3 pod(s) unschedulable on cloud" in told
