"""Publish a move as the bot's branch `placement/<group>` on origin, for a pull request.

Every pass builds the move commit afresh on the tip of origin's base branch, never on
what the branch held, and pushes it with `--force-with-lease` pinned to the branch's tip
when we looked, only while every commit the branch adds is the bot's own: a person's
commit there leaves the branch alone. When the branch already holds the same change
(same tree, on the current base tip) nothing is pushed, so an idle pass does not churn.
Only `refs/remotes/origin/*` change locally; the base branch and checkout stay put.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path

from reconciler.github.credentials import redact, secrets_in_env
from reconciler.github.move_pull_request import BRANCH_PREFIX
from reconciler.gitrepo.branch import LOST_RACE, UP_TO_DATE, fetch, push
from reconciler.gitrepo.git_command import NETWORK_TIMEOUT, GitError, git_text, run_git
from reconciler.gitrepo.move_commit import MoveRefused, build_move_commit
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Move, Workspace

log = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3


@dataclasses.dataclass(frozen=True)
class PublishResult:
    """What `publish_move_branch` did; commit is what the branch holds afterwards."""

    branch: str
    commit: str
    pushed: bool
    error: str = ""
    human: str = ""  # who made a commit on the branch, which is then left alone


def publish_move_branch(
    workspace: Workspace,
    move: Move,
    *,
    branch: str,
    bot_email: str,
    push_env: Mapping[str, str] | None = None,
) -> PublishResult:
    """Rebuild the move on origin's base tip and force-push it (with lease) to branch."""
    env = dict(push_env or {})
    ref = f"refs/heads/{branch}"
    try:
        for _ in range(PUBLISH_ATTEMPTS):
            base, tip, human = _look(workspace, branch=branch, bot_email=bot_email, env=env)
            if human:
                error = f"{branch} has a commit by {human}: left alone"
                return PublishResult(branch, tip or "", False, error, human)
            author = (DEFAULT_AUTHOR[0], bot_email)
            try:
                commit = build_move_commit(workspace.path, move, base=base, author=author)
            except MoveRefused as refused:
                return PublishResult(branch, "", False, str(refused))
            if tip is not None and _same_change(workspace.path, tip, commit, base=base):
                return PublishResult(branch, tip, False)
            problem = push(workspace.path, f"{commit}:{ref}", ref=ref, lease=tip or "", env=env)
            if problem == LOST_RACE:
                log.info("%s changed on origin while it was rebuilt; looking again", branch)
                continue
            if problem and problem != UP_TO_DATE:  # up to date: another reconciler pushed it
                error = redact(f"cannot push {branch}: {problem}", secrets=secrets_in_env(env))
                return PublishResult(branch, "", False, error)
            return PublishResult(branch, commit, not problem)
    except GitError as failure:
        error = redact(f"cannot publish {branch}: {failure}", secrets=secrets_in_env(env))
        return PublishResult(branch, "", False, error)
    error = f"{branch} kept changing on origin; gave up after {PUBLISH_ATTEMPTS} tries"
    return PublishResult(branch, "", False, error)


def delete_bot_branch(
    workspace: Workspace,
    *,
    branch: str,
    bot_email: str,
    push_env: Mapping[str, str] | None = None,
    only_at: str = "",
) -> bool:
    """Delete branch on origin if it is the bot's; True when origin no longer has it.

    False when a person's commit is on it, when it moved on from `only_at` (if given), or
    when the delete failed (logged).
    """
    env = dict(push_env or {})
    ref = f"refs/heads/{branch}"
    try:
        _, tip, human = _look(workspace, branch=branch, bot_email=bot_email, env=env)
        if tip is None:
            return True
        if (only_at and tip != only_at) or human:
            log.info("not deleting %s: %s", branch, f"a commit by {human}" if human else "moved on")
            return False
        problem = push(workspace.path, f":{ref}", ref=ref, lease=tip, env=env)
    except GitError as failure:
        problem = str(failure)
    if problem:
        log.warning("cannot delete %s: %s", branch, redact(problem, secrets=secrets_in_env(env)))
        return False
    run_git(["update-ref", "-d", f"refs/remotes/origin/{branch}"], cwd=workspace.path, check=False)
    return True


def human_on_branch(
    workspace: Workspace,
    *,
    branch: str,
    bot_email: str,
    push_env: Mapping[str, str] | None = None,
) -> str:
    """Who made a commit on origin's branch that is not the bot's; '' when none (or no
    branch). Raises GitError when origin cannot be read."""
    return _look(workspace, branch=branch, bot_email=bot_email, env=push_env or {})[2]


def remote_branches(
    workspace: Workspace, *, push_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """origin's move branches, each with its tip, from one ls-remote."""
    listing = git_text(
        ["ls-remote", "--heads", "origin", f"refs/heads/{BRANCH_PREFIX}*"],
        cwd=workspace.path,
        env=push_env,
        timeout=NETWORK_TIMEOUT,
    )
    tips = (line.split("\t") for line in listing.splitlines())
    return {ref.removeprefix("refs/heads/"): sha for sha, ref in tips}


def _look(
    workspace: Workspace, *, branch: str, bot_email: str, env: Mapping[str, str]
) -> tuple[str, str | None, str]:
    """Fetch origin's base branch and branch: the base tip, the branch's (None if none), and
    who made a commit on the branch that is not the bot's ('' if nobody)."""
    base = fetch(workspace.path, workspace.branch, env=env)
    if base is None:
        raise GitError(["fetch"], 1, f"origin has no branch {workspace.branch}")
    tip = fetch(workspace.path, branch, env=env)
    return base, tip, _human_on_branch(workspace.path, base=base, tip=tip, bot_email=bot_email)


def _human_on_branch(repo: Path, *, base: str, tip: str | None, bot_email: str) -> str:
    """Whoever made a commit on the branch that is not the bot's (its tip, or one it adds
    to the base), or ''. Author and committer must both be the bot: a person's amend keeps
    the bot as author."""
    if tip is None:
        return ""
    fmt = "--format=%an%x00%ae%x00%cn%x00%ce"
    bot = bot_email.strip().lower()
    for commits in ([tip, "--not", base], ["-1", tip]):
        for record in git_text(["log", fmt, *commits], cwd=repo).splitlines():
            author, author_email, committer, committer_email = record.split("\0")
            if author_email.strip().lower() != bot:
                return author or author_email
            if committer_email.strip().lower() != bot:
                return committer or committer_email
    return ""


def _same_change(repo: Path, tip: str, commit: str, *, base: str) -> bool:
    """True when tip is the same change as commit: equal tree, sole parent the base."""
    asked = ["rev-parse", f"{tip}^{{tree}}", f"{commit}^{{tree}}", f"{tip}^@"]
    tip_tree, tree, *parents = git_text(asked, cwd=repo).split()
    return tip_tree == tree and parents == [base]
