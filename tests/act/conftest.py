"""Shared by the git and GitHub tests: no machine git config, and a bare remote with a fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fleet_builder import isolate_git, make_remote


@pytest.fixture(autouse=True)
def _no_machine_git_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repo holding a fresh fleet on main, like a hosted remote."""
    return make_remote(tmp_path)
