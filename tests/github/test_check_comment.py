"""The check on a pull request: one comment updated in place, and the placement/capacity status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github, GithubRetry

from reconciler.core.errors import UsageError
from reconciler.github.check_comment import (
    CHECK_MARKER,
    STATUS_CONTEXT,
    publish_check,
    pull_request_number,
)
from tests.fakes.github_server import FakeGitHub

TOKEN = "ghp_CHECKTOKEN0123456789"
SHA_1 = "1" * 40
SHA_2 = "2" * 40


@pytest.fixture
def fake(remote: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote=remote, tokens=(TOKEN,)) as server:
        yield server


def client(fake: FakeGitHub) -> Github:
    """Real PyGithub, unpaced (no real waiting in tests)."""
    return Github(
        base_url=fake.base_url,
        auth=Auth.Token(TOKEN),
        retry=GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def publish(fake: FakeGitHub, number: int, body: str, *, sha: str, success: bool) -> object:
    return publish_check(
        client(fake),
        repo="org/fleet",
        number=number,
        body=body,
        success=success,
        description="ray-pred will stall" if not success else "none will stall",
        head_sha=sha,
    )


def test_every_push_updates_the_one_comment_and_sets_the_status(fake: FakeGitHub) -> None:
    number = fake.open_pull(head="raise-ray-pred", title="Raise ray-pred", body="more CPU")
    fake.pulls[number].comments.append("LGTM")  # a person's comment stays as it is

    first = publish(fake, number, "ray-pred: will stall", sha=SHA_1, success=False)
    second = publish(fake, number, "ray-pred: fits", sha=SHA_2, success=True)

    comments = fake.pulls[number].comments
    assert comments == ["LGTM", f"ray-pred: fits\n\n{CHECK_MARKER}"]
    assert (first.created, second.created) == (True, False)  # type: ignore[attr-defined]
    assert [(s["sha"], s["state"], s["context"]) for s in fake.statuses] == [
        (SHA_1, "failure", STATUS_CONTEXT),
        (SHA_2, "success", STATUS_CONTEXT),
    ]


def test_a_retry_with_the_same_verdict_adopts_the_comment_without_writing(
    fake: FakeGitHub,
) -> None:
    number = fake.open_pull(head="raise-ray-pred", title="Raise ray-pred", body="")
    publish(fake, number, "ray-pred: will stall", sha=SHA_1, success=False)
    publish(fake, number, "ray-pred: will stall", sha=SHA_1, success=False)

    assert len(fake.pulls[number].comments) == 1
    assert fake.requests_to("PATCH", r".*/issues/comments/\d+") == []
    assert len(fake.statuses) == 2  # the status is set again: it is idempotent


def test_the_bots_own_move_pull_requests_are_left_alone(fake: FakeGitHub) -> None:
    body = "Move\n\n<!-- placement-reconciler:move group=ray-pred from=onprem to=cloud -->"
    number = fake.open_pull(head="placement/ray-pred", title="placement: move", body=body)

    published = publish(fake, number, "ray-pred: fits", sha=SHA_1, success=True)

    assert "own move pull request" in published.skipped  # type: ignore[attr-defined]
    assert fake.pulls[number].comments == [] and fake.statuses == []


def test_the_pull_request_comes_from_a_pull_request_event(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    env = {"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request"}
    assert pull_request_number(env) == 7
    assert pull_request_number({**env, "GITHUB_EVENT_NAME": "push"}) is None
    assert pull_request_number({}) is None
    event.write_text("{not json")
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH"):
        pull_request_number(env)
