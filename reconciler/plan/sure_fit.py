"""A sure verdict without the simulation: when every pod of a group has room on enough nodes.

`fit.fits_group` places a group's pods one by one, as the scheduler would. When each of the
group's n pods has room on at least n nodes that pass its filters (on the cluster's free
room before the group), every pod lands, wherever the scheduler puts the others: before a
pod lands, the pods created ahead of it have charged fewer than n nodes, so one of its n
nodes is untouched and still has room for it. The reserve is checked on the cluster's
total free room, which does not depend on which node takes which pod. So the verdict is
the simulation's verdict; only the node of each pod is not worked out.

Counting the nodes with room for a pod is itself a scan of the nodes, so a lower bound is
used: of the nodes that pass the pod's filters, take away those short of each resource it
asks for (a bisect in each resource's sorted free amounts). When the bound says less than
n, or the reserve fails, the caller runs the simulation, which gives the exact verdict and
says what is short.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.plan.fit import POD_SLOT, FitResult, eligible, total_free
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape, Resources

# What a pod's filters read other than resources: tolerations, nodeSelector, node affinity.
FilterKey = tuple[object, ...]


@dataclasses.dataclass(frozen=True)
class Needs:
    """What a group asks of any cluster, worked out once for all its candidates."""

    pods: int
    # Per distinct shape: its filters, a pod that has them, its positive requests.
    kinds: tuple[tuple[FilterKey, PodShape, tuple[tuple[str, int], ...]], ...]
    requested: Mapping[str, int]  # the sum of every pod's requests, its pod slots included


def needs_of(shapes: Sequence[PodShape]) -> Needs:
    """A group's pods, grouped by what the sure bound reads of them."""
    kinds: dict[tuple[FilterKey, tuple[tuple[str, int], ...]], PodShape] = {}
    requested: dict[str, int] = {}
    for shape in shapes:
        filters = (
            shape.tolerations,
            tuple(shape.node_selector.items()),
            shape.required_affinity,
        )
        asks = tuple((r, amount) for r, amount in shape.requests.items() if amount > 0)
        kinds.setdefault((filters, asks), shape)
        for resource, amount in shape.requests.items():
            requested[resource] = requested.get(resource, 0) + amount
        requested["pods"] = requested.get("pods", 0) + POD_SLOT
    return Needs(
        pods=len(shapes),
        kinds=tuple((filters, shape, asks) for (filters, asks), shape in kinds.items()),
        requested=requested,
    )


@dataclasses.dataclass
class RoomBounds:
    """One cluster's free room, arranged for the bound: sorted free amounts per filter class.

    Which nodes pass a set of filters does not depend on the room, so it is kept when the
    room changes (`room_changed`); the sorted amounts and the total are not.
    """

    nodes: Sequence[Node]
    passing: dict[FilterKey, list[int]] = dataclasses.field(default_factory=dict)
    amounts: dict[tuple[FilterKey, str], list[int]] = dataclasses.field(default_factory=dict)
    total: dict[str, int] | None = None

    def room_changed(self) -> None:
        self.amounts.clear()
        self.total = None

    def nodes_passing(self, filters: FilterKey, shape: PodShape) -> list[int]:
        found = self.passing.get(filters)
        if found is None:
            found = self.passing[filters] = [
                index for index, node in enumerate(self.nodes) if eligible(shape, node)
            ]
        return found

    def sorted_free(
        self, filters: FilterKey, resource: str, *, free: Mapping[str, Mapping[str, int]]
    ) -> list[int]:
        found = self.amounts.get((filters, resource))
        if found is None:
            found = self.amounts[(filters, resource)] = sorted(
                free.get(self.nodes[index].name, {}).get(resource, 0)
                for index in self.passing[filters]
            )
        return found


def surely_fits(
    needs: Needs,
    *,
    cluster: str,
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    bounds: RoomBounds,
) -> FitResult | None:
    """The fit's verdict when the bound proves it, with no placements; None: simulate.

    `bounds` must describe `free` on nodes with unique names (nodes sharing a name share
    their room, and one charge would count twice).
    """
    if needs.pods == 0:
        return None
    for filters, shape, asks in needs.kinds:
        passing = bounds.nodes_passing(filters, shape)
        room = len(passing)
        if room < needs.pods:
            return None
        for resource, amount in (*asks, ("pods", POD_SLOT)):
            room -= bisect.bisect_left(bounds.sorted_free(filters, resource, free=free), amount)
        if room < needs.pods:
            return None
    if bounds.total is None:
        bounds.total = total_free(bounds.nodes, free)
    total = dict(bounds.total)
    for resource, amount in needs.requested.items():
        total[resource] = total.get(resource, 0) - amount
    if any(total.get(resource, 0) < kept for resource, kept in reserve.items()):
        return None  # the simulation words it
    return FitResult(cluster=cluster, fits=True, free_after=total, placed=False)
