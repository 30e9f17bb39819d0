"""Demo story "check": the seed's upgrade caught on its pull request, before the merge.

The demo fleet's main branch runs ray-pred as it was before the seed's upgrade (workers of
4 CPU / 16Gi); the branch raise-ray-pred raises them to 6 CPU / 24Gi, the seed's commit.
The clusters are the shipped snapshots as they were before that commit reached onprem
(no pending RayCluster yet). The check says the upgrade will stall, and why.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from reconciler.plan.check import WILL_STALL
from reconciler.plan.check_report import check_markdown, check_text
from reconciler.reconcile.pre_merge import check_refs
from reconciler.reconcile.status_source import snapshot_status

BRANCH = "raise-ray-pred"
RAY_SERVICE = "clusters/onprem/groups/ray-pred/rayservice.yaml"
_PENDING = "ray-pred-m4q9z"  # the RayCluster the seed's upgrade started


def before_upgrade(items: list[dict[str, Any]], *, cluster: str) -> list[dict[str, Any]]:
    """onprem before the seed's commit: no pending RayCluster, nor its pods."""
    kept = [i for i in items if not i["metadata"]["name"].startswith(_PENDING)]
    for item in kept:
        if item["kind"] == "RayService":
            status = item.get("status") or {}
            status.pop("pendingServiceStatus", None)
            status["conditions"] = [
                c for c in status.get("conditions") or () if c.get("type") != "UpgradeInProgress"
            ]
    return kept


def run_check_story(
    *,
    out: TextIO,
    workdir: Path | None,
    build: Callable[[Path], tuple[Path, Path]],
    demo_dir: Path,
    scenario_now: dt.datetime,
) -> int:
    """Build main and the raise-ray-pred branch, check the change; 0 when it will stall."""
    from reconciler.demo import IDENTITY, run_git
    from reconciler.demo.stories import work_dir, write_snapshots

    base = work_dir("check", workdir)
    fleet, _ = build(base)
    env = {**os.environ, **IDENTITY}
    service = fleet / RAY_SERVICE
    raised = service.read_text(encoding="utf-8")
    before = raised.replace('cpu: "6"', 'cpu: "4"').replace("memory: 24Gi", "memory: 16Gi")
    service.write_text(before, encoding="utf-8")
    run_git(["commit", "-q", "-am", "ray-pred: workers of 4 CPU / 16Gi"], cwd=fleet, env=env)
    run_git(["push", "-q", "origin", "main"], cwd=fleet, env=env)
    run_git(["switch", "-q", "-c", BRANCH], cwd=fleet, env=env)
    service.write_text(raised, encoding="utf-8")
    message = "ray-pred: raise the workers to 6 CPU / 24Gi"
    run_git(["commit", "-q", "-am", message], cwd=fleet, env=env)
    run_git(["switch", "-q", "main"], cwd=fleet, env=env)
    status_dir = write_snapshots(
        demo_dir / "snapshots",
        base / "status-before-upgrade",
        delta=dt.timedelta(0),
        taken=scenario_now,
        transform=before_upgrade,
    )
    print("== The change (a pull request from raise-ray-pred into main)", file=out)
    print(run_git(["diff", "--stat", f"main...{BRANCH}"], cwd=fleet).rstrip(), file=out)
    checked = check_refs(
        fleet, base="main", head=BRANCH, status=snapshot_status(status_dir), now=scenario_now
    )
    now = scenario_now.strftime("%Y-%m-%dT%H:%M:%SZ")
    command = (
        f"placement-reconciler check --repo {fleet} --base main --head {BRANCH} "
        f"--status {status_dir} --now {now}"
    )
    print(f"\n== {command}", file=out)
    print(check_text(checked.report), file=out)
    print("\n== The same with -o markdown (the pull-request comment)", file=out)
    fail_on = {WILL_STALL, "fits nowhere"}
    print(check_markdown(checked.report, fail_on=fail_on), file=out)
    verdicts = {g.group: g.verdict for g in checked.report.groups}
    return 0 if verdicts.get("ray-pred") == WILL_STALL else 1
