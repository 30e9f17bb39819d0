"""Suite-wide settings: property tests explore freely on a laptop, replay fixed seeds in CI."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from reconciler.demo import DEMO_DIR, build_fleet_repo
from tests.fleet_repo import isolate_git, make_remote

# In CI a property test must not fail on one run and pass on the next: derandomize there
# (the same examples every run, found by the same search), and keep the local database
# off so a clean checkout behaves exactly like the CI machine.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _no_machine_git_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the machine's git config, identity or cache directory."""
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repo holding a fresh fleet on main, like a hosted remote."""
    return make_remote(tmp_path)


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """The demo's fleet: a checkout of repo-template whose origin is a bare repo beside it."""
    repo, _ = build_fleet_repo(tmp_path / "work", when=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    return repo


@pytest.fixture
def snapshots(tmp_path: Path) -> Path:
    """A copy of the demo snapshots that a test may edit."""
    target = tmp_path / "snapshots"
    shutil.copytree(DEMO_DIR / "snapshots", target)
    return target
