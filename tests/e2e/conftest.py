"""A fleet repo made from repo-template with a bare remote, and the demo snapshots."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.demo import DEMO_DIR, build_fleet_repo

NOW = "2026-11-28T12:10:00Z"


@pytest.fixture(autouse=True)
def _no_global_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A clone-like checkout of repo-template whose origin is a bare repo beside it."""
    repo, _ = build_fleet_repo(tmp_path / "work", when=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    return repo


@pytest.fixture
def snapshots(tmp_path: Path) -> Path:
    """A copy of the demo snapshots that a test may edit."""
    target = tmp_path / "snapshots"
    shutil.copytree(DEMO_DIR / "snapshots", target)
    return target


def taken_at(snapshots: Path, when: str | dt.datetime) -> Path:
    """Date the snapshot files as read at `when`: status older than maxStatusAge is stale."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    for path in snapshots.iterdir():
        os.utime(path, (when.timestamp(), when.timestamp()))
    return snapshots


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Human",
        "GIT_AUTHOR_EMAIL": "human@example.com",
        "GIT_COMMITTER_NAME": "Human",
        "GIT_COMMITTER_EMAIL": "human@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
