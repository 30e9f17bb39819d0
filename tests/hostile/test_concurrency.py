"""K reconcilers x M passes on one fleet repo (and one GitHub): no duplicate, loss or half move.

Each process has its own clone of the same bare remote. Four groups are stuck and every
process decides the same four moves at the same moment, so they race on each one. Then:
every group moved exactly once (direct) or has exactly one pull request (pr); every
commit a process reported is on origin or was superseded by the same change; and at
every commit of main and of each placement/* branch each group sits in exactly one
cluster and is listed in exactly that cluster's groups/kustomization.yaml.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fakes.github_server import FakeGitHub

from .contention import (
    EXTRA_GROUPS,
    NOW,
    build_contentious_fleet,
    git,
    group_cluster,
    half_moved,
)
from .workers import run_cli, run_together

K = 3  # reconciler processes
M = 3  # passes each
MOVED = {*EXTRA_GROUPS, "ray-pred"}
TOKEN = "ghp_CONCURRENCYtoken0123456789abcdef"


@pytest.fixture
def contended(tmp_path: Path) -> tuple[Path, Path]:
    """The bare remote and the snapshots of the contentious fleet."""
    _, remote, snapshots = build_contentious_fleet(tmp_path / "fleet")
    return remote, snapshots


def moves_on(remote: Path, ref: str) -> Counter[str]:
    """How many commits of ref move each group (by their Placement-Group trailer)."""
    log = git(remote, "log", ref, "--format=%(trailers:key=Placement-Group,valueonly)")
    return Counter(line.strip() for line in log.splitlines() if line.strip())


def assert_final_placement(remote: Path, ref: str) -> None:
    where = group_cluster(remote, ref)
    assert {group for group, cluster in where.items() if cluster == "cloud"} == {
        *MOVED,
        "web-frontend",
    }
    assert where["batch-etl"] == "onprem"


def test_k_reconcilers_in_direct_mode_move_each_group_once(
    contended: tuple[Path, Path], tmp_path: Path
) -> None:
    remote, snapshots = contended

    def reconciler(index: int) -> list[tuple[int, str]]:
        runs = []
        for _ in range(M):
            done = run_cli(
                [
                    "run",
                    "--once",
                    "--mode",
                    "direct",
                    "--repo",
                    f"file://{remote}",
                    "--workdir",
                    str(tmp_path / f"clone-{index}"),
                    "--status",
                    str(snapshots),
                    "--now",
                    NOW,
                ]
            )
            runs.append((done.returncode, done.stdout + done.stderr))
        return runs

    with ThreadPoolExecutor(max_workers=K) as pool:
        runs = [run for runs in pool.map(reconciler, range(K)) for run in runs]

    assert len(runs) == K * M
    for code, output in runs:
        assert code == 0, output[-2000:]
    reported = [
        sha for _, output in runs for sha in re.findall(r"pushed as ([0-9a-f]{12})", output)
    ]
    assert len(reported) >= len(MOVED)
    # No lost commit: everything a process said it pushed is on origin's main.
    main = git(remote, "rev-parse", "main")
    for short in reported:
        full = git(remote, "rev-parse", "--verify", f"{short}^{{commit}}")
        git(remote, "merge-base", "--is-ancestor", full, main)  # raises unless an ancestor
    # No duplicate: each group moved by exactly one commit.
    assert moves_on(remote, "main") == Counter(dict.fromkeys(MOVED, 1))
    assert half_moved(remote, "main") == []
    assert_final_placement(remote, "main")
    # Every clone followed: clean and at origin's tip.
    for index in range(K):
        clone = tmp_path / f"clone-{index}"
        assert git(clone, "rev-parse", "HEAD") == main
        assert git(clone, "status", "--porcelain") == ""


@pytest.fixture
def remote(contended: tuple[Path, Path]) -> Path:
    """The contended fleet's bare remote (the fake GitHub of hostile/conftest.py serves it)."""
    return contended[0]


def test_k_reconcilers_in_pr_mode_open_one_pull_request_per_group(
    contended: tuple[Path, Path], github: FakeGitHub, tmp_path: Path
) -> None:
    remote, snapshots = contended
    options = [
        {
            "mode": "pr",
            "repo": f"file://{remote}",
            "workdir": str(tmp_path / f"clone-{index}"),
            "snapshots": str(snapshots),
            "now": NOW,
            "passes": M,
            "base_url": github.base_url,
            "token": TOKEN,
        }
        for index in range(K)
    ]
    # The first look-ups for an open pull request meet before any answer: all K see
    # none and all try to open one, so the "already exists" race surely happens.
    github.hold_open_lookups(K)

    finished = run_together(options, scratch=tmp_path)

    for code, records, err in finished:
        assert code == 0, err[-3000:]
        assert len(records) == M, err[-3000:]
    records = [record for _, passes, _ in finished for record in passes]
    failures = [p for r in records for p in r["proposals"] + r["withdrawals"] if p[1] == "failed"]
    assert failures == []
    # No duplicate: exactly one pull request per moved group, all open, none withdrawn.
    heads = sorted(pull.head for pull in github.pulls.values())
    assert heads == sorted(f"placement/{group}" for group in MOVED)
    assert all(pull.state == "open" for pull in github.pulls.values())
    assert all(r["withdrawals"] == [] for r in records)
    creations = Counter(r.status for r in github.requests_to("POST", r".*/pulls"))
    assert creations[201] == len(MOVED) and creations[422] >= 1, creations
    actions = Counter(p[1] for r in records for p in r["proposals"])
    assert actions["opened"] == len(MOVED) and actions["adopted"] >= 1, actions
    # main itself is untouched until a human merges.
    assert moves_on(remote, "main") == Counter()
    for pull in github.pulls.values():
        tip = github.branch_sha(pull.head)
        assert tip is not None
        # The branch holds exactly one move commit, of its group, on main's tip.
        assert git(remote, "rev-list", "--count", f"main..{tip}") == "1"
        assert moves_on(remote, tip) == Counter({pull.head.removeprefix("placement/"): 1})
        assert half_moved(remote, tip) == []
        assert {"placement", f"placement:{pull.body.split('reason=')[1].split()[0]}"} <= set(
            pull.labels
        )
    # No lost commit: each one pushed is the branch tip or was replaced by the same change.
    pushed = [entry for record in records for entry in record["pushed"]]
    assert len(pushed) >= len(MOVED)
    for entry in pushed:
        tip = github.branch_sha(entry["branch"])
        assert tip is not None
        assert change_of(remote, entry["commit"]) == change_of(remote, tip)


def change_of(repo: Path, commit: str) -> str:
    """What a commit changes (renames detected), independent of its base and its date."""
    return git(repo, "diff", "--name-status", "-M", f"{commit}^", commit)


def test_a_reconciler_that_loses_the_race_to_the_same_move_reports_it_as_done(
    contended: tuple[Path, Path], tmp_path: Path
) -> None:
    from reconciler.gitrepo.workspace import Move, Workspace

    remote, _ = contended
    first, second = (
        Workspace.open(
            f"file://{remote}", branch="main", workdir=tmp_path / name, sleep=lambda _: None
        )
        for name in ("first", "second")
    )
    move = Move("api-alpha", "onprem", "cloud", "placement: move api-alpha\n")

    won = first.apply(move)
    # Built on the old tip (with its own evidence): its push loses, and origin has the move.
    lost = second.apply(dataclasses.replace(move, message="placement: move api-alpha (2)\n"))

    assert (won.error, won.pushed, won.already_moved) == ("", True, False)
    assert (lost.error, lost.commit, lost.already_moved) == ("", won.commit, True)
    assert second.head() == won.commit  # the loser's clone followed origin
    assert git(tmp_path / "second", "status", "--porcelain") == ""
    assert moves_on(remote, "main") == Counter()  # the message had no trailers
    assert git(remote, "rev-list", "--count", "main") == "3"
