"""`check`: the pre-merge capacity check, on the demo fleet with a branch per change."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from github import Github, GithubRetry

from reconciler.cli import check as check_command
from reconciler.cli.main import main
from reconciler.github.credentials import GitHubCredential, github_client
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW, commit_all, git
from tests.reconcile.github_fleet import TOKEN, name_fake_github

RAY_SERVICE = "clusters/onprem/groups/ray-pred/rayservice.yaml"
WEB = "clusters/cloud/groups/web-frontend/deployment.yaml"


def branch(fleet: Path, name: str, edits: dict[str, tuple[str, str]]) -> str:
    """A branch off main with each file's text replaced (old -> new), committed."""
    git(fleet, "switch", "-q", "-c", name, "main")
    for path, (old, new) in edits.items():
        text = (fleet / path).read_text()
        assert old in text, f"{old!r} not in {path}"
        (fleet / path).write_text(text.replace(old, new))
    commit_all(fleet, f"change: {name}")
    git(fleet, "switch", "-q", "main")
    return name


def before_the_seed(fleet: Path) -> None:
    """main runs ray-pred's workers at 4 CPU / 16Gi, as before the seed's commit."""
    text = (fleet / RAY_SERVICE).read_text()
    (fleet / RAY_SERVICE).write_text(
        text.replace('cpu: "6"', 'cpu: "4"').replace("memory: 24Gi", "memory: 16Gi")
    )
    commit_all(fleet, "ray-pred: workers of 4 CPU / 16Gi")


def check(fleet: Path, head: str, status: Path, *more: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        [
            "check",
            "--repo",
            str(fleet),
            "--base",
            "main",
            "--head",
            head,
            "--status",
            str(status),
            "--now",
            DEMO_NOW,
            *more,
        ],
        out=out,
    )
    return code, out.getvalue()


def test_raising_the_ray_workers_will_stall_with_the_numbers(fleet: Path, snapshots: Path) -> None:
    before_the_seed(fleet)
    raised = branch(fleet, "raise", {RAY_SERVICE: ('cpu: "4"', 'cpu: "6"')})
    git(fleet, "switch", "-q", raised)
    text = (fleet / RAY_SERVICE).read_text().replace("memory: 16Gi", "memory: 24Gi")
    (fleet / RAY_SERVICE).write_text(text)
    commit_all(fleet, "ray-pred: 24Gi workers")
    git(fleet, "switch", "-q", "main")

    code, out = check(fleet, raised, snapshots)

    assert code == 1
    assert "ray-pred (changed, on onprem): WILL STALL" in out
    # The new RayCluster (head 2.5 CPU with the autoscaler, 2 workers of 6) beside the old one:
    # onprem has 2.4 + 1.8 CPU free, and the head needs 0.1 CPU more than the best node has.
    assert "the 3 new pod(s) need 14.5 CPU / 56.5Gi at once beside the 10.5 CPU / 40.5Gi" in out
    assert "onprem has 4.2 CPU / 53.17Gi free" in out
    assert "short 0.1 CPU on the best node (onprem-node-1)" in out
    assert "would move ray-pred to cloud (fits one copy" in out
    assert "or set skipCapacityRelocate to wait" in out


def test_a_rolling_update_that_has_room_fits(fleet: Path, snapshots: Path) -> None:
    head = branch(fleet, "web-3.9", {WEB: ("frontend:3.8.1", "frontend:3.9.0")})

    code, out = check(fleet, head, snapshots, "-o", "json")

    assert code == 0
    (web,) = json.loads(out)["groups"]
    assert (web["group"], web["verdict"]) == ("web-frontend", "fits")
    # 2 replicas, maxSurge 25% rounds up to 1, maxUnavailable 25% down to 0: one new pod.
    assert web["rollouts"][0]["newPods"] == 1
    assert web["surge"] == {"cpu": 1000, "memory": 2 * 2**30 * 1000}


def test_workers_no_node_can_hold_fit_nowhere(fleet: Path, snapshots: Path) -> None:
    head = branch(fleet, "huge", {RAY_SERVICE: ('cpu: "6"', 'cpu: "20"')})

    code, out = check(fleet, head, snapshots)

    assert code == 1
    assert "ray-pred (changed, on onprem): FITS NOWHERE" in out
    assert "cloud: short" in out


def test_a_change_to_no_group_has_nothing_to_check(fleet: Path, snapshots: Path) -> None:
    head = branch(fleet, "docs", {"README.md": ("#", "# (edited)\n#")})

    code, out = check(fleet, head, snapshots)

    assert (code, out.strip()) == (0, "no placement group changes: nothing to check")


def test_a_group_on_a_cluster_of_unknown_status_is_not_judged(fleet: Path, snapshots: Path) -> None:
    (snapshots / "onprem.yaml").unlink()
    head = branch(fleet, "huge", {RAY_SERVICE: ('cpu: "6"', 'cpu: "20"')})

    code, out = check(fleet, head, snapshots)

    assert code == 3  # nothing could be judged
    assert "ray-pred (changed, on onprem): UNKNOWN" in out
    assert "the status of onprem is unknown (no snapshot file onprem.yaml" in out
    assert check(fleet, head, snapshots, "--fail-on", "unknown")[0] == 1


def test_a_group_moved_by_hand_is_checked_where_it_lands(fleet: Path, snapshots: Path) -> None:
    git(fleet, "switch", "-q", "-c", "by-hand")
    git(fleet, "mv", "clusters/cloud/groups/web-frontend", "clusters/onprem/groups/web-frontend")
    for cluster, old, new in (
        ("cloud", "- web-frontend", ""),
        ("onprem", "- ray-pred", "- ray-pred\n  - web-frontend"),
    ):
        path = fleet / f"clusters/{cluster}/groups/kustomization.yaml"
        path.write_text(path.read_text().replace(old, new, 1))
    commit_all(fleet, "web-frontend: to onprem by hand")
    git(fleet, "switch", "-q", "main")

    code, out = check(fleet, "by-hand", snapshots, "-o", "json")

    (web,) = json.loads(out)["groups"]
    assert (web["change"], web["cluster"]) == ("moved by hand from cloud", "onprem")
    assert web["rollouts"][0]["why"] == "new: every pod is created"
    assert web["verdict"] == "fits" and code == 0


def test_on_a_pull_request_the_comment_is_updated_not_duplicated(
    fleet: Path, snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeGitHub(remote=fleet.parent / "remote.git", tokens=(TOKEN,)) as fake:
        name_fake_github(fleet, fake)
        before_the_seed(fleet)
        head = branch(fleet, "huge", {RAY_SERVICE: ('cpu: "4"', 'cpu: "20"')})
        number = fake.open_pull(head=head, title="ray-pred: bigger workers", body="")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setattr(check_command, "github_client", unpaced_client)

        codes = [check(fleet, head, snapshots, "--pr", str(number))[0] for _ in range(2)]

    assert codes == [1, 1]
    (comment,) = fake.pulls[number].comments
    assert "| `ray-pred` | changed | onprem | ❌ fits nowhere |" in comment
    sha = git(fleet, "rev-parse", head)
    assert [(s["sha"], s["state"]) for s in fake.statuses] == [(sha, "failure")] * 2
    assert fake.statuses[0]["description"] == "1 group(s): ray-pred fits nowhere"


def unpaced_client(credential: GitHubCredential, *, base_url: str) -> Github:
    """github_client without GitHub's pacing between writes: no real waiting in tests."""
    return github_client(
        credential,
        base_url=base_url,
        retry=GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def test_a_group_that_waits_for_capacity_is_told_it_will_not_be_moved(
    fleet: Path, snapshots: Path
) -> None:
    deployment = "clusters/onprem/groups/batch-etl/deployment.yaml"
    head = branch(fleet, "more-etl", {deployment: ("replicas: 3", "replicas: 4")})

    code, out = check(fleet, head, snapshots, "-o", "json")

    (etl,) = json.loads(out)["groups"]
    assert (etl["verdict"], code) == ("will stall", 1)
    assert etl["rollouts"][0]["newPods"] == 1  # scaled: only the fourth replica is new
    assert etl["afterMerge"].startswith("the reconciler would not move it (skipCapacityRelocate")


def test_a_removed_group_frees_its_room(fleet: Path, snapshots: Path) -> None:
    git(fleet, "switch", "-q", "-c", "retire-web")
    git(fleet, "rm", "-q", "-r", "clusters/cloud/groups/web-frontend")
    path = fleet / "clusters/cloud/groups/kustomization.yaml"
    path.write_text(path.read_text().replace("resources:\n  - web-frontend", "resources: []"))
    commit_all(fleet, "web-frontend: retired")
    git(fleet, "switch", "-q", "main")

    code, out = check(fleet, "retire-web", snapshots)

    assert code == 0
    assert "web-frontend (removed, on cloud): FITS" in out
