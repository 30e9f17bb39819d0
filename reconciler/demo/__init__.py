"""The embedded default: the seed's stalled RayService upgrade, relocated offline in one pass.

Builds a fleet repo from repo-template in a temp dir (with a bare repo as its remote),
reads the shipped snapshots, runs one pass in direct mode, and shows the plan, the
commit and the placement history.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import TextIO

import yaml

from reconciler.gitrepo.history import read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.plan.explain import plan_text
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import DirectWriter

DEMO_DIR = Path(__file__).parent
IDENTITY = {
    "GIT_AUTHOR_NAME": "Platform Team",
    "GIT_AUTHOR_EMAIL": "platform@example.com",
    "GIT_COMMITTER_NAME": "Platform Team",
    "GIT_COMMITTER_EMAIL": "platform@example.com",
}


def template_dir() -> Path:
    """repo-template as shipped in the package, or beside it in a source checkout."""
    packaged = Path(str(resources.files("reconciler"))) / "repo_template"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "repo-template"


def build_fleet_repo(workdir: Path, *, when: dt.datetime) -> tuple[Path, Path]:
    """Copy repo-template into workdir/fleet as a git repo whose origin is workdir/remote.git."""
    fleet = workdir / "fleet"
    remote = workdir / "remote.git"
    shutil.copytree(template_dir(), fleet)
    env = {
        **os.environ,
        **IDENTITY,
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    run_git(["init", "-q", "--bare", "-b", "main", str(remote)], cwd=workdir, env=env)
    run_git(["init", "-q", "-b", "main"], cwd=fleet, env=env)
    run_git(["add", "-A"], cwd=fleet, env=env)
    run_git(["commit", "-q", "-m", "fleet: initial layout from repo-template"], cwd=fleet, env=env)
    run_git(["remote", "add", "origin", str(remote)], cwd=fleet, env=env)
    run_git(["push", "-q", "origin", "main"], cwd=fleet, env=env)
    run_git(["branch", "-q", "--set-upstream-to=origin/main", "main"], cwd=fleet, env=env)
    return fleet, remote


def run_demo(*, out: TextIO, workdir: Path | None = None, story: str = "relocate") -> int:
    """Run the demo end to end; 0 when the story ended as told (the relocation committed)."""
    scenario = yaml.safe_load((DEMO_DIR / "scenario.yaml").read_text(encoding="utf-8"))
    now = dt.datetime.fromisoformat(str(scenario["now"]).replace("Z", "+00:00"))
    if story == "check":
        from reconciler.demo.check_story import run_check_story

        return run_check_story(
            out=out,
            workdir=workdir,
            build=lambda base: build_fleet_repo(base, when=now - dt.timedelta(days=1)),
            demo_dir=DEMO_DIR,
            scenario_now=now,
        )
    if story != "relocate":
        from reconciler.demo.stories import run_story

        return run_story(
            story,
            out=out,
            workdir=workdir,
            build=lambda base: build_fleet_repo(base, when=now - dt.timedelta(days=1)),
            demo_dir=DEMO_DIR,
            scenario_now=now,
        )
    from reconciler.demo.stories import work_dir

    base = work_dir("demo", workdir)
    fleet, remote = build_fleet_repo(base, when=now - dt.timedelta(days=1))
    before = keep_before_the_move(fleet, base / "before-move")
    print("== The situation", file=out)
    print(str(scenario.get("story", "")).strip(), file=out)
    workspace = Workspace.open(str(fleet), branch="main")
    outcome = run_pass(
        workspace, status=snapshot_status(DEMO_DIR / "snapshots"), writer=DirectWriter(), now=now
    )
    print("\n== The plan (placement-reconciler plan)", file=out)
    print(plan_text(outcome.plan), file=out)
    print("\n== What was written", file=out)
    for result in outcome.results:
        if result.error:
            print(f"{result.group}: NOT written: {result.error}", file=out)
            continue
        print(
            run_git(
                [
                    "show",
                    "--stat",
                    "--format=commit %H%nAuthor: %an <%ae>%nDate:   %cI%n%n%B",
                    result.commit,
                ],
                cwd=fleet,
            ).rstrip(),
            file=out,
        )
    print("\n== Placement history (placement-reconciler history)", file=out)
    for record in read_moves(fleet):
        print(
            f"{record.reached}  {record.group}: {record.source} -> {record.target} "
            f"({', '.join(filter(None, (record.reason, record.phase)))}) {record.commit[:12]}",
            file=out,
        )
    print(f"\nThe fleet repo is at {fleet} (its remote: {remote}).", file=out)
    print(f"Look around: git -C {fleet} log --stat", file=out)
    snapshots = f"--status {DEMO_DIR / 'snapshots'} --now {scenario['now']}"
    print(f"Try: placement-reconciler plan --repo {fleet} {snapshots}", file=out)
    print(
        f"The fleet as it was before the move is at {before}. The pull request body that mode "
        "pr opens for the move, with its flowchart and capacity table, is what this prints:",
        file=out,
    )
    print(f"  placement-reconciler plan -o markdown --repo {before} {snapshots}", file=out)
    print(
        f"The moves as a Mermaid timeline: placement-reconciler history --repo {fleet} "
        "--format mermaid",
        file=out,
    )
    moved = [r for r in outcome.results if not r.error]
    return 0 if moved and not outcome.failed else 1


def keep_before_the_move(fleet: Path, copy: Path) -> Path:
    """A clone of the fleet repo as it is now, without a remote: it stays before the move."""
    run_git(["clone", "-q", "--no-hardlinks", str(fleet), str(copy)], cwd=fleet.parent)
    run_git(["remote", "remove", "origin"], cwd=copy)
    return copy


def run_git(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run git for the demo's own set-up (not the reconciler's writes); its stdout."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout
