"""Move pull requests on GitHub (PyGithub): one per group, kept current, never duplicated.

A move PR has the head branch `placement/<group>` (see `branch_publish`) and a hidden
marker in its body naming the move, so the open and closed ones are the reconciler's
memory: an open one reserves its target, a closed one is the move itself (merged), the
bot's own withdrawal (labelled `placement:withdrawn`), or else a person's veto. Errors are
values (`ProposalResult.error`) except a rate limit, which raises `RateLimited` so the
pass stops writing, and a failed read, which raises `GitHubUnavailable` (the memory is
unknown, so nothing should be decided from it).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping

import github
from github.GithubException import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from reconciler.github.branch_publish import (
    delete_bot_branch,
    human_on_branch,
    publish_move_branch,
    remote_branches,
)
from reconciler.github.credentials import redact, secrets_in_env
from reconciler.github.move_pull_request import (
    BRANCH_PREFIX,
    LABEL,
    LEFT_OPEN_MARKER,
    MARKER_COMMENT,
    NOT_ARRIVED_MARKER,
    WITHDRAWN_LABEL,
    WITHDRAWN_MARKER,
    GitHubUnavailable,
    MoveProposal,
    MovePullRequest,
    ProposalResult,
    RateLimited,
    calling_github,
    marker,
    parse_marker,
    slug,
)
from reconciler.gitrepo.git_command import GitError
from reconciler.gitrepo.workspace import Move, Workspace

log = logging.getLogger(__name__)

MAX_BODY = 60_000  # GitHub refuses bodies over 65536 characters
MAX_TITLE = 250
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOKEN_LIKE = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{8,}|github_pat_[A-Za-z0-9_]{8,})")


class PullRequests:
    """The move pull requests of one repo and base branch."""

    def __init__(
        self,
        github: github.Github,
        *,
        repo: str,
        base: str,
        bot_email: str,
        secrets: Iterable[str] = (),
    ) -> None:
        self._github = github
        self._repo_name = repo
        self._owner = repo.split("/", 1)[0]
        self._base = base
        self._bot_email = bot_email
        self._secrets = tuple(secrets)
        self._repo: Repository | None = None

    def open_moves(self) -> list[MovePullRequest]:
        """Open PRs from a `placement/*` branch of this repo whose body has the marker."""
        with calling_github("list the open move pull requests"):
            pulls = self._repository().get_pulls(state="open", base=self._base)
            return [move for pr in pulls if (move := self._read(pr)) is not None]

    def closed_moves(self, *, since: dt.datetime) -> list[MovePullRequest]:
        """Move PRs closed since `since`, merged or not, newest first."""
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        moves = []
        with calling_github("list the closed move pull requests"):
            pulls = self._repository().get_pulls(
                state="closed", base=self._base, sort="updated", direction="desc"
            )
            for pr in pulls:
                if pr.updated_at is not None and pr.updated_at < since:
                    break  # closed_at <= updated_at, and the rest was updated earlier
                move = self._read(pr)
                if move is not None and pr.closed_at is not None and pr.closed_at >= since:
                    moves.append((pr.closed_at, move))
        return [move for _, move in sorted(moves, key=lambda pair: pair[0], reverse=True)]

    def propose(
        self,
        proposal: MoveProposal,
        *,
        workspace: Workspace,
        push_env: Mapping[str, str] | None = None,
    ) -> ProposalResult:
        """Push the move branch, then update the group's open PR or open one (never two)."""
        group = proposal.group
        bad = [n for n in (group, proposal.source, proposal.target) if not _NAME.fullmatch(n)]
        if bad:
            return ProposalResult(group, "failed", error=f"{bad[0]!r} is not a valid name")
        branch = BRANCH_PREFIX + group
        message, phase, started = proposal.commit_message, proposal.phase, proposal.started
        move = Move(group, proposal.source, proposal.target, message, phase, started)
        try:
            with calling_github(f"propose moving {group}"):
                pr = self._find_open(branch)
                published = publish_move_branch(
                    workspace, move, branch=branch, bot_email=self._bot_email, push_env=push_env
                )
                if published.human:  # the branch is theirs: named with its PR, if it has one
                    number, url = (pr.number, pr.html_url) if pr is not None else (0, "")
                    human = published.human
                    return ProposalResult(group, "left-alone", number, url, published.error, human)
                if published.error:
                    return ProposalResult(group, "failed", error=self._clean(published.error))
                title, body = self._clean(proposal.title)[:MAX_TITLE], self._body(proposal)
                if pr is None:
                    pr, action = self._create(branch, title=title, body=body)
                    self._label(pr, reason=proposal.reason)
                    return ProposalResult(group, action, pr.number, pr.html_url)
                changed = self._edit(pr, title=title, body=body)
                changed = self._label(pr, reason=proposal.reason) or changed or published.pushed
                return ProposalResult(
                    group, "updated" if changed else "unchanged", pr.number, pr.html_url
                )
        except RateLimited:
            raise
        except GitHubUnavailable as failure:
            return ProposalResult(group, "failed", error=self._clean(str(failure)))

    def withdraw(
        self,
        group: str,
        *,
        why: str,
        workspace: Workspace,
        push_env: Mapping[str, str] | None = None,
    ) -> ProposalResult | None:
        """Say why, mark it withdrawn and close the group's open move PR, then delete the
        bot's branch; None when the group has no open move PR.

        The mark (label and comment marker) tells later passes the bot closed it: it is
        no veto. A PR whose branch has a person's commit is theirs: it stays open, and
        is told why once (left-alone).
        """
        branch = BRANCH_PREFIX + group
        try:
            with calling_github(f"withdraw the move of {group}"):
                pr = self._find_open(branch)
                if pr is None or self._read(pr) is None:
                    return None
                human = human_on_branch(
                    workspace, branch=branch, bot_email=self._bot_email, push_env=push_env
                )
                if human:
                    left_open = (
                        f"{why}\n\n{branch} has a commit by {human}, so the bot leaves this pull "
                        "request open: merge or close it as you see fit."
                    )
                    self._comment_once(pr, left_open, marker=LEFT_OPEN_MARKER)
                    error = f"{branch} has a commit by {human}: left open"
                    return ProposalResult(group, "left-alone", pr.number, pr.html_url, error, human)
                pr.create_issue_comment(f"{self._clean(why)}\n\n<!-- {WITHDRAWN_MARKER} -->")
                if WITHDRAWN_LABEL not in {label.name for label in pr.labels}:
                    pr.add_to_labels(WITHDRAWN_LABEL)
                pr.edit(state="closed")
        except RateLimited:
            raise
        except GitHubUnavailable as failure:
            return ProposalResult(group, "failed", error=self._clean(str(failure)))
        except GitError as failure:  # origin's branch could not be read: close nothing
            problem = f"cannot read {branch}: {failure}"
            problem = redact(problem, secrets=secrets_in_env(push_env or {}))
            return ProposalResult(group, "failed", error=self._clean(problem))
        deleted = delete_bot_branch(
            workspace, branch=branch, bot_email=self._bot_email, push_env=push_env
        )
        error = "" if deleted else f"{branch} was left on origin (not the bot's, or undeletable)"
        return ProposalResult(group, "closed", pr.number, pr.html_url, error=error)

    def delete_merged_branches(
        self,
        merged: Iterable[MovePullRequest],
        *,
        workspace: Workspace,
        push_env: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Delete the bot's branch of each merged move PR that still holds what was merged;
        the branches deleted.

        GitHub deletes a merged head branch only when the repository asks it to. A branch
        that moved on (the group's next PR) or carries a person's commit is kept; a
        failure is logged, and the next pass tries again.
        """
        tips = {(BRANCH_PREFIX + m.group, m.head_sha) for m in merged if m.merged and m.head_sha}
        if not tips:
            return []
        try:
            present = remote_branches(workspace, push_env=push_env)
        except GitError as failure:
            secrets = (*self._secrets, *secrets_in_env(push_env or {}))
            log.warning("cannot list the move branches: %s", redact(str(failure), secrets=secrets))
            return []
        deleted = []
        for branch, tip in sorted(tips):
            if present.get(branch) != tip:
                continue  # gone already, or holding something newer than the merge
            if delete_bot_branch(
                workspace, branch=branch, bot_email=self._bot_email, push_env=push_env, only_at=tip
            ):
                log.info("deleted %s: its pull request was merged", branch)
                deleted.append(branch)
        return deleted

    def tell_not_arrived(self, move: MovePullRequest, *, evidence: str) -> ProposalResult | None:
        """Comment on a merged move PR, once, that its group did not arrive, with the
        evidence; None when it was said already."""
        said = f"{move.group} has not arrived on {move.target} since this was merged: {evidence}"
        try:
            with calling_github(f"comment on pull request #{move.number}"):
                pr = self._repository().get_pull(move.number)
                if not self._comment_once(pr, said, marker=NOT_ARRIVED_MARKER):
                    return None
        except RateLimited:
            raise
        except GitHubUnavailable as failure:
            return ProposalResult(
                move.group, "failed", move.number, error=self._clean(str(failure))
            )
        return ProposalResult(move.group, "told not arrived", move.number, pr.html_url)

    def _repository(self) -> Repository:
        if self._repo is None:
            self._repo = self._github.get_repo(self._repo_name)
        return self._repo

    def _comment_once(self, pr: PullRequest, text: str, *, marker: str) -> bool:
        """Comment text ending in a hidden marker, unless a comment has it; True when said."""
        if any(marker in (c.body or "") for c in pr.get_issue_comments()):
            return False
        pr.create_issue_comment(self._clean(f"{text}\n\n<!-- {marker} -->"))
        return True

    def _read(self, pr: PullRequest) -> MovePullRequest | None:
        """The move of pr, when it is a move PR from this repo (its branch and marker agree)."""
        head = pr.head
        if not head.ref.startswith(BRANCH_PREFIX) or head.label != f"{self._owner}:{head.ref}":
            return None
        fields = parse_marker(pr.body)
        if fields is None or fields["group"] != head.ref.removeprefix(BRANCH_PREFIX):
            return None
        return MovePullRequest(
            group=fields["group"],
            source=fields["from"],
            target=fields["to"],
            reason=fields.get("reason", ""),
            number=pr.number,
            url=pr.html_url,
            head_sha=head.sha,
            closed_at=pr.closed_at,
            merged_at=pr.merged_at,
            withdrawn=WITHDRAWN_LABEL in {label.name for label in pr.labels},
        )

    def _find_open(self, branch: str) -> PullRequest | None:
        pulls = self._repository().get_pulls(state="open", head=f"{self._owner}:{branch}")
        return min(pulls, key=lambda pr: pr.number, default=None)

    def _create(self, branch: str, *, title: str, body: str) -> tuple[PullRequest, str]:
        """Open the PR; or adopt the one someone opened meanwhile (a retried POST, another
        reconciler), which GitHub answers with 422 "already exists"."""
        try:
            pr = self._repository().create_pull(
                base=self._base, head=branch, title=title, body=body
            )
            return pr, "opened"
        except GithubException as failure:
            if failure.status != 422 or "already exists" not in str(failure.data):
                raise
        log.info("GitHub says a pull request for %s already exists: adopting it", branch)
        existing = self._find_open(branch)
        if existing is None:
            raise GitHubUnavailable(f"GitHub says {branch} has a pull request, but none is open")
        self._edit(existing, title=title, body=body)
        return existing, "adopted"

    def _edit(self, pr: PullRequest, *, title: str, body: str) -> bool:
        if pr.title == title and (pr.body or "") == body:
            return False
        pr.edit(title=title, body=body)
        return True

    def _label(self, pr: PullRequest, *, reason: str) -> bool:
        """Add the move labels the PR lacks, drop a stale withdrawn mark; True when changed.

        A withdrawn PR a person reopened is proposed again: if it is closed later, that
        close is theirs (a veto), not the bot's withdrawal.
        """
        present = {label.name for label in pr.labels}
        missing = [label for label in (LABEL, f"{LABEL}:{slug(reason)}") if label not in present]
        if missing:
            pr.add_to_labels(*missing)
        if WITHDRAWN_LABEL in present:
            pr.remove_from_labels(WITHDRAWN_LABEL)
        return bool(missing) or WITHDRAWN_LABEL in present

    def _body(self, proposal: MoveProposal) -> str:
        evidence = MARKER_COMMENT.sub("", self._clean(proposal.body)).rstrip()
        if len(evidence) > MAX_BODY:
            evidence = evidence[:MAX_BODY].rstrip() + "\n\n… (evidence truncated)"
        moved = {"group": proposal.group, "source": proposal.source, "target": proposal.target}
        return f"{evidence}\n\n{marker(**moved, reason=proposal.reason)}\n"

    def _clean(self, text: str) -> str:
        """The text without known secrets or anything shaped like a GitHub token."""
        return _TOKEN_LIKE.sub("***", redact(text, secrets=self._secrets))
