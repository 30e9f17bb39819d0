"""One deadline for a pass's GitHub requests: past it nothing is sent, retried or waited for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.github.credentials import GitHubCredential, github_client
from reconciler.github.deadline import Deadline
from reconciler.github.move_pull_request import GitHubUnavailable
from reconciler.github.pull_requests import PullRequests
from tests.fleet_repo import BOT_EMAIL

from ..fakes.github_server import FakeGitHub

SECRET = "ghp_TESTSECRET123"


@pytest.fixture
def fake(remote: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote=remote, tokens=(SECRET,)) as server:
        yield server


def pulls_within(fake: FakeGitHub, deadline: Deadline) -> PullRequests:
    client = github_client(
        GitHubCredential("token", SECRET),
        base_url=fake.base_url,
        deadline=deadline,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return PullRequests(client, repo="org/fleet", base="main", bot_email=BOT_EMAIL)


def test_no_request_is_sent_once_the_deadline_has_passed(fake: FakeGitHub) -> None:
    clock = [1000.0]
    deadline = Deadline(60, clock=lambda: clock[0])
    pulls = pulls_within(fake, deadline)
    deadline.restart()
    assert pulls.open_moves() == []
    sent = len(fake.log)

    clock[0] += 61
    with pytest.raises(GitHubUnavailable, match="did not answer in time"):
        pulls.open_moves()
    assert len(fake.log) == sent
    deadline.restart()  # the next pass has its own time
    assert pulls.open_moves() == []


def test_no_retry_waits_past_the_deadline(fake: FakeGitHub) -> None:
    deadline = Deadline(5)  # the real clock: the test must end long before a rate-limit reset
    pulls = pulls_within(fake, deadline)
    fake.rate_limit_next(1, kind="secondary")  # PyGithub would wait 60s before its retry

    with pytest.raises(GitHubUnavailable):
        pulls.open_moves()
    assert deadline.remaining() > 0  # it gave up without waiting


def test_a_request_waits_no_longer_than_the_whole_deadline() -> None:
    assert Deadline(2).request_timeout() == 2
    assert Deadline(60).request_timeout() == 15
    assert Deadline(0.5).request_timeout() == 1
