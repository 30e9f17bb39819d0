"""Make-before-break commits: copy, then finish or revert, each one atomic commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.gitrepo.move_commit import MoveRefused, build_move_commit
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Move
from tests.fleet_repo import git, isolate_git, tree_entries, write_fleet

STARTED = "2026-11-28T12:10:00Z"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(monkeypatch, tmp_path)
    return write_fleet(tmp_path / "fleet")


def phase(repo: Path, name: str, *, base: str = "HEAD") -> str:
    message = f"placement: {name} ray-pred\n\nPlacement-Group: ray-pred\n"
    move = Move("ray-pred", "onprem", "cloud", message, phase=name, started=STARTED)
    commit = build_move_commit(repo, move, base=git(repo, "rev-parse", base), author=DEFAULT_AUTHOR)
    git(repo, "update-ref", "refs/heads/main", commit)
    git(repo, "reset", "-q", "--hard")
    return commit


def listed(repo: Path, cluster: str) -> str:
    return (repo / f"clusters/{cluster}/groups/kustomization.yaml").read_text()


def test_copy_puts_the_group_under_both_clusters_with_the_marker(repo: Path) -> None:
    before = tree_entries(repo, "HEAD", "clusters/onprem/groups/ray-pred")
    phase(repo, "copy")
    source = repo / "clusters/onprem/groups/ray-pred"
    target = repo / "clusters/cloud/groups/ray-pred"
    assert source.is_dir() and target.is_dir()
    marker = "moveInProgress: {from: onprem, to: cloud, started: '2026-11-28T12:10:00Z'}"
    assert marker in (source / "placement.yaml").read_text()
    assert (target / "placement.yaml").read_text() == (source / "placement.yaml").read_text()
    copied = tree_entries(repo, "HEAD", "clusters/cloud/groups/ray-pred")
    same = {p.replace("onprem", "cloud"): v for p, v in before.items() if "placement" not in p}
    assert {p: v for p, v in copied.items() if "placement" not in p} == same
    assert "- ray-pred" in listed(repo, "cloud") and "- ray-pred" in listed(repo, "onprem")


def test_finish_removes_the_source_and_clears_the_marker(repo: Path) -> None:
    phase(repo, "copy")
    phase(repo, "finish")
    assert not (repo / "clusters/onprem/groups/ray-pred").exists()
    assert "ray-pred" not in listed(repo, "onprem")
    assert "- ray-pred" in listed(repo, "cloud")
    assert not (repo / "clusters/cloud/groups/ray-pred/placement.yaml").exists()


def test_revert_removes_the_target_and_clears_the_marker(repo: Path) -> None:
    phase(repo, "copy")
    phase(repo, "revert")
    assert not (repo / "clusters/cloud/groups/ray-pred").exists()
    assert "ray-pred" not in listed(repo, "cloud")
    assert (repo / "clusters/onprem/groups/ray-pred").is_dir()
    assert not (repo / "clusters/onprem/groups/ray-pred/placement.yaml").exists()


def test_the_marker_keeps_an_existing_policy_and_its_comments(repo: Path) -> None:
    policy = repo / "clusters/onprem/groups/ray-pred/placement.yaml"
    policy.write_text("# why: latency to on-prem data\nstrategy: make-before-break\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "policy")
    phase(repo, "copy")
    phase(repo, "finish")
    kept = (repo / "clusters/cloud/groups/ray-pred/placement.yaml").read_text()
    assert kept == "# why: latency to on-prem data\nstrategy: make-before-break\n"


@pytest.mark.parametrize(
    ("first", "then", "why"),
    [
        (None, "finish", "does not exist: no move in progress"),
        ("copy", "copy", "clusters/cloud/groups/ray-pred already exists"),
    ],
)
def test_phases_out_of_order_are_refused(
    repo: Path, first: str | None, then: str, why: str
) -> None:
    if first:
        phase(repo, first)
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(MoveRefused, match=why):
        phase(repo, then)
    assert git(repo, "rev-parse", "HEAD") == head
