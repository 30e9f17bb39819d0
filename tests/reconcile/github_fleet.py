"""The demo fleet on the fake GitHub: its token, its time, a PullRequests client for it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from github import Auth, Github, GithubRetry

from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW, commit_all, git

TOKEN = "ghp_E2ESECRETTOKEN0123456789"
WHEN = dt.datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))


def name_fake_github(fleet: Path, fake: FakeGitHub) -> None:
    """Point fleet.yaml's git.github at the fake, committed and pushed."""
    config = fleet / "fleet.yaml"
    config.write_text(
        config.read_text().replace(
            "  # github: {repo: org/fleet}",
            f"  github: {{repo: org/fleet, baseUrl: '{fake.base_url}'}}\n  # was:",
        )
    )
    commit_all(fleet, "fleet: open pull requests on the fake GitHub")
    git(fleet, "push", "-q", "origin", "main")


def pulls(fake: FakeGitHub, *, token: str = TOKEN) -> PullRequests:
    """The move pull requests of org/fleet on the fake, through an unpaced PyGithub."""
    client = Github(
        base_url=fake.base_url,
        auth=Auth.Token(token),
        retry=GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return PullRequests(
        client, repo="org/fleet", base="main", bot_email=DEFAULT_AUTHOR[1], secrets=[token]
    )
