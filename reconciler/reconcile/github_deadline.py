"""Mode pr within one GitHub deadline per pass: late, the pass still plans and reports.

When GitHub does not answer the listing of the move pull requests within the deadline,
the pass plans with git's memory alone, reports that plan, writes no pull request (each
decided move is a failed write) and says why in one log line. When the deadline passes
while writing, the writes left fail fast and the same line says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping

from reconciler.fleet.model import Fleet
from reconciler.github.deadline import Deadline
from reconciler.github.move_pull_request import GitHubUnavailable
from reconciler.gitrepo.workspace import Workspace
from reconciler.plan.planner import Plan
from reconciler.reconcile.memory import Memory, git_memory
from reconciler.reconcile.outcome import PassOutcome, WriteResult
from reconciler.reconcile.writers import Writer

log = logging.getLogger("reconciler")


class DeadlinePullRequestWriter:
    """The pull-request writer with the pass's GitHub time bounded by `deadline`."""

    mode = "pr"
    remembers = True

    def __init__(self, writer: Writer, *, deadline: Deadline) -> None:
        self.writer = writer
        self.deadline = deadline
        self._late = ""  # why this pass writes nothing, when GitHub was too late to read

    def recall(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        self._late = ""
        self.deadline.restart()  # the pass's GitHub part starts here
        try:
            return self.writer.recall(workspace, fleet=fleet, now=now)
        except GitHubUnavailable as failure:
            if not self.deadline.passed:
                raise  # not a matter of time: the pass fails as before
            self._late = (
                f"{self.deadline.message} ({failure}): no pull request written this pass; "
                "planned without the open move pull requests and vetoes"
            )
            log.error("%s", self._late)
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
        if self._late:
            not_written = tuple(
                WriteResult(move.group, "failed", error=self.deadline.message)
                for move in plan.moves
            )
            return PassOutcome(plan=plan, mode=self.mode, results=not_written, stopped=self._late)
        outcome = self.writer.write(
            plan, workspace=workspace, fleet=fleet, memory=memory, now=now, git_env=git_env
        )
        if not self.deadline.passed or outcome.stopped:
            return outcome
        stopped = f"{self.deadline.message}: the pull-request writes left were not made"
        log.error("%s", stopped)
        return dataclasses.replace(outcome, stopped=stopped)
