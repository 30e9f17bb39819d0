"""The pre-merge check on a pull request: one comment kept up to date, and a commit status.

The comment ends with a hidden marker, `<!-- placement-reconciler:check -->`: every run
finds the comment by it and edits it, so a retry or a new push never adds a second one.
The bot's own move pull requests (branch `placement/<group>`, the move marker in the body)
are left alone: they move a group that already fits its target.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

import github

from reconciler.core.errors import UsageError
from reconciler.github.move_pull_request import BRANCH_PREFIX, MARKER, calling_github

CHECK_MARKER = "<!-- placement-reconciler:check -->"
STATUS_CONTEXT = "placement/capacity"


@dataclasses.dataclass(frozen=True)
class PublishedCheck:
    """What was written: the comment (created or edited) and the status, or why nothing."""

    comment_url: str = ""
    created: bool = False
    skipped: str = ""


def pull_request_number(env: Mapping[str, str]) -> int | None:
    """The pull request of a GitHub Actions `pull_request` event (GITHUB_EVENT_PATH), if any."""
    path = env.get("GITHUB_EVENT_PATH", "")
    events = ("pull_request", "pull_request_target")
    if not path or env.get("GITHUB_EVENT_NAME", "pull_request") not in events:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"GITHUB_EVENT_PATH: cannot read the event ({error})") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    number = pull.get("number") if isinstance(pull, dict) else None
    return number if isinstance(number, int) else None


def publish_check(
    client: github.Github,
    *,
    repo: str,
    number: int,
    body: str,
    success: bool,
    description: str,
    head_sha: str = "",
) -> PublishedCheck:
    """Write (or update) the check's comment on pull request `number`, then its status."""
    with calling_github(f"write the check on #{number}"):
        repository = client.get_repo(repo)
        pull = repository.get_pull(number)
        if pull.head.ref.startswith(BRANCH_PREFIX) and MARKER in (pull.body or ""):
            return PublishedCheck(skipped=f"#{number} is the reconciler's own move pull request")
        text = f"{body.rstrip()}\n\n{CHECK_MARKER}"
        mine = [c for c in pull.get_issue_comments() if CHECK_MARKER in (c.body or "")]
        if mine:
            comment, created = mine[0], False
            if comment.body != text:
                comment.edit(text)
        else:
            comment, created = pull.create_issue_comment(text), True
        repository.get_commit(head_sha or pull.head.sha).create_status(
            state="success" if success else "failure",
            description=description[:140],  # GitHub's limit for a status description
            context=STATUS_CONTEXT,
        )
    return PublishedCheck(comment_url=comment.html_url or comment.url, created=created)
