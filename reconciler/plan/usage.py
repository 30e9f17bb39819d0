"""How full a cluster is, in totals people read: allocatable and used, before and after a move.

The scheduler simulation works node by node (fit.py); a reviewer first wants the cluster's
totals. These count the Ready, schedulable nodes only (the ones a pod can land on) and the
requests of the pods bound to them and still running, as fit.py's free room does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from reconciler.status.model import Node, Pod
from reconciler.workloads.shapes import Resources

_DONE_PHASES = frozenset({"Succeeded", "Failed"})


@dataclasses.dataclass(frozen=True)
class Usage:
    """A cluster's schedulable capacity and what the pods bound there ask for, per resource."""

    allocatable: Resources = dataclasses.field(default_factory=dict)
    used: Resources = dataclasses.field(default_factory=dict)


def cluster_usage(nodes: Iterable[Node], free: Mapping[str, Mapping[str, int]]) -> Usage:
    """Totals over the schedulable nodes, from the per-node free room of fit.free_on_nodes."""
    allocatable: dict[str, int] = {}
    used: dict[str, int] = {}
    for node in nodes:
        if not node.ready or node.unschedulable:
            continue
        room = free.get(node.name, {})
        for resource, amount in node.allocatable.items():
            allocatable[resource] = allocatable.get(resource, 0) + amount
            taken = amount - room.get(resource, amount)
            used[resource] = used.get(resource, 0) + taken
        # Extended resources a pod asks for but the node does not offer show as used too.
        for resource, amount in room.items():
            if resource not in node.allocatable and amount < 0:
                used[resource] = used.get(resource, 0) - amount
    used.pop("pods", None)
    allocatable.pop("pods", None)
    return Usage(allocatable=allocatable, used=used)


def pods_use(pods: Iterable[Pod]) -> dict[str, int]:
    """What these pods take where they are bound: requests of the bound, running ones."""
    total: dict[str, int] = {}
    for pod in pods:
        if not pod.node or pod.phase in _DONE_PHASES:
            continue
        for resource, amount in pod.shape.requests.items():
            total[resource] = total.get(resource, 0) + amount
    return total


def shifted(used: Mapping[str, int], change: Mapping[str, int], *, sign: int) -> dict[str, int]:
    """`used` with `change` added (sign +1) or taken away (sign -1), never below zero."""
    after = dict(used)
    for resource, amount in change.items():
        if resource == "pods":
            continue
        after[resource] = max(0, after.get(resource, 0) + sign * amount)
    return after
