"""Builders for tiny fleet repos in a temporary folder: a checkout, a bare remote, clones.

Every git call here passes its own identity and ignores the machine's git config, so the
tests behave the same on a laptop and on a CI runner without any global config.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

IDENTITY = {
    "GIT_AUTHOR_NAME": "Fleet Tester",
    "GIT_AUTHOR_EMAIL": "tester@example.invalid",
    "GIT_COMMITTER_NAME": "Fleet Tester",
    "GIT_COMMITTER_EMAIL": "tester@example.invalid",
}

DEFAULT_PLACEMENT = {"onprem": ["web", "ray-pred"], "cloud": ["batch"]}

FLEET_YAML = """\
clusters:
  - name: onprem
    context: onprem
  - name: cloud
    context: cloud
git:
  branch: main
  mode: direct
"""


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the machine's git config and cache dir from the code under test."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in IDENTITY:
        monkeypatch.delenv(name, raising=False)


def git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
) -> str:
    """Run git in repo as the test identity; its stdout without the final newline."""
    completed = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **IDENTITY, **(env or {})},
        input=stdin,
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {completed.stderr.decode()}")
    return completed.stdout.decode().rstrip("\n")


def cluster_kustomization(groups: list[str], *, flow: bool = False) -> str:
    """A cluster's groups/kustomization.yaml with comments, as people write them."""
    head = (
        "# Groups placed on this cluster. Flux applies this directory.\n"
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
    )
    if flow:
        return head + f"resources: [{', '.join(groups)}]  # one entry per group\n"
    items = "".join(f"  - {group}\n" for group in groups)
    return (
        head
        + "resources:\n"
        + "  # keep this list sorted by team\n"
        + items
        + "# labels added to every object on this cluster\n"
        + "commonLabels:\n"
        + '  fleet.example.com/managed-by: "placement-reconciler"\n'
    )


def group_files(group: str) -> dict[str, str]:
    """The files of one group: kustomization, a manifest, a nested config, a script."""
    return {
        "kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\n"
            "kind: Kustomization\n"
            "resources:\n"
            "  - deployment.yaml\n"
        ),
        "deployment.yaml": (
            "apiVersion: apps/v1\n"
            "kind: Deployment\n"
            f"metadata: {{name: {group}, namespace: {group}}}\n"
            "spec:\n"
            "  replicas: 1\n"
        ),
        "config/settings.properties": f"group={group}\n",
        "scripts/smoke.sh": "#!/bin/sh\necho ok\n",
    }


def write_fleet(
    root: Path,
    *,
    placement: Mapping[str, list[str]] | None = None,
    flow: frozenset[str] = frozenset(),
) -> Path:
    """Write a fleet repo into root, make it a git repo on main with one commit."""
    placement = DEFAULT_PLACEMENT if placement is None else placement
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(FLEET_YAML)
    for cluster, groups in placement.items():
        groups_dir = root / "clusters" / cluster / "groups"
        groups_dir.mkdir(parents=True)
        text = cluster_kustomization(groups, flow=cluster in flow)
        (groups_dir / "kustomization.yaml").write_text(text)
        for group in groups:
            for name, content in group_files(group).items():
                path = groups_dir / group / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
                if name.endswith(".sh"):
                    path.chmod(0o755)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "fleet: initial layout")
    return root


def write_repo(root: Path, files: Mapping[str, str]) -> Path:
    """Write these files (path -> text) into root and commit them on main, in one commit."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    commit_all(root, "fleet")
    return root


def make_remote(tmp_path: Path, **fleet: object) -> Path:
    """A bare repo holding a fresh fleet on main, like a hosted remote."""
    seed = write_fleet(tmp_path / "seed", **fleet)  # type: ignore[arg-type]
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), str(remote))
    return remote


def clone(remote: Path, dest: Path) -> Path:
    """A working clone of the remote at dest, on main."""
    git(remote.parent, "clone", "--quiet", "--branch", "main", str(remote), str(dest))
    return dest


def commit_file(repo: Path, path: str, content: str, *, message: str) -> str:
    """Write one file, commit it, and return the new commit."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", "--", path)
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def move_message(group: str, source: str, target: str, *, reason: str = "capacity") -> str:
    """A commit message as the reconciler writes it, trailers included."""
    return (
        f"placement: move {group} from {source} to {target}\n"
        "\n"
        f"3 pods of {group} unschedulable for 7m (Insufficient cpu).\n"
        "\n"
        f"Placement-Group: {group}\n"
        f"Placement-From: {source}\n"
        f"Placement-To: {target}\n"
        f"Placement-Reason: {reason}\n"
    )


@dataclasses.dataclass(frozen=True)
class RepoState:
    """Everything a failed move must leave as it was."""

    head: str
    branch_tip: str
    index: str
    status: str
    files: dict[str, bytes]


def repo_state(repo: Path, *, branch: str = "main") -> RepoState:
    """The branch, the index and every file of the working tree, for before/after checks."""
    files = {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }
    return RepoState(
        head=git(repo, "symbolic-ref", "HEAD"),
        branch_tip=git(repo, "rev-parse", f"refs/heads/{branch}"),
        index=git(repo, "ls-files", "--stage"),
        status=git(repo, "status", "--porcelain", "--untracked-files=all"),
        files=files,
    )


def tree_entries(repo: Path, ref: str, path: str = "") -> dict[str, tuple[str, str]]:
    """path → (mode, blob id) for every file under path in ref."""
    listing = git(repo, "ls-tree", "-r", "-z", "--full-tree", ref, *([path] if path else []))
    entries = {}
    for record in filter(None, listing.split("\0")):
        meta, name = record.split("\t", 1)
        mode, _, sha = meta.split()
        entries[name] = (mode, sha)
    return entries


BOT_EMAIL = "placement-bot@users.noreply.local"
MOVE_BRANCH = "placement/ray-pred"


def remote_sha(remote: Path, branch: str = MOVE_BRANCH) -> str | None:
    """The commit a branch of the remote points at, or None when it has no such branch."""
    return git(remote, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}") or None


# The demo's fleet (repo-template) and snapshots, as the pass-level and CLI tests use them.
DEMO_NOW = "2026-11-28T12:10:00Z"  # the time of the demo scenario's snapshots


def taken_at(snapshots: Path, when: str | dt.datetime) -> Path:
    """Date the snapshot files as read at `when`: status older than maxStatusAge is stale."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    for path in snapshots.iterdir():
        os.utime(path, (when.timestamp(), when.timestamp()))
    return snapshots


def commit_all(repo: Path, message: str) -> None:
    """Commit every change in the checkout, as a person would."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
