"""What a move pull request is: the proposal, the hidden marker, the records read back, and
the errors of talking to GitHub.

The marker is an HTML comment at the end of the body, invisible on GitHub:
`<!-- placement-reconciler:move group=ray-pred from=onprem to=cloud reason=upgrade-stalled -->`.
With the head branch `placement/<group>` it tells a move PR from any other. A move PR the
bot closes itself (no longer needed) is labelled `placement:withdrawn` and its closing
comment ends with `<!-- placement-reconciler:withdrawn -->`: that close is no veto.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import requests
from github.GithubException import GithubException, RateLimitExceededException

from reconciler.core.errors import GitHubError

BRANCH_PREFIX = "placement/"  # a move PR's head branch: placement/<group>
MARKER = "placement-reconciler:move"
WITHDRAWN_MARKER = "placement-reconciler:withdrawn"
LEFT_OPEN_MARKER = "placement-reconciler:left-open"  # said once: "no longer needed, yours"
NOT_ARRIVED_MARKER = "placement-reconciler:not-arrived"  # said once on a merged move PR
LABEL = "placement"  # every move PR has it, and `placement:<reason>`
WITHDRAWN_LABEL = "placement:withdrawn"
MARKER_COMMENT = re.compile(r"\s*<!--\s*" + re.escape(MARKER) + r"\b(?P<fields>[^>]*?)\s*-->")


class GitHubUnavailable(GitHubError):
    """GitHub could not be read or written; the message says what was tried."""


class RateLimited(GitHubUnavailable):
    """GitHub's rate limit was hit after PyGithub's own retries; stop writing this pass."""


@dataclasses.dataclass(frozen=True)
class MoveProposal:
    """A move to propose: body is the caller's markdown evidence (the marker is added),
    commit_message the move commit's, trailers included."""

    group: str
    source: str
    target: str
    reason: str
    title: str
    body: str
    commit_message: str
    phase: str = ""  # make-before-break: copy | finish | revert
    started: str = ""  # make-before-break: when the copy began


@dataclasses.dataclass(frozen=True)
class MovePullRequest:
    """A move pull request read back: open, it reserves its target and blocks another
    move; closed, it was merged (the move happened), withdrawn by the bot (no longer
    needed), or else closed by a person (a veto)."""

    group: str
    source: str
    target: str
    reason: str
    number: int
    url: str
    head_sha: str  # the head branch's commit (closed: when it was; merged: what was merged)
    closed_at: dt.datetime | None = None
    merged_at: dt.datetime | None = None
    withdrawn: bool = False

    @property
    def merged(self) -> bool:
        """True when it was merged: the move happened."""
        return self.merged_at is not None

    @property
    def vetoed(self) -> bool:
        """True when a person closed it without merging: that move is refused for a while."""
        return self.closed_at is not None and not self.merged and not self.withdrawn


@dataclasses.dataclass(frozen=True)
class ProposalResult:
    """What was done: opened | updated | adopted | unchanged | left-alone | failed | closed.

    left-alone: a person committed to the branch (`human` names them), so the bot
    neither pushes over it nor closes the PR.
    """

    group: str
    action: str
    number: int = 0
    url: str = ""
    error: str = ""
    human: str = ""


def marker(*, group: str, source: str, target: str, reason: str) -> str:
    """The hidden HTML comment that identifies a move PR."""
    return f"<!-- {MARKER} group={group} from={source} to={target} reason={slug(reason)} -->"


def parse_marker(body: str | None) -> dict[str, str] | None:
    """The marker's fields (group, from, to, reason), or None when the body has none."""
    found = MARKER_COMMENT.search(body or "")
    if found is None:
        return None
    fields = dict(part.split("=", 1) for part in found["fields"].split() if "=" in part)
    if not all(fields.get(key) for key in ("group", "from", "to")):
        return None
    return fields


def slug(reason: str) -> str:
    """The reason as one word, for the marker and the label."""
    return "-".join(reason.split()) or "capacity"


@contextlib.contextmanager
def calling_github(what: str) -> Iterator[None]:
    """Turn every failure to talk to GitHub into GitHubUnavailable, rate limits into RateLimited."""
    try:
        yield
    except GithubException as failure:
        headers = {key.lower(): value for key, value in (failure.headers or {}).items()}
        limited = failure.status == 403 and headers.get("x-ratelimit-remaining") == "0"
        if limited or failure.status == 429 or isinstance(failure, RateLimitExceededException):
            raise RateLimited(f"GitHub's rate limit was hit trying to {what}") from failure
        data = failure.data if isinstance(failure.data, dict) else {}
        message = failure.message or data.get("message", "") or str(failure.data)
        answered = f"GitHub answered {failure.status}: {message}"
        raise GitHubUnavailable(f"cannot {what}: {answered}") from failure
    except requests.exceptions.RetryError as failure:
        if re.search(r"too many (403|429) error", str(failure)):
            raise RateLimited(f"GitHub's rate limit was hit trying to {what}") from failure
        raise GitHubUnavailable(f"cannot {what}: GitHub kept failing") from failure
    except requests.exceptions.Timeout as failure:
        raise GitHubUnavailable(f"cannot {what}: GitHub did not answer in time") from failure
    except requests.exceptions.ConnectionError as failure:
        raise GitHubUnavailable(f"cannot {what}: GitHub cannot be reached") from failure
    except requests.exceptions.RequestException as failure:
        raise GitHubUnavailable(f"cannot {what}: the request to GitHub failed") from failure
