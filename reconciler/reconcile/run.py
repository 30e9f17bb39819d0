"""One reconcile pass for every mode: read the fleet, the clusters and the memory, plan, write.

`run --once` and the daemon both run `Pipeline.run`; `plan`, `status` and the benchmarks
use `plan_pass`, the same reading and planning without a writer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Protocol

from reconciler.core.gc_pause import collector_paused
from reconciler.core.progress import Progress, no_progress
from reconciler.fleet.engines import with_engine_names
from reconciler.fleet.model import Fleet
from reconciler.fleet.reader import read_fleet
from reconciler.gitrepo.workspace import Workspace
from reconciler.plan.planner import Plan, make_plan
from reconciler.reconcile.memory import Memory, git_memory, remember
from reconciler.reconcile.outcome import PassOutcome
from reconciler.reconcile.status_source import StatusReader, read_states
from reconciler.reconcile.writers import Writer
from reconciler.status.model import ClusterState


def no_credentials() -> dict[str, str]:
    """git's environment for a remote that needs no credentials."""
    return {}


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """What stays the same from pass to pass: the checkout, the status, the mode's writer.

    `git_env` is asked afresh before every pass: GitHub App tokens expire after an hour
    and a mounted token file may be rotated.
    """

    workspace: Workspace
    status: StatusReader
    writer: Writer
    git_env: Callable[[], Mapping[str, str]] = no_credentials
    progress: Progress = no_progress  # told as the groups are rendered (status and writer: theirs)

    def run(self, now: dt.datetime) -> PassOutcome:
        """One pass at `now`."""
        return run_pass(
            self.workspace,
            status=self.status,
            writer=self.writer,
            now=now,
            git_env=self.git_env(),
            progress=self.progress,
        )


@dataclasses.dataclass(frozen=True)
class Reading:
    """What a pass read and decided, before anything is written."""

    fleet: Fleet
    states: Mapping[str, ClusterState]
    memory: Memory
    plan: Plan


class Recall(Protocol):
    """Where a pass's memory comes from: git alone, or git and GitHub (see writers)."""

    def __call__(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory: ...


def read_and_plan(
    workspace: Workspace,
    *,
    status: StatusReader,
    recall: Recall,
    now: dt.datetime,
    git_env: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
) -> Reading:
    """Fetch (so a push since the last pass is seen), read the fleet, the memory and the
    clusters, and decide. `run` and the read-only commands all start here."""
    workspace.refresh(env=dict(git_env or {}))
    # Millions of long-lived objects and no cycles: the collector would only walk them. One
    # pause for the whole read: resumed in between, it would walk all the fleet just read.
    with collector_paused():
        # How Argo CD and Flux name each group's applier: live objects carry those names.
        fleet = with_engine_names(
            read_fleet(workspace.path, progress=progress, cache_plain=True), root=workspace.path
        )
        memory = recall(workspace, fleet=fleet, now=now)
        states = read_states(status, fleet.config, now=now)
        plan = decide(fleet, states, memory, now=now)
    return Reading(fleet=fleet, states=states, memory=memory, plan=plan)


def run_pass(
    workspace: Workspace,
    *,
    status: StatusReader,
    writer: Writer,
    now: dt.datetime,
    git_env: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
) -> PassOutcome:
    """Refresh the checkout, read, plan, and hand the decisions to the mode's writer.

    Raises GitHubUnavailable (mode pr) when the open or closed pull requests cannot be
    listed: a pass that does not know what is already proposed must not write anything.
    """
    env = dict(git_env or {})
    reading = read_and_plan(
        workspace, status=status, recall=writer.recall, now=now, git_env=env, progress=progress
    )
    if writer.remembers:
        remember(reading.plan, reading.memory, workspace)
    return writer.write(
        reading.plan,
        workspace=workspace,
        fleet=reading.fleet,
        memory=reading.memory,
        now=now,
        git_env=env,
    )


def git_recall(workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
    """Git's memory only: last moves and failback streaks."""
    return git_memory(workspace)


def plan_pass(workspace: Workspace, *, status: StatusReader, now: dt.datetime) -> Plan:
    """Read everything and decide, writing nothing (git's memory only, not GitHub's)."""
    return read_and_plan(workspace, status=status, recall=git_recall, now=now).plan


def decide(
    fleet: Fleet, states: Mapping[str, ClusterState], memory: Memory, *, now: dt.datetime
) -> Plan:
    """The plan for this fleet, these clusters and what is remembered."""
    return make_plan(
        fleet,
        states,
        now=now,
        last_moves=memory.last_moves,
        proposed=memory.proposed,
        vetoes=memory.vetoes,
        home_streaks=memory.home_streaks,
    )
