"""Shared ground for the hostile-conditions tests (git is isolated by tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.fakes.github_server import FakeGitHub

from . import live_rig
from .contention import WHEN, add_github


@pytest.fixture(autouse=True)
def _no_credentials_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "KUBECONFIG")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def servers() -> Iterator[list[HTTPServer]]:
    """Fake API servers for the live-read rigs, shared by a module's tests."""
    yield from live_rig.running_servers()


@pytest.fixture
def github(remote: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FakeGitHub]:
    """The fake GitHub over `remote`, named in the fleet checkout's fleet.yaml; it accepts
    the test module's own TOKEN (each module plants its own, to find it where it leaks)."""
    with FakeGitHub(remote=remote, tokens=(request.module.TOKEN,)) as fake:
        fake.now = WHEN
        add_github(tmp_path / "fleet" / "fleet", base_url=fake.base_url)
        yield fake
