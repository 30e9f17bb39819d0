"""SIGKILL at each step of a move, then run again: one correct result, and a usable clone.

A child process (`pass_worker` with `crash_at`) runs one pass over its own clone of the
fleet's bare remote and kills itself at the named step (see
`pass_worker.CRASH_POINTS`; the step's function is wrapped in that child only, nothing
in the package changes). The next pass, in a fresh process, must converge: exactly one
move commit (direct) or exactly one labelled pull request (pr), no group half-moved at
any commit, the clone clean at origin's tip, and a further pass changes nothing.

A move writes its commit off to the side, pushes it, moves the local branch, and only
then changes the working tree, so "after the working-tree change" is the last step
of a direct move. pr mode never touches the working tree.
"""

from __future__ import annotations

import datetime as dt
import io
import signal
from collections import Counter
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.demo import DEMO_DIR, build_fleet_repo
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.outcome import PassOutcome
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import DirectWriter, PullRequestWriter
from tests.fakes.github_server import FakeGitHub
from tests.reconcile.github_fleet import pulls

from .contention import NOW, WHEN, git, group_cluster, half_moved
from .pass_worker import CRASH_POINTS
from .workers import finish, start_worker

TOKEN = "ghp_CRASHSAFETYtoken0123456789abcdef"
SNAPSHOTS = DEMO_DIR / "snapshots"
DIRECT_POINTS = [p for p in CRASH_POINTS if p.startswith("direct:")]
PR_POINTS = [p for p in CRASH_POINTS if p.startswith("pr:")]


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    _, bare = build_fleet_repo(tmp_path / "fleet", when=WHEN - dt.timedelta(days=1))
    return bare


def crash(remote: Path, clone: Path, point: str, **extra: str) -> None:
    """Run one pass in a child that SIGKILLs itself at point; it must have died there."""
    options = {
        "mode": point.split(":")[0],
        "repo": f"file://{remote}",
        "workdir": str(clone),
        "snapshots": str(SNAPSHOTS),
        "now": NOW,
        "passes": 1,
        "crash_at": point,
        **extra,
    }
    code, records, err = finish(start_worker(options))
    assert code == -signal.SIGKILL, f"the child did not die at {point}: {code}\n{err[-3000:]}"
    assert records == []


def move_commits(remote: Path, ref: str) -> Counter[str]:
    log = git(remote, "log", ref, "--format=%(trailers:key=Placement-Group,valueonly)")
    return Counter(line.strip() for line in log.splitlines() if line.strip())


def assert_clone_follows(clone: Path, remote: Path) -> None:
    assert git(clone, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    assert not journal_of(clone).exists()
    assert not (clone / ".git" / "index.lock").exists()


def journal_of(clone: Path) -> Path:
    return clone / git(clone, "rev-parse", "--git-path", "placement-reconciler-move")


def assert_died_at(point: str, *, remote: Path, clone: Path, fake: FakeGitHub | None) -> None:
    """What the kill left behind is what that step implies (the test kills where it says)."""
    pushed = move_commits(remote, "main") == Counter({"ray-pred": 1})
    local_files_moved = (clone / "clusters/cloud/groups/ray-pred").is_dir()
    if point.startswith("direct:"):
        local_moved = git(clone, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
        expected = {
            "direct:after-commit": (False, False, False, False),
            "direct:after-push": (True, False, False, False),
            "direct:after-branch-moved": (True, True, True, False),
            "direct:after-working-tree": (True, True, True, True),
        }[point]
        seen = (pushed, local_moved and pushed, journal_of(clone).exists(), local_files_moved)
        assert seen == expected, (point, seen)
        return
    assert fake is not None and not pushed and not local_files_moved
    branch = fake.branch_sha("placement/ray-pred") is not None
    labels = [set(p.labels) for p in fake.pulls.values()]
    expected_pr = {
        "pr:after-commit": (False, []),
        "pr:after-push": (True, []),
        "pr:after-pr-created": (True, [set()]),
        "pr:after-labels": (True, [{"placement", "placement:upgrade-stalled"}]),
    }[point]
    assert (branch, labels) == expected_pr, (point, branch, labels)


@pytest.mark.parametrize("point", [*DIRECT_POINTS, "direct:git-killed-mid-checkout"])
def test_direct_mode_converges_after_a_kill(remote: Path, tmp_path: Path, point: str) -> None:
    clone = tmp_path / "clone"
    if point == "direct:git-killed-mid-checkout":
        # git itself died mid read-tree (power cut): its index.lock stays behind too.
        crash(remote, clone, "direct:after-branch-moved")
        (clone / ".git" / "index.lock").write_text("")
    else:
        crash(remote, clone, point)
        assert_died_at(point, remote=remote, clone=clone, fake=None)

    out = io.StringIO()
    args = ["run", "--once", "--mode", "direct", "--repo", f"file://{remote}"]
    args += ["--workdir", str(clone), "--status", str(SNAPSHOTS), "--now", NOW]
    assert main(args, out=out) == 0, out.getvalue()

    assert move_commits(remote, "main") == Counter({"ray-pred": 1})
    assert half_moved(remote, "main") == []
    assert group_cluster(remote, "main")["ray-pred"] == "cloud"
    assert_clone_follows(clone, remote)
    # A further pass finds nothing to do.
    workspace = Workspace.open(f"file://{remote}", branch="main", workdir=clone)
    later = WHEN + dt.timedelta(minutes=1)
    status = snapshot_status(SNAPSHOTS)
    again = run_pass(workspace, status=status, writer=DirectWriter(), now=later)
    assert again.results == ()
    assert move_commits(remote, "main") == Counter({"ray-pred": 1})


def pr_pass(remote: Path, clone: Path, fake: FakeGitHub) -> PassOutcome:
    workspace = Workspace.open(f"file://{remote}", branch="main", workdir=clone)
    status = snapshot_status(SNAPSHOTS)
    writer = PullRequestWriter(pulls(fake, token=TOKEN))
    return run_pass(workspace, status=status, writer=writer, now=WHEN)


@pytest.mark.parametrize("point", PR_POINTS)
def test_pr_mode_converges_after_a_kill(
    remote: Path, github: FakeGitHub, tmp_path: Path, point: str
) -> None:
    clone = tmp_path / "clone"
    crash(remote, clone, point, base_url=github.base_url, token=TOKEN)
    assert_died_at(point, remote=remote, clone=clone, fake=github)

    outcome = pr_pass(remote, clone, github)

    assert outcome.failed == ()
    assert outcome.mode == "pr"
    assert [(r.group, r.action, r.withdrawal) for r in outcome.results] in (
        [("ray-pred", "opened", False)],
        [("ray-pred", "updated", False)],  # the PR was open: labels or evidence completed
        [("ray-pred", "unchanged", False)],  # the crash came after the last write
    )
    (pull,) = github.pulls.values()
    assert pull.state == "open" and pull.head == "placement/ray-pred"
    assert {"placement", "placement:upgrade-stalled"} <= set(pull.labels)
    tip = github.branch_sha("placement/ray-pred")
    assert tip is not None
    assert git(remote, "rev-list", "--count", f"main..{tip}") == "1"
    assert move_commits(remote, tip) == Counter({"ray-pred": 1})
    assert half_moved(remote, tip) == []
    assert move_commits(remote, "main") == Counter()
    assert_clone_follows(clone, remote)
    # A further pass changes nothing, and never opens a second pull request.
    again = pr_pass(remote, clone, github)
    assert [(r.group, r.action, r.withdrawal) for r in again.results] == [
        ("ray-pred", "unchanged", False)
    ]
    assert len(github.pulls) == 1 and github.branch_sha("placement/ray-pred") == tip
