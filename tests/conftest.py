"""Suite-wide settings: property tests explore freely on a laptop, replay fixed seeds in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

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
