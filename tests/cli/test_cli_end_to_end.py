"""The command line on real git repos and the shipped snapshots: the seed's relocation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import git


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_demo_moves_the_stalled_ray_service_to_cloud_and_shows_history(tmp_path: Path) -> None:
    code, output = run_cli("demo", "--workdir", str(tmp_path / "demo"))
    assert code == 0
    fleet = tmp_path / "demo" / "fleet"
    assert (fleet / "clusters/cloud/groups/ray-pred/rayservice.yaml").is_file()
    assert not (fleet / "clusters/onprem/groups/ray-pred").exists()
    assert "upgrade stalled" in output
    assert "placement: move ray-pred from onprem to cloud" in output
    assert "Placement-Reason: upgrade-stalled" in output
    assert "skipCapacityRelocate is set" in output  # batch-etl reported, not moved
    assert f"The fleet repo is at {fleet}" in output
    remote_head = git(tmp_path / "demo" / "remote.git", "rev-parse", "main")
    assert remote_head == git(fleet, "rev-parse", "HEAD")


def test_plan_json_explains_the_move_and_the_held_back_group(fleet: Path, snapshots: Path) -> None:
    code, output = run_cli(
        "plan", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "-o", "json"
    )
    assert code == 0
    plan = json.loads(output)
    decisions = {d["group"]: d for d in plan["decisions"]}
    assert decisions["ray-pred"]["action"] == "move"
    assert decisions["ray-pred"]["target"] == "cloud"
    assert decisions["ray-pred"]["state"] == "upgrade-stalled"
    assert len(decisions["ray-pred"]["stuckPods"]) == 3
    assert decisions["ray-pred"]["demand"]["total"]["cpu"] == "14.5"
    assert decisions["batch-etl"]["action"] == "report"
    assert any("skipCapacityRelocate" in g for g in decisions["batch-etl"]["guards"])
    assert decisions["web-frontend"]["action"] == "stay"
    assert git(fleet, "status", "--porcelain") == ""


def test_plan_before_the_grace_period_moves_nothing(fleet: Path, snapshots: Path) -> None:
    code, output = run_cli(
        "plan", "--repo", str(fleet), "--status", str(snapshots), "--now", "2026-11-28T12:02:00Z"
    )
    assert code == 0
    assert "0 moves decided." in output
    assert "within the 5m grace period" in output


def test_dry_run_prints_the_diff_and_writes_nothing(fleet: Path, snapshots: Path) -> None:
    before = git(fleet, "rev-parse", "HEAD")
    code, output = run_cli(
        "run", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "--mode", "dry-run"
    )
    assert code == 0
    assert "dry-run: nothing written" in output
    assert "clusters/{onprem => cloud}/groups/ray-pred" in output or "ray-pred" in output
    assert git(fleet, "rev-parse", "HEAD") == before
    assert git(fleet, "status", "--porcelain") == ""


def test_direct_run_commits_once_and_the_second_pass_does_not_move_again(
    fleet: Path, snapshots: Path
) -> None:
    code, output = run_cli(
        "run",
        "--repo",
        str(fleet),
        "--status",
        str(snapshots),
        "--now",
        NOW,
        "--mode",
        "direct",
        "--once",
    )
    assert code == 0, output
    assert "ray-pred: committed and pushed" in output
    subject = git(fleet, "log", "-1", "--format=%s")
    assert subject == "placement: move ray-pred from onprem to cloud"
    listing = (fleet / "clusters/cloud/groups/kustomization.yaml").read_text()
    assert "- ray-pred" in listing
    assert "# Groups placed on this cluster" in listing
    assert "ray-pred" not in (fleet / "clusters/onprem/groups/kustomization.yaml").read_text()
    head = git(fleet, "rev-parse", "HEAD")
    code, output = run_cli(
        "run", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "--mode", "direct"
    )
    assert code == 0
    assert git(fleet, "rev-parse", "HEAD") == head
    assert "0 moves decided." in output


def test_history_and_status_read_the_move_back_from_git(fleet: Path, snapshots: Path) -> None:
    run_cli(
        "run", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "--mode", "direct"
    )
    code, output = run_cli("history", "--repo", str(fleet), "ray-pred")
    assert code == 0
    assert "ray-pred" in output and "onprem" in output and "cloud" in output
    assert "upgrade-stalled" in output
    code, output = run_cli("history", "--repo", str(fleet), "web-frontend")
    assert "no placement moves in the history of web-frontend" in output
    code, output = run_cli("status", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW)
    assert code == 0
    row = next(line for line in output.splitlines() if line.startswith("ray-pred"))
    assert "cloud" in row and "from onprem" in row


def test_repo_as_clone_url_is_cloned_into_the_workdir(
    fleet: Path, snapshots: Path, tmp_path: Path
) -> None:
    remote = fleet.parent / "remote.git"
    code, output = run_cli(
        "run",
        "--repo",
        remote.as_uri(),
        "--workdir",
        str(tmp_path / "wd"),
        "--status",
        str(snapshots),
        "--now",
        NOW,
        "--mode",
        "direct",
    )
    assert code == 0, output
    assert git(remote, "log", "-1", "--format=%s", "main") == (
        "placement: move ray-pred from onprem to cloud"
    )


def test_a_cluster_without_snapshot_is_unknown_and_never_a_target(
    fleet: Path, snapshots: Path
) -> None:
    (snapshots / "cloud.yaml").unlink()
    code, output = run_cli(
        "plan", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "-o", "json"
    )
    assert code == 0
    plan = json.loads(output)
    cloud = next(c for c in plan["clusters"] if c["name"] == "cloud")
    assert cloud["known"] is False and "no snapshot file" in cloud["reason"]
    decisions = {d["group"]: d for d in plan["decisions"]}
    assert decisions["ray-pred"]["action"] == "report"
    assert decisions["web-frontend"]["state"] == "unknown"
    assert all(
        c["cluster"] != "cloud" or not c["fits"] for c in decisions["ray-pred"]["candidates"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--now", "yesterday"], "--now: 'yesterday' is not an ISO 8601 time"),
        (["plan", "--status", "/nonexistent"], "neither 'live' nor a directory"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    fleet: Path, snapshots: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    full = [args[0], "--repo", str(fleet), *args[1:]]
    if "--status" not in args:
        full += ["--status", str(snapshots)]
    code, _ = run_cli(*full)
    assert code == 2
    assert message in capsys.readouterr().err


def test_explain_tells_one_group_in_full(fleet: Path, snapshots: Path) -> None:
    code, output = run_cli(
        "explain", "ray-pred", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW
    )
    assert code == 0
    assert "decision:  MOVE: upgrade stalled on onprem; move to cloud" in output
    assert "2 x prediction/ray-pred cpu-workers worker: 6 CPU, 24Gi memory" in output
    assert "cloud (candidate): fits" in output


def test_explain_an_unknown_group_is_a_usage_error(
    fleet: Path, snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli("explain", "nope", "--repo", str(fleet), "--status", str(snapshots))
    assert code == 2
    assert "no group 'nope' in the fleet repo (groups: batch-etl, ray-pred, web-frontend)" in (
        capsys.readouterr().err
    )


def test_schema_prints_both_json_schemas() -> None:
    code, output = run_cli("schema")
    assert code == 0
    assert "skipCapacityRelocate" in output and "clusters" in output


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        ("failback", ["failback waits for 2", "ray-pred: cloud -> onprem (failback)"]),
        (
            "make-before-break",
            [
                "waiting for the copy to turn healthy",
                "placement: move ray-pred from onprem to cloud (make-before-break 2/2)",
            ],
        ),
    ],
)
def test_demo_stories_run_several_passes(story: str, expected: list[str], tmp_path: Path) -> None:
    code, output = run_cli("demo", "--story", story, "--workdir", str(tmp_path / story))
    assert code == 0, output
    for text in expected:
        assert text in output
