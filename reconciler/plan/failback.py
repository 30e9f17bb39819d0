"""Failback: bring a group home to its first preferred cluster once it fits there with margin.

Opt-in per group (`failback: true`). Hysteresis keeps it from flapping: the home cluster
must fit the group with `failbackMargin` (a share of the group's demand, per resource)
left free on top of its reserve, on two consecutive passes, and the cooldown must be over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from reconciler.fleet.model import Group
from reconciler.plan.demand import Demand
from reconciler.plan.fit import FitResult
from reconciler.plan.scheduler.board import ClusterView
from reconciler.plan.scheduler.place import fits_cluster
from reconciler.status.model import Node
from reconciler.workloads.shapes import Resources

PASSES_NEEDED = 2


def home_of(group: Group) -> str | None:
    """The cluster a failback group belongs on, when it lives elsewhere; else None."""
    preferred = group.policy.preferred_clusters
    if not group.policy.failback or not preferred or preferred[0] == group.cluster:
        return None
    return preferred[0]


def margin_reserve(demand: Demand, *, reserve: Mapping[str, int], margin: float) -> dict[str, int]:
    """The cluster's reserve plus the margin: a share of the group's demand per resource."""
    kept = dict(reserve)
    for resource, amount in demand.total.items():
        kept[resource] = kept.get(resource, 0) + math.ceil(amount * margin)
    return kept


def fits_home(
    demand: Demand,
    *,
    home: str,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Mapping[str, int],
    margin: float,
    view: ClusterView | None = None,
    runtime_overheads: Mapping[str, Resources] | None = None,
) -> FitResult:
    """Whether the home cluster takes the group and still keeps reserve + margin free."""
    return fits_cluster(
        demand.shapes,
        cluster=home,
        nodes=nodes,
        free=free,
        reserve=margin_reserve(demand, reserve=reserve, margin=margin),
        view=view if view is not None else ClusterView(),
        runtime_overheads=runtime_overheads,
    )
