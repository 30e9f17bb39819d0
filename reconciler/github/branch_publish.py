"""Publish a move as the bot's branch `placement/<group>` on origin, for a pull request.

Every pass builds the move commit afresh on the tip of origin's base branch
(`build_move_commit`), never rebasing or stacking on what the branch held.
It is pushed with `--force-with-lease` pinned to the sha the branch had when we looked,
and only while every commit the branch adds is the bot's own: a human commit there
means the branch is left alone. When the branch already holds the same change (same
tree, on the current base tip) nothing is pushed, so an idle pass does not churn.
Only `refs/remotes/origin/*` change locally; the base branch and checkout stay put.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path

from reconciler.github.credentials import redact, secrets_in_env
from reconciler.gitrepo.branch import LOST_RACE, UP_TO_DATE, push
from reconciler.gitrepo.git_command import NETWORK_TIMEOUT, GitError, git_text, run_git
from reconciler.gitrepo.move_commit import MoveRefused, build_move_commit
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Move, Workspace

log = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3
BOT_NAME = DEFAULT_AUTHOR[0]


@dataclasses.dataclass(frozen=True)
class PublishResult:
    """What `publish_move_branch` did to origin's branch.

    commit is what the branch holds afterwards (the new commit, or the unchanged tip).
    """

    branch: str
    commit: str
    pushed: bool
    changed: bool
    error: str = ""
    human_commit: bool = False
    human: str = ""  # with human_commit: who made it


@dataclasses.dataclass(frozen=True)
class _Remote:
    """What origin had when we looked: the base tip, and the branch tip if it exists."""

    base: str
    branch: str | None


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
    try:
        for _ in range(PUBLISH_ATTEMPTS):
            result = _publish_once(workspace, move, branch=branch, bot_email=bot_email, env=env)
            if result is not None:
                return result
            log.info("%s changed on origin while it was rebuilt; looking again", branch)
    except GitError as failure:
        error = redact(f"cannot publish {branch}: {failure}", secrets=secrets_in_env(env))
        return PublishResult(branch, "", False, False, error=error)
    error = f"{branch} kept changing on origin; gave up after {PUBLISH_ATTEMPTS} tries"
    return PublishResult(branch, "", False, False, error=error)


def delete_bot_branch(
    workspace: Workspace,
    *,
    branch: str,
    bot_email: str,
    push_env: Mapping[str, str] | None = None,
    only_at: str = "",
) -> bool:
    """Delete branch on origin if it is the bot's; True when origin no longer has it.

    False when a human commit is on it (left alone), when `only_at` is given and the
    branch has moved on from that commit (it holds something newer), or when the delete
    failed (logged).
    """
    env = dict(push_env or {})
    secrets = secrets_in_env(env)
    try:
        remote = _look(workspace, branch=branch, env=env)
        if remote.branch is None:
            return True
        if only_at and remote.branch != only_at:
            log.info("not deleting %s: it moved on from %s", branch, only_at[:12])
            return False
        human = _human_on_branch(workspace.path, remote, bot_email=bot_email)
        if human:
            log.info("not deleting %s: it has a commit by %s", branch, human)
            return False
        ref = f"refs/heads/{branch}"
        problem = push(workspace.path, f":{ref}", ref=ref, lease=remote.branch, env=env)
    except GitError as failure:
        log.warning("%s", redact(f"cannot delete {branch}: {failure}", secrets=secrets))
        return False
    if problem:
        log.warning("cannot delete %s: %s", branch, redact(problem, secrets=secrets))
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
    """Who made a commit on origin's branch that is not the bot's; '' when none (or no branch).

    Raises GitError when origin cannot be read.
    """
    return _human_on_branch(
        workspace.path, _look(workspace, branch=branch, env=push_env or {}), bot_email=bot_email
    )


def remote_branches(
    workspace: Workspace, *, prefix: str, push_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """origin's branches named `prefix...`, each with its tip, from one ls-remote."""
    listing = git_text(
        ["ls-remote", "--heads", "origin", f"refs/heads/{prefix}*"],
        cwd=workspace.path,
        env=dict(push_env or {}),
        timeout=NETWORK_TIMEOUT,
    )
    tips = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith(f"refs/heads/{prefix}"):
            tips[ref.removeprefix("refs/heads/")] = sha
    return tips


def _publish_once(
    workspace: Workspace, move: Move, *, branch: str, bot_email: str, env: dict[str, str]
) -> PublishResult | None:
    """One look-build-push round; None when the lease was lost and it is worth another."""
    remote = _look(workspace, branch=branch, env=env)
    human = _human_on_branch(workspace.path, remote, bot_email=bot_email)
    if human:
        error = f"{branch} has a commit by {human}: left alone"
        return PublishResult(branch, remote.branch or "", False, False, error, True, human)
    try:
        author = (BOT_NAME, bot_email)
        commit = build_move_commit(workspace.path, move, base=remote.base, author=author)
    except MoveRefused as refused:
        return PublishResult(branch, "", False, False, error=str(refused))
    if remote.branch is not None and _same_change(
        workspace.path, remote.branch, commit, remote.base
    ):
        return PublishResult(branch, remote.branch, False, False)
    ref = f"refs/heads/{branch}"
    problem = push(workspace.path, f"{commit}:{ref}", ref=ref, lease=remote.branch or "", env=env)
    if problem == LOST_RACE:
        return None
    if problem == UP_TO_DATE:  # another reconciler pushed this very commit
        return PublishResult(branch, commit, False, False)
    if problem:
        error = redact(f"cannot push {branch}: {problem}", secrets=secrets_in_env(env))
        return PublishResult(branch, "", False, False, error=error)
    return PublishResult(branch, commit, True, True)


def _look(workspace: Workspace, *, branch: str, env: Mapping[str, str]) -> _Remote:
    """Fetch origin's base branch and (if it exists) branch; their tips as fetched."""
    wanted = {f"refs/heads/{workspace.branch}", f"refs/heads/{branch}"}
    listing = git_text(
        ["ls-remote", "origin", *sorted(wanted)],
        cwd=workspace.path,
        env=env,
        timeout=NETWORK_TIMEOUT,
    )
    present = {line.split("\t", 1)[1] for line in listing.splitlines() if "\t" in line} & wanted
    base_ref = f"refs/heads/{workspace.branch}"
    if base_ref not in present:
        raise GitError(["ls-remote"], 1, f"origin has no branch {workspace.branch}")
    refspecs = [
        f"+{ref}:refs/remotes/origin/{ref.removeprefix('refs/heads/')}" for ref in sorted(present)
    ]
    run_git(
        ["fetch", "--quiet", "--no-tags", "origin", *refspecs],
        cwd=workspace.path,
        env=env,
        timeout=NETWORK_TIMEOUT,
    )
    tracking = f"refs/remotes/origin/{branch}"
    if f"refs/heads/{branch}" not in present:
        run_git(["update-ref", "-d", tracking], cwd=workspace.path, check=False)
    tips = [f"refs/remotes/origin/{workspace.branch}^{{commit}}", f"{tracking}^{{commit}}"]
    found = git_text(["rev-parse", *tips[: len(present)]], cwd=workspace.path)
    base, *tip = found.split()
    return _Remote(base=base, branch=tip[0] if tip else None)


def _human_on_branch(repo: Path, remote: _Remote, *, bot_email: str) -> str:
    """The name of whoever made a commit on the branch that is not the bot's, or ''.

    Looks at the branch tip and every commit it adds to the base: author and committer
    must both be the bot (a human amend keeps the bot as author).
    """
    if remote.branch is None:
        return ""
    fmt = "--format=%an%x00%ae%x00%cn%x00%ce"
    records = git_text(["log", fmt, remote.branch, "--not", remote.base], cwd=repo).splitlines()
    records += git_text(["log", "-1", fmt, remote.branch], cwd=repo).splitlines()
    bot = bot_email.strip().lower()
    for record in records:
        author, author_email, committer, committer_email = record.split("\0")
        if author_email.strip().lower() != bot:
            return author or author_email
        if committer_email.strip().lower() != bot:
            return committer or committer_email
    return ""


def _same_change(repo: Path, tip: str, commit: str, base: str) -> bool:
    """True when tip is the same change as commit: equal tree, sole parent the base."""
    trees = git_text(["rev-parse", f"{tip}^{{tree}}", f"{commit}^{{tree}}"], cwd=repo).split()
    parents = git_text(["rev-parse", f"{tip}^@"], cwd=repo).split()
    return trees[0] == trees[1] and parents == [base]
