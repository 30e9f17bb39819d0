"""Fixtures of the pass-level tests: the demo fleet (tests/conftest.py) on a fake GitHub."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.github_server import FakeGitHub
from tests.reconcile.github_fleet import TOKEN, WHEN, name_fake_github


@pytest.fixture
def github(fleet: Path) -> Iterator[FakeGitHub]:
    """The fake GitHub over the fleet's bare remote; fleet.yaml names it."""
    with FakeGitHub(remote=fleet.parent / "remote.git", tokens=(TOKEN,)) as fake:
        fake.now = WHEN - dt.timedelta(minutes=5)
        name_fake_github(fleet, fake)
        yield fake
