"""The three writers, one per mode: dry-run shows, direct commits, pr proposes.

The mode picks its writer once; every pass then hands it the plan. A writer also says
what it remembers of its past writes (`recall`): commits in git, and in mode pr the move
pull requests on GitHub.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

from reconciler.core.progress import MOVES_WRITTEN, Progress, no_progress
from reconciler.fleet.model import Fleet
from reconciler.github.move_pull_request import (
    BRANCH_PREFIX,
    MoveProposal,
    MovePullRequest,
    ProposalResult,
    RateLimited,
)
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.workspace import Move, MoveResult, Workspace
from reconciler.plan.explain import commit_message, policy_summary, pull_request_title
from reconciler.plan.markdown import pull_request_body
from reconciler.plan.planner import ClusterSummary, Decision, Plan
from reconciler.reconcile.memory import Memory, git_memory, github_memory
from reconciler.reconcile.outcome import PassOutcome, WriteResult

MODES = ("dry-run", "direct", "pr")
T = TypeVar("T")


class Writer(Protocol):
    """Where the decisions of a pass go."""

    mode: str
    remembers: bool  # False: the pass leaves no trace, not even the failback streaks

    def recall(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        """What the earlier passes of this mode left behind."""
        ...

    def write(
        self,
        plan: Plan,
        *,
        workspace: Workspace,
        fleet: Fleet,
        memory: Memory,
        now: dt.datetime,
        git_env: Mapping[str, str],
    ) -> PassOutcome:
        """Write (or show) the plan's moves; git_env holds this pass's git credentials."""
        ...


class DryRunWriter:
    """Mode dry-run: the diff of every move, nothing written."""

    mode = "dry-run"
    remembers = False

    def __init__(self, *, progress: Progress = no_progress) -> None:
        self.progress = progress

    def recall(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        return git_memory(workspace)

    def write(
        self,
        plan: Plan,
        *,
        workspace: Workspace,
        fleet: Fleet,
        memory: Memory,
        now: dt.datetime,
        git_env: Mapping[str, str],
    ) -> PassOutcome:
        results = tuple(
            WriteResult(move.group, "shown", diff=workspace.diff_for(move))
            for move in counted(moves_of(plan, now=now), progress=self.progress)
        )
        return PassOutcome(plan=plan, mode=self.mode, results=results)


class DirectWriter:
    """Mode direct: each move one commit on the branch, pushed to origin when there is one."""

    mode = "direct"
    remembers = True

    def __init__(self, *, progress: Progress = no_progress) -> None:
        self.progress = progress

    def recall(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        return git_memory(workspace)

    def write(
        self,
        plan: Plan,
        *,
        workspace: Workspace,
        fleet: Fleet,
        memory: Memory,
        now: dt.datetime,
        git_env: Mapping[str, str],
    ) -> PassOutcome:
        moves = counted(moves_of(plan, now=now), progress=self.progress)
        results = tuple(_committed(workspace.apply(move, env=git_env)) for move in moves)
        return PassOutcome(plan=plan, mode=self.mode, results=results)


class PullRequestWriter:
    """Mode pr: each move a pull request; open ones no longer wanted are withdrawn, and
    the bot's branches of merged ones deleted."""

    mode = "pr"
    remembers = True

    def __init__(self, pulls: PullRequests, *, progress: Progress = no_progress) -> None:
        self.pulls = pulls
        self.progress = progress

    def recall(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        return github_memory(self.pulls, fleet=fleet, workspace=workspace, now=now)

    def write(
        self,
        plan: Plan,
        *,
        workspace: Workspace,
        fleet: Fleet,
        memory: Memory,
        now: dt.datetime,
        git_env: Mapping[str, str],
    ) -> PassOutcome:
        results: list[WriteResult] = []
        try:
            for decision in counted(plan.moves, progress=self.progress):
                proposal = _proposal(decision, fleet=fleet, clusters=plan.clusters, now=now)
                done = self.pulls.propose(proposal, workspace=workspace, push_env=git_env)
                results.append(_proposed(done))
            for stale, why in stale_moves(memory.open_moves, plan=plan):
                withdrawn = self.pulls.withdraw(
                    stale.group, why=why, workspace=workspace, push_env=git_env
                )
                if withdrawn is not None:
                    results.append(_proposed(withdrawn, withdrawal=True))
            # After the writes: a branch the group's new PR now uses has moved on and is kept.
            self.pulls.delete_merged_branches(memory.merged, workspace=workspace, push_env=git_env)
            for merged, evidence in not_arrived(memory.merged, plan=plan):
                told = self.pulls.tell_not_arrived(merged, evidence=evidence)
                if told is not None:
                    results.append(_proposed(told))
        except RateLimited as limit:
            stopped = f"GitHub rate limit reached; no more writes this pass ({limit})"
            return PassOutcome(plan=plan, mode=self.mode, results=tuple(results), stopped=stopped)
        return PassOutcome(plan=plan, mode=self.mode, results=tuple(results))


def not_arrived(
    merged: Sequence[MovePullRequest], *, plan: Plan
) -> list[tuple[MovePullRequest, str]]:
    """The latest merged move PR of each group that did not arrive where it was merged to,
    with the evidence in one line."""
    decided = {d.group: d for d in plan.decisions}
    merges = [(m.merged_at, m) for m in merged if m.merged_at is not None]
    merges.sort(key=lambda pair: pair[0])
    latest = {move.group: move for _, move in merges}  # the last merge of a group wins
    told = []
    for group, move in sorted(latest.items()):
        decision = decided.get(group)
        if decision is None or decision.landing is None or decision.cluster != move.target:
            continue
        if decision.landing.state == "not-arrived":
            told.append((move, "; ".join(decision.landing.evidence) or decision.summary))
    return told


def writer_for(
    mode: str, *, pulls: PullRequests | None = None, progress: Progress = no_progress
) -> Writer:
    """The writer of a mode; mode pr needs the pull requests to write to."""
    if mode == "pr":
        if pulls is None:
            raise ValueError("mode 'pr' needs the pull requests to write to")
        return PullRequestWriter(pulls, progress=progress)
    if mode == "direct":
        return DirectWriter(progress=progress)
    if mode == "dry-run":
        return DryRunWriter(progress=progress)
    raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")


def counted(items: Sequence[T], *, progress: Progress) -> Iterator[T]:
    """The items one by one, progress told as each is done (moves written, or shown)."""
    if not items:
        return
    progress(MOVES_WRITTEN, done=0, total=len(items))
    for done, item in enumerate(items, start=1):
        yield item
        progress(MOVES_WRITTEN, done=done, total=len(items))


def rfc3339(now: dt.datetime) -> str:
    """A time as RFC 3339 in UTC, to the second, as Kubernetes writes it."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def moves_of(plan: Plan, *, now: dt.datetime) -> list[Move]:
    """The plan's moves as git moves, each with its full commit message."""
    return [
        Move(
            group=d.group,
            source=d.cluster,
            target=d.target,
            message=commit_message(d, now=now),
            phase=d.phase,
            started=rfc3339(now),
        )
        for d in plan.moves
    ]


def stale_moves(
    open_moves: tuple[MovePullRequest, ...], *, plan: Plan
) -> list[tuple[MovePullRequest, str]]:
    """Open move PRs no longer wanted, each with the plain-words reason to close it."""
    decided = {d.group: d for d in plan.decisions}
    troubled = {p.group for p in plan.problems if p.group}
    stale = []
    for move in open_moves:
        decision = decided.get(move.group)
        if decision is None:
            if move.group not in troubled:  # a group we cannot read is not judged
                stale.append((move, f"{move.group} is no longer in the fleet repo."))
            continue
        if decision.action == "move" or decision.state in {"unknown", "invalid"}:
            continue
        if decision.cluster == move.target:
            stale.append((move, f"{move.group} is already on {move.target}."))
            continue
        stale.append((move, f"This move is no longer needed: {decision.summary}."))
    return stale


def _proposal(
    decision: Decision, *, fleet: Fleet, clusters: Sequence[ClusterSummary], now: dt.datetime
) -> MoveProposal:
    group = fleet.group(decision.group)
    policy = policy_summary(group.policy) if group is not None else ""
    return MoveProposal(
        group=decision.group,
        source=decision.cluster,
        target=decision.target,
        reason=decision.reason,
        title=pull_request_title(decision),
        body=pull_request_body(decision, clusters=clusters, now=now, policy=policy),
        commit_message=commit_message(decision, now=now),
        phase=decision.phase,
        started=rfc3339(now),
    )


def _committed(result: MoveResult) -> WriteResult:
    if result.error:
        action = "failed"
    elif result.already_moved:
        action = "already-moved"
    else:
        action = "committed"
    return WriteResult(
        result.group, action, error=result.error, commit=result.commit, pushed=result.pushed
    )


def _proposed(result: ProposalResult, *, withdrawal: bool = False) -> WriteResult:
    error = result.error
    if result.action == "left-alone" and result.human:
        not_done = "close it" if withdrawal else "push over it"
        error = (
            f"{BRANCH_PREFIX}{result.group} has a commit by {result.human} "
            f"(a person committed to it; the bot will not {not_done})"
        )
    return WriteResult(
        result.group,
        result.action,
        error=error,
        number=result.number,
        url=result.url,
        withdrawal=withdrawal,
    )
