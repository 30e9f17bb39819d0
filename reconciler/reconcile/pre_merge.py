"""The pre-merge check's reading: two commits of the fleet repo, the clusters, the verdicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from pathlib import Path

from reconciler.fleet.model import Fleet
from reconciler.fleet.reader import read_fleet
from reconciler.gitrepo.commit_checkout import checked_out
from reconciler.plan.check import CheckReport, changed_groups, check_change
from reconciler.reconcile.status_source import StatusReader, read_states


@dataclasses.dataclass(frozen=True)
class PreMergeCheck:
    """The verdicts, and the head side they were judged on."""

    report: CheckReport
    head: Fleet
    head_sha: str


def check_refs(
    repo: Path,
    *,
    base: str,
    head: str,
    status: StatusReader,
    now: dt.datetime,
    zero_downtime_off: Collection[str] = (),
) -> PreMergeCheck:
    """Read the fleet at both commits (each rendered as a pass reads it) and judge the change.

    The clusters' status is read only when some group changed.
    """
    with checked_out(repo, base) as (tree, _):
        before = read_fleet(tree)
    with checked_out(repo, head) as (tree, head_sha):
        after = read_fleet(tree)
    states = read_states(status, after.config, now=now) if changed_groups(before, after) else {}
    report = check_change(before, after, states, now=now, zero_downtime_off=zero_downtime_off)
    return PreMergeCheck(report=report, head=after, head_sha=head_sha)
