"""The git tests' fleet: a small fleet repo, two clusters, no remote (tests/fleet_repo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet_repo import write_fleet


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A small fleet repo (onprem and cloud, a few groups) with one commit on main."""
    return write_fleet(tmp_path / "fleet")
