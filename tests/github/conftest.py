"""The GitHub tests' workspace: a clone of the bare remote of tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.gitrepo.workspace import Workspace
from tests.fleet_repo import clone


@pytest.fixture
def workspace(remote: Path, tmp_path: Path) -> Workspace:
    """The reconciler's checkout: a clone of `remote` on main."""
    return Workspace.open(str(clone(remote, tmp_path / "work")), branch="main")
