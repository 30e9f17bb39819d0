"""A GitHub that hangs costs a pass one deadline (git.github.deadline), not minutes: the
pass still reads, plans and reports, and writes no pull request."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW, commit_all, git, taken_at
from tests.reconcile.github_fleet import TOKEN, WHEN


@pytest.fixture
def hung_github() -> Iterator[str]:
    """A server on 127.0.0.1 that takes connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_a_hanging_github_ends_the_pass_at_its_deadline_with_the_plan_reported(
    fleet: Path,
    hung_github: str,
    snapshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = fleet / "fleet.yaml"
    config.write_text(
        config.read_text().replace(
            "  # github: {repo: org/fleet}",
            f"  github: {{repo: org/fleet, baseUrl: '{hung_github}', deadline: 2s}}\n  # was:",
        )
    )
    commit_all(fleet, "fleet: open pull requests on a GitHub that hangs")
    git(fleet, "push", "-q", "origin", "main")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    out = io.StringIO()
    ended: list[int] = []
    args = ["run", "--repo", str(fleet), "--status", str(taken_at(snapshots, WHEN))]
    one_pass = threading.Thread(
        target=lambda: ended.append(main([*args, "--now", DEMO_NOW], out=out)), daemon=True
    )

    started = time.monotonic()
    one_pass.start()
    one_pass.join(timeout=30)  # today's code waits about 150 s: fail well before that
    took = time.monotonic() - started

    assert ended, f"the pass was still waiting for GitHub after {took:.0f}s"
    assert took < 15
    printed = out.getvalue()
    assert ended == [1], printed  # the pass failed: a decided move was not written
    assert "ray-pred on onprem: MOVE" in printed  # read and planned anyway
    assert "GitHub did not answer within 2s" in printed
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "GitHub did not answer within 2s" in errors[0], errors
    assert git(fleet.parent / "remote.git", "branch", "--list", "placement/*") == ""
