"""What a pass remembers of the passes before it: git history, failback streaks, GitHub.

Memory lives in git and GitHub, not on disk (the failback streaks aside, see
failback_memory): a move commit's trailers start the cooldown; in mode pr an open move
pull request holds its target, one a person closed without merging vetoes that move for
the veto window (one the bot withdrew does not), and a merged one starts the cooldown.
A restart at any step converges on the next pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from reconciler.fleet.model import Fleet
from reconciler.github.move_pull_request import MovePullRequest
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.history import last_moves, read_moves
from reconciler.gitrepo.workspace import Workspace
from reconciler.plan.planner import Plan, Veto
from reconciler.reconcile.failback_memory import load_streaks, next_streaks, save_streaks


@dataclasses.dataclass(frozen=True)
class Memory:
    """What the planner is told about the past; open moves and vetoes only in mode pr."""

    last_moves: Mapping[str, dt.datetime]
    home_streaks: Mapping[str, int]
    open_moves: tuple[MovePullRequest, ...] = ()
    vetoes: Mapping[str, list[Veto]] = dataclasses.field(default_factory=dict)
    merged: tuple[MovePullRequest, ...] = ()  # move PRs merged lately: their branches may linger

    @property
    def proposed(self) -> dict[str, str]:
        """The target of each group's open move pull request (it holds that capacity)."""
        return {move.group: move.target for move in self.open_moves}


def git_memory(workspace: Workspace) -> Memory:
    """When each group last moved (its last move commit), and the failback streaks."""
    moved = {group: r.when for group, r in last_moves(read_moves(workspace.path)).items()}
    return Memory(last_moves=moved, home_streaks=load_streaks(workspace.path))


def github_memory(
    pulls: PullRequests, *, fleet: Fleet, workspace: Workspace, now: dt.datetime
) -> Memory:
    """Git's memory plus open move PRs (they hold their target), closes by a person
    (vetoes) and merges (cooldown).

    Raises GitHubUnavailable when the pull requests cannot be listed.
    """
    open_moves = pulls.open_moves()
    closed = pulls.closed_moves(since=now - _longest_veto_window(fleet))
    in_git = git_memory(workspace)
    return Memory(
        last_moves=_with_merges(in_git.last_moves, closed),
        home_streaks=in_git.home_streaks,
        open_moves=tuple(open_moves),
        vetoes=_vetoes(fleet, closed),
        merged=tuple(move for move in closed if move.merged),
    )


def remember(plan: Plan, memory: Memory, workspace: Workspace) -> None:
    """Keep what the next pass needs and git does not hold: the failback streaks."""
    save_streaks(workspace.path, next_streaks(plan, memory.home_streaks))


def _vetoes(fleet: Fleet, closed: list[MovePullRequest]) -> dict[str, list[Veto]]:
    vetoes: dict[str, list[Veto]] = {}
    for move in closed:
        group = fleet.group(move.group)
        if not move.vetoed or move.closed_at is None or group is None:
            continue
        if group.cluster != move.source:
            continue
        until = move.closed_at + group.policy.veto_window
        vetoes.setdefault(move.group, []).append(
            Veto(target=move.target, until=until, pull_request=move.number)
        )
    return vetoes


def _with_merges(
    moved: Mapping[str, dt.datetime], closed: list[MovePullRequest]
) -> dict[str, dt.datetime]:
    """When each group last moved: its last move commit, or the merge of its move PR."""
    latest = dict(moved)
    for move in closed:
        if move.merged and move.merged_at is not None:
            latest[move.group] = max(latest.get(move.group, move.merged_at), move.merged_at)
    return latest


def _longest_veto_window(fleet: Fleet) -> dt.timedelta:
    windows = [g.policy.veto_window for g in fleet.groups]
    return max(windows, default=dt.timedelta(hours=24))
