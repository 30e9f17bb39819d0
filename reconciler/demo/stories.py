"""Demo stories that take several passes: failback, and make-before-break.

Each builds the demo's fleet repo, then runs passes on snapshots derived from the shipped
ones: "later" (the old RayClusters pruned from onprem, its build pod finished), and the
copy of ray-pred on cloud starting or healthy. The clock is the real one: snapshot times
are shifted so the seed's situation (pending for 10 minutes) is happening now.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import yaml

from reconciler.gitrepo.history import read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import DirectWriter

_TIME_FIELDS = ("creationTimestamp", "lastTransitionTime", "lastProbeTime")
_PRUNED = ("ray-pred-", "buildkitd-")


def shift_times(data: Any, delta: dt.timedelta) -> Any:
    """The same objects with every RFC 3339 timestamp field moved by delta."""
    if isinstance(data, dict):
        shifted = {}
        for key, value in data.items():
            if key in _TIME_FIELDS and isinstance(value, str) and value.endswith("Z"):
                when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) + delta
                shifted[key] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                shifted[key] = shift_times(value, delta)
        return shifted
    if isinstance(data, list):
        return [shift_times(item, delta) for item in data]
    return data


def later(items: list[dict[str, Any]], *, cluster: str) -> list[dict[str, Any]]:
    """After the relocation: onprem without ray-pred's RayClusters and the finished build."""
    if cluster != "onprem":
        return items
    return [
        item
        for item in items
        if not item["metadata"]["name"].startswith(_PRUNED) and item["kind"] != "RayService"
    ]


def copy_on_cloud(
    items: list[dict[str, Any]], *, cluster: str, ready: bool
) -> list[dict[str, Any]]:
    """cloud with ray-pred's copy running there: a RayService, its RayCluster, three pods."""
    if cluster != "cloud":
        return items
    status = "True" if ready else "False"
    service = {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "name": "ray-pred",
        "uid": "uid-rs-cloud",
        "controller": True,
    }
    raycluster = {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "name": "ray-pred-c10ud",
        "uid": "uid-rc-cloud",
        "controller": True,
    }
    added: list[dict[str, Any]] = [
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayService",
            "metadata": {"name": "ray-pred", "namespace": "prediction", "uid": "uid-rs-cloud"},
            "status": {
                "conditions": [{"type": "Ready", "status": status}],
                "activeServiceStatus": {"rayClusterName": "ray-pred-c10ud"},
            },
        },
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {
                "name": "ray-pred-c10ud",
                "namespace": "prediction",
                "uid": "uid-rc-cloud",
                "ownerReferences": [service],
            },
        },
    ]
    for name, node, cpu, memory in (
        ("head", "cloud-node-2", "2500m", "8704Mi"),
        ("worker-a", "cloud-node-3", "6", "24Gi"),
        ("worker-b", "cloud-node-1", "6", "24Gi"),
    ):
        added.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"ray-pred-c10ud-{name}",
                    "namespace": "prediction",
                    "uid": f"uid-c10ud-{name}",
                    "labels": {"ray.io/cluster": "ray-pred-c10ud"},
                    "ownerReferences": [raycluster],
                },
                "spec": {
                    "nodeName": node,
                    "containers": [
                        {
                            "name": "ray",
                            "image": "rayproject/ray:2.52.0",
                            "resources": {"requests": {"cpu": cpu, "memory": memory}},
                        }
                    ],
                },
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True"},
                        {"type": "Ready", "status": status},
                    ],
                },
            }
        )
    return items + added


def write_snapshots(
    source: Path,
    target: Path,
    *,
    delta: dt.timedelta,
    taken: dt.datetime,
    transform: Callable[..., list[dict[str, Any]]] | None = None,
    **options: Any,
) -> Path:
    """Derived snapshots: the shipped ones, shifted in time and transformed per cluster.

    The files are dated `taken`, as a snapshot job would write them: older status is stale.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in ("onprem", "cloud"):
        data = yaml.safe_load((source / f"{name}.yaml").read_text(encoding="utf-8"))
        items = shift_times(data["items"], delta)
        if transform is not None:
            items = transform(items, cluster=name, **options)
        data["items"] = items
        path = target / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        os.utime(path, (taken.timestamp(), taken.timestamp()))
    return target


def work_dir(story: str, workdir: Path | None) -> Path:
    """Where a story builds its fleet: `workdir` (made if missing), or a new temporary one."""
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix=f"placement-reconciler-{story}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def run_story(
    name: str,
    *,
    out: TextIO,
    workdir: Path | None,
    build: Callable[[Path], tuple[Path, Path]],
    demo_dir: Path,
    scenario_now: dt.datetime,
) -> int:
    """Run the failback or make-before-break story; 0 when it ended as told."""
    base = work_dir(name, workdir)
    fleet, _ = build(base)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    delta = now - scenario_now  # the seed's 12:10 is now
    snapshots = demo_dir / "snapshots"
    policy = fleet / "clusters/onprem/groups/ray-pred/placement.yaml"
    steps: list[tuple[str, int, Callable[..., list[dict[str, Any]]] | None, dict[str, Any]]]
    if name == "failback":
        policy.write_text("failback: true  # come home to onprem when it has room again\n")
        steps = [
            ("the upgrade is stalled on onprem: relocate to cloud", 0, None, {}),
            ("an hour later onprem has room again (1st pass that fits)", 60, later, {}),
            ("a minute later it still fits (2nd pass): fail back", 61, later, {}),
        ]
    else:
        policy.write_text("strategy: make-before-break  # a global service spans the clusters\n")
        steps = [
            ("the upgrade is stalled on onprem: copy to cloud (phase 1)", 0, None, {}),
            ("the copy is starting on cloud: wait", 5, copy_on_cloud, {"ready": False}),
            (
                "the copy is healthy: remove onprem's copy (phase 2)",
                8,
                copy_on_cloud,
                {"ready": True},
            ),
        ]
    _commit(fleet, f"ray-pred: {name}")
    workspace = Workspace.open(str(fleet), branch="main")
    for index, (words, minutes, transform, options) in enumerate(steps, start=1):
        when = now + dt.timedelta(minutes=minutes)
        status_dir = write_snapshots(
            snapshots,
            base / f"status-{index}",
            delta=delta,
            taken=when,
            transform=transform,
            **options,
        )
        status = snapshot_status(status_dir)
        outcome = run_pass(workspace, status=status, writer=DirectWriter(), now=when)
        decision = next(d for d in outcome.plan.decisions if d.group == "ray-pred")
        print(f"== Pass {index} at +{minutes}m: {words}", file=out)
        print(
            f"   ray-pred on {decision.cluster}: {decision.action.upper()}: {decision.summary}",
            file=out,
        )
        for guard in decision.guards:
            print(f"   held back: {guard}", file=out)
        for result in outcome.results:
            print(f"   {result.error or 'committed ' + result.commit[:12]}", file=out)
    print("\n== Placement history", file=out)
    for record in read_moves(fleet):
        print(
            f"{record.reached}  {record.group}: {record.source} -> {record.target} "
            f"({', '.join(filter(None, (record.reason, record.phase)))})  {record.subject}",
            file=out,
        )
    print(f"\nThe fleet repo is at {fleet}.", file=out)
    home = (fleet / "clusters/onprem/groups/ray-pred").is_dir()
    away = (fleet / "clusters/cloud/groups/ray-pred").is_dir()
    ended = (home and not away) if name == "failback" else (away and not home)
    return 0 if ended else 1


def _commit(fleet: Path, message: str) -> None:
    from reconciler.demo import IDENTITY, run_git

    env = {**os.environ, **IDENTITY}
    for args in (["add", "-A"], ["commit", "-q", "-m", message], ["push", "-q", "origin", "main"]):
        run_git(args, cwd=fleet, env=env)
