"""A contentious fleet: the demo plus small stuck groups on onprem that all fit on cloud.

Several reconcilers reading the same snapshots decide the same moves at the same time,
so they race on every one of them. `check_history` walks every commit of a branch and
fails on any half-moved group.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import yaml

from reconciler.demo import DEMO_DIR, build_fleet_repo
from tests.fleet_repo import git as fleet_git

NOW = "2026-11-28T12:10:00Z"
WHEN = dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))
EXTRA_GROUPS = ("api-alpha", "api-bravo", "api-charlie")
STUCK_SINCE = "2026-11-28T11:55:00Z"
HUMAN = {
    "GIT_AUTHOR_NAME": "Human",
    "GIT_AUTHOR_EMAIL": "human@example.com",
    "GIT_COMMITTER_NAME": "Human",
    "GIT_COMMITTER_EMAIL": "human@example.com",
}


def git(repo: Path, *args: str) -> str:
    """git as a person (not the bot) would run it: the shared helper with the human identity."""
    return fleet_git(repo, *args, env=HUMAN)


def _deployment(group: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": group}
    container = {
        "name": "api",
        "image": f"registry.example.internal/{group}:1.0",
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": group, "namespace": group, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def _stuck_objects(group: str) -> list[dict[str, Any]]:
    """The ReplicaSet of the group's Deployment and its one unschedulable pod."""
    rs_name = f"{group}-5c8d7f9b6"
    labels = {"app.kubernetes.io/name": group, "pod-template-hash": "5c8d7f9b6"}
    spec = _deployment(group)["spec"]["template"]["spec"]
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": group,
            "uid": f"uid-rs-{group}",
            "labels": labels,
            "creationTimestamp": STUCK_SINCE,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": group,
                    "uid": f"uid-deploy-{group}",
                    "controller": True,
                }
            ],
        },
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {"spec": spec}},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs_name}-x2x2x",
            "namespace": group,
            "uid": f"uid-pod-{group}",
            "labels": labels,
            "creationTimestamp": STUCK_SINCE,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": f"uid-rs-{group}",
                    "controller": True,
                }
            ],
        },
        "spec": copy.deepcopy(spec),
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/2 nodes are available: 2 Insufficient cpu.",
                    "lastTransitionTime": STUCK_SINCE,
                }
            ],
        },
    }
    return [replica_set, pod]


def build_contentious_fleet(workdir: Path) -> tuple[Path, Path, Path]:
    """The fleet checkout, its bare remote, and snapshots where four groups are stuck."""
    fleet, remote = build_fleet_repo(workdir, when=WHEN - dt.timedelta(days=1))
    groups = fleet / "clusters" / "onprem" / "groups"
    for group in EXTRA_GROUPS:
        directory = groups / group
        directory.mkdir()
        (directory / "deployment.yaml").write_text(yaml.safe_dump(_deployment(group)))
        (directory / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {group}\nresources:\n  - deployment.yaml\n"
        )
    listing = groups / "kustomization.yaml"
    listing.write_text(listing.read_text() + "".join(f"  - {g}\n" for g in EXTRA_GROUPS))
    git(fleet, "add", "-A")
    git(fleet, "commit", "-q", "-m", "fleet: three more api groups on onprem")
    git(fleet, "push", "-q", "origin", "main")

    snapshots = workdir / "snapshots"
    shutil.copytree(DEMO_DIR / "snapshots", snapshots)
    onprem = snapshots / "onprem.yaml"
    data = yaml.load(onprem.read_text(), Loader=yaml.CSafeLoader)
    for group in EXTRA_GROUPS:
        data["items"] += _stuck_objects(group)
    onprem.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper))
    return fleet, remote, snapshots


def add_github(fleet: Path, *, base_url: str) -> None:
    """Point fleet.yaml at a (fake) GitHub, committed and pushed."""
    config = fleet / "fleet.yaml"
    config.write_text(
        config.read_text().replace(
            "  # github: {repo: org/fleet}",
            f"  github: {{repo: org/fleet, baseUrl: '{base_url}'}}\n  # was:",
        )
    )
    git(fleet, "commit", "-q", "-am", "fleet: pull requests on the fake GitHub")
    git(fleet, "push", "-q", "origin", "main")


def placements(repo: Path, commit: str) -> dict[str, list[str]]:
    """Per group: the clusters whose directory holds it, and whose listing names it."""
    found: dict[str, list[str]] = {}
    paths = git(repo, "ls-tree", "-r", "--name-only", commit, "--", "clusters").splitlines()
    for path in paths:
        parts = path.split("/")
        if len(parts) >= 5 and parts[2] == "groups":
            found.setdefault(parts[3], [])
            if f"dir:{parts[1]}" not in found[parts[3]]:
                found[parts[3]].append(f"dir:{parts[1]}")
    for path in paths:
        parts = path.split("/")
        if len(parts) == 4 and parts[2] == "groups" and parts[3] == "kustomization.yaml":
            listing = yaml.safe_load(git(repo, "show", f"{commit}:{path}")) or {}
            for entry in listing.get("resources") or []:
                name = str(entry).removeprefix("./").rstrip("/")
                found.setdefault(name, []).append(f"listed:{parts[1]}")
    return found


def half_moved(repo: Path, ref: str) -> list[str]:
    """Every commit of ref where a group is not in exactly one cluster, listed there."""
    problems = []
    for commit in git(repo, "rev-list", ref).splitlines():
        for group, where in placements(repo, commit).items():
            dirs = sorted(w[4:] for w in where if w.startswith("dir:"))
            listed = sorted(w[7:] for w in where if w.startswith("listed:"))
            if len(dirs) != 1 or listed != dirs:
                problems.append(f"{commit[:12]}: {group} dirs={dirs} listed={listed}")
    return problems


def group_cluster(repo: Path, ref: str) -> dict[str, str]:
    """Where each group is at ref (its one directory)."""
    return {
        group: next(w[4:] for w in where if w.startswith("dir:"))
        for group, where in placements(repo, ref).items()
    }
