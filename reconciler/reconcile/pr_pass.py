"""Mode `pr`: one pass that proposes each move as a pull request and withdraws stale ones.

Memory lives in git and GitHub, not on disk: an open move PR holds its target, a PR
closed without merging vetoes that move for the veto window, and a merged move's commit
(its trailers) starts the cooldown. A restart at any step converges on the next pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from reconciler.core.gc_pause import collector_paused
from reconciler.fleet.model import Fleet
from reconciler.fleet.reader import read_fleet
from reconciler.github.move_pull_request import (
    ClosedMove,
    MoveProposal,
    OpenMove,
    ProposalResult,
    RateLimited,
)
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.history import last_moves, read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.plan.explain import (
    commit_message,
    policy_summary,
    pull_request_body,
    pull_request_title,
)
from reconciler.plan.planner import Decision, Plan, Veto, make_plan
from reconciler.reconcile.failback_memory import load_streaks, next_streaks, save_streaks
from reconciler.reconcile.one_pass import StatusReader, read_states, rfc3339


@dataclasses.dataclass(frozen=True)
class PrPassOutcome:
    """What a `pr` pass decided and did on GitHub."""

    plan: Plan
    proposals: tuple[ProposalResult, ...] = ()
    withdrawals: tuple[ProposalResult, ...] = ()
    stopped: str = ""  # why writing stopped early (a rate limit), if it did

    @property
    def failed(self) -> tuple[ProposalResult, ...]:
        """Proposals or withdrawals that could not be done."""
        return tuple(r for r in self.proposals + self.withdrawals if r.action == "failed")


def run_pr_pass(
    workspace: Workspace,
    *,
    status: StatusReader,
    now: dt.datetime,
    pulls: PullRequests,
    push_env: Mapping[str, str] | None = None,
) -> PrPassOutcome:
    """Refresh, read memory from GitHub, plan, then propose and withdraw pull requests.

    Raises GitHubUnavailable when the open or closed pull requests cannot be listed: a
    pass that does not know what is already proposed must not write anything.
    """
    workspace.refresh()
    fleet = read_fleet(workspace.path)
    memory = github_memory(pulls, fleet=fleet, workspace=workspace, now=now)
    open_moves = memory.open_moves
    with collector_paused():  # many long-lived objects, no cycles (see loop.plan_pass)
        plan = make_plan(
            fleet,
            read_states(status, fleet.config, now=now),
            now=now,
            last_moves=memory.last_moves,
            proposed={m.group: m.target for m in open_moves},
            vetoes=memory.vetoes,
            home_streaks=load_streaks(workspace.path),
        )
    save_streaks(workspace.path, next_streaks(plan, load_streaks(workspace.path)))
    proposals: list[ProposalResult] = []
    withdrawals: list[ProposalResult] = []
    try:
        for decision in plan.moves:
            proposal = _proposal(decision, fleet=fleet, now=now)
            proposals.append(pulls.propose(proposal, workspace=workspace, push_env=push_env))
        for stale, why in _stale(open_moves, plan=plan, fleet=fleet):
            withdrawn = pulls.withdraw(stale.group, why=why, workspace=workspace, push_env=push_env)
            if withdrawn is not None:
                withdrawals.append(withdrawn)
    except RateLimited as limit:
        return PrPassOutcome(
            plan=plan,
            proposals=tuple(proposals),
            withdrawals=tuple(withdrawals),
            stopped=f"GitHub rate limit reached; no more writes this pass ({limit})",
        )
    return PrPassOutcome(plan=plan, proposals=tuple(proposals), withdrawals=tuple(withdrawals))


@dataclasses.dataclass(frozen=True)
class GitHubMemory:
    """What git and GitHub remember between passes in mode pr."""

    open_moves: tuple[OpenMove, ...]
    vetoes: Mapping[str, list[Veto]]
    last_moves: Mapping[str, dt.datetime]


def github_memory(
    pulls: PullRequests, *, fleet: Fleet, workspace: Workspace, now: dt.datetime
) -> GitHubMemory:
    """Open move PRs (they hold their target), unmerged closes (vetoes), merges (cooldown)."""
    open_moves = pulls.open_moves()
    closed = pulls.closed_moves(since=now - _longest_veto_window(fleet))
    return GitHubMemory(
        open_moves=tuple(open_moves),
        vetoes=_vetoes(fleet, closed),
        last_moves=_last_moves(workspace, closed),
    )


def _proposal(decision: Decision, *, fleet: Fleet, now: dt.datetime) -> MoveProposal:
    group = fleet.group(decision.group)
    policy = policy_summary(group.policy) if group is not None else ""
    return MoveProposal(
        group=decision.group,
        source=decision.cluster,
        target=decision.target,
        reason=decision.reason,
        title=pull_request_title(decision),
        body=pull_request_body(decision, now=now, policy=policy),
        commit_message=commit_message(decision, now=now),
        phase=decision.phase,
        started=rfc3339(now),
    )


def _stale(
    open_moves: tuple[OpenMove, ...], *, plan: Plan, fleet: Fleet
) -> list[tuple[OpenMove, str]]:
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


def _vetoes(fleet: Fleet, closed: list[ClosedMove]) -> dict[str, list[Veto]]:
    vetoes: dict[str, list[Veto]] = {}
    for move in closed:
        group = fleet.group(move.group)
        if move.merged or group is None or group.cluster != move.source:
            continue
        until = move.closed_at + group.policy.veto_window
        vetoes.setdefault(move.group, []).append(
            Veto(target=move.target, until=until, pull_request=move.number)
        )
    return vetoes


def _last_moves(workspace: Workspace, closed: list[ClosedMove]) -> dict[str, dt.datetime]:
    """When each group last moved: its last move commit, or the merge of its move PR."""
    moved = {group: r.when for group, r in last_moves(read_moves(workspace.path)).items()}
    for move in closed:
        if move.merged and move.merged_at is not None:
            moved[move.group] = max(moved.get(move.group, move.merged_at), move.merged_at)
    return moved


def _longest_veto_window(fleet: Fleet) -> dt.timedelta:
    windows = [g.policy.veto_window for g in fleet.groups]
    return max(windows, default=dt.timedelta(hours=24))
