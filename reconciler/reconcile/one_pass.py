"""One reconcile pass: read the fleet and the clusters, plan, then write (or show) the moves."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.core.config import FleetConfig
from reconciler.core.gc_pause import collector_paused
from reconciler.fleet.reader import read_fleet
from reconciler.gitrepo.history import last_moves, read_moves
from reconciler.gitrepo.workspace import Move, MoveResult, Workspace
from reconciler.plan.explain import commit_message
from reconciler.plan.planner import Plan, make_plan
from reconciler.reconcile.failback_memory import load_streaks, next_streaks, save_streaks
from reconciler.status.model import ClusterState, mark_stale
from reconciler.status.snapshot import read_snapshots

StatusReader = Callable[[FleetConfig], Mapping[str, ClusterState]]


@dataclasses.dataclass(frozen=True)
class PassOutcome:
    """What one pass decided and what it wrote."""

    plan: Plan
    mode: str
    results: tuple[MoveResult, ...] = ()
    diffs: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[MoveResult, ...]:
        """Moves that were decided but could not be written."""
        return tuple(r for r in self.results if r.error)


def snapshot_status(directory: Path) -> StatusReader:
    """Status from a directory of per-cluster snapshot files."""
    return lambda config: read_snapshots(directory, clusters=[c.name for c in config.clusters])


def live_status(*, kubeconfig: str | None) -> StatusReader:
    """Status read from the clusters' API servers through their kubeconfig contexts."""

    def read(config: FleetConfig) -> Mapping[str, ClusterState]:
        from reconciler.status.live import read_live  # the kubernetes client loads slowly

        return read_live(config.clusters, kubeconfig=kubeconfig)

    return read


def rfc3339(now: dt.datetime) -> str:
    """A time as RFC 3339 in UTC, to the second, as Kubernetes writes it."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_states(
    status: StatusReader, config: FleetConfig, *, now: dt.datetime
) -> dict[str, ClusterState]:
    """Every cluster's status, with stale ones (older than maxStatusAge) made unknown."""
    limits = {c.name: c.max_status_age or config.max_status_age for c in config.clusters}
    return mark_stale(status(config), now=now, max_age=limits)


def plan_pass(workspace: Workspace, *, status: StatusReader, now: dt.datetime) -> Plan:
    """Read everything and decide, writing nothing."""
    # Millions of long-lived objects and no cycles: the collector would only walk them.
    with collector_paused():
        fleet = read_fleet(workspace.path)
        states = read_states(status, fleet.config, now=now)
        moved = {g: record.when for g, record in last_moves(read_moves(workspace.path)).items()}
        streaks = load_streaks(workspace.path)
        return make_plan(fleet, states, now=now, last_moves=moved, home_streaks=streaks)


def run_pass(
    workspace: Workspace, *, status: StatusReader, now: dt.datetime, mode: str
) -> PassOutcome:
    """One pass: refresh the checkout, plan, and write each move as its own commit."""
    workspace.refresh()
    plan = plan_pass(workspace, status=status, now=now)
    if mode != "dry-run":
        save_streaks(workspace.path, next_streaks(plan, load_streaks(workspace.path)))
    moves = [
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
    if mode == "dry-run":
        return PassOutcome(plan=plan, mode=mode, diffs=tuple(workspace.diff_for(m) for m in moves))
    results = tuple(workspace.apply(move) for move in moves)
    return PassOutcome(plan=plan, mode=mode, results=results)
