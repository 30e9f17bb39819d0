"""A sure verdict without the simulation: when every pod of a group has room on enough nodes.

`fit.fits_group` places a group's pods one by one, as the scheduler would. Take one kind of
pod in the group (same requests, same filters) and the nodes with room for it on the
cluster's free room before the group. Only pods that have room on one of those nodes too
can take it first (room only shrinks as pods land): say k pods, this kind's own included.
If at least k nodes have room for the kind, every pod of the kind lands, wherever the
scheduler puts the others: before it lands, fewer than k of those nodes were charged, so
one is untouched and still has room. When that holds for every kind, the whole group
lands. The reserve is checked on the cluster's total free room, which does not depend on
which node takes which pod. So the verdict is the simulation's verdict; only the node of
each pod is not worked out.

The check is cheap first: k is at most the group's n pods, and a lower bound on the nodes
with room (of the nodes that pass the filters, take away those short of each resource the
kind asks for, by bisect in sorted free amounts) settles most kinds. Only when that bound
is under n are the nodes with room counted and the k pods that could take them. When the
check fails, or the reserve does, the caller runs the simulation, which gives the exact
verdict and says what is short.

The argument needs each pod's filters to be fixed per node. A pod whose filters depend on
where other pods land (pod affinity or anti-affinity, DoNotSchedule spreading, host ports)
or whose requests depend on the cluster (a RuntimeClass overhead) switches the bound off
for its group (`Needs.coupled`); so does, on a cluster, a bound pod's anti-affinity that
selects one of the group's pods (the planner asks `place.hazard_matches` first).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.plan.demand import requests_summed
from reconciler.plan.fit import POD_SLOT, FitResult, eligible, filters_key, has_room, total_free
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape, Resources

# What a pod's filters read other than resources: tolerations, nodeSelector, node affinity.
FilterKey = tuple[object, ...]


@dataclasses.dataclass
class FilterIds:
    """Small numbers for filter classes, shared by a pass's Needs and RoomBounds.

    The caches of RoomBounds are looked up for every candidate of every stuck group;
    a number hashes at once, a class of tolerations and selectors does not.
    """

    ids: dict[FilterKey, int] = dataclasses.field(default_factory=dict)

    def of(self, filters: FilterKey) -> int:
        return self.ids.setdefault(filters, len(self.ids))


@dataclasses.dataclass(frozen=True)
class Needs:
    """What a group asks of any cluster, worked out once for all its candidates."""

    pods: int
    # Per kind of pod: its filters' id, one pod of the kind, its positive requests (with its
    # pod slot), how many.
    kinds: tuple[tuple[int, PodShape, tuple[tuple[str, int], ...], int], ...]
    requested: Mapping[str, int]  # the sum of every pod's requests, its pod slots included
    filter_ids: FilterIds
    # A pod whose filters depend on other pods (pod affinity or anti-affinity, DoNotSchedule
    # spreading, host ports) or whose requests depend on the cluster (a RuntimeClass): the
    # bound's argument, that a node with room keeps it until it is charged, fails.
    coupled: bool = False


def needs_of(shapes: Sequence[PodShape], *, filter_ids: FilterIds) -> Needs:
    """A group's pods, grouped by what the sure bound reads of them."""
    kinds: dict[tuple[int, tuple[tuple[str, int], ...]], tuple[PodShape, int]] = {}
    for shape in shapes:
        filters = filter_ids.of(filters_key(shape))
        asks = tuple((r, amount) for r, amount in shape.requests.items() if amount > 0)
        asks += (("pods", POD_SLOT),)
        first, count = kinds.get((filters, asks), (shape, 0))
        kinds[(filters, asks)] = (first, count + 1)
    requested = requests_summed(shapes)
    requested["pods"] = requested.get("pods", 0) + POD_SLOT * len(shapes)
    return Needs(
        pods=len(shapes),
        kinds=tuple(
            (filters, shape, asks, count) for (filters, asks), (shape, count) in kinds.items()
        ),
        requested=requested,
        filter_ids=filter_ids,
        coupled=any(
            (shape.coupling is not None and shape.coupling.filters) or shape.runtime_class
            for shape in shapes
        ),
    )


@dataclasses.dataclass
class RoomBounds:
    """One cluster's free room, arranged for the bound: per filter class, the nodes that pass,
    and per resource their free amounts in order.

    Which nodes pass a set of filters does not depend on the room, so it is kept when the
    room changes (`room_changed`); the ordered amounts and the total are not.
    """

    nodes: Sequence[Node]
    filter_ids: FilterIds  # the ids of the Needs it answers
    passing: dict[int, frozenset[int]] = dataclasses.field(default_factory=dict)
    # Per filter class and resource: the free amounts, ascending, and the node of each.
    amounts: dict[tuple[int, str], tuple[list[int], list[int]]] = dataclasses.field(
        default_factory=dict
    )
    total: dict[str, int] | None = None

    def room_changed(self) -> None:
        self.amounts.clear()
        self.total = None

    def nodes_passing(self, filters: int, shape: PodShape) -> frozenset[int]:
        found = self.passing.get(filters)
        if found is None:
            found = self.passing[filters] = frozenset(
                index for index, node in enumerate(self.nodes) if eligible(shape, node)
            )
        return found

    def ordered_free(
        self, filters: int, resource: str, *, free: Mapping[str, Mapping[str, int]]
    ) -> tuple[list[int], list[int]]:
        """The passing nodes' free amounts of one resource, ascending, and their positions."""
        found = self.amounts.get((filters, resource))
        if found is None:
            pairs = sorted(
                (free.get(self.nodes[index].name, {}).get(resource, 0), index)
                for index in self.passing[filters]
            )
            found = self.amounts[(filters, resource)] = (
                [amount for amount, _ in pairs],
                [index for _, index in pairs],
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
    if needs.filter_ids is not bounds.filter_ids:
        raise ValueError("the needs and the bounds number filter classes differently")
    if needs.pods == 0 or needs.coupled:
        return None
    ordered = bounds.amounts  # read directly: this loop runs for every candidate of a pass
    for kind, (filters, shape, asks, _) in enumerate(needs.kinds):
        if shape.node_name:
            return None  # a pinned pod (a DaemonSet's): only the simulation decides
        room = len(bounds.nodes_passing(filters, shape))
        if room >= needs.pods:
            for resource, amount in asks:
                found = ordered.get((filters, resource))
                if found is None:
                    found = bounds.ordered_free(filters, resource, free=free)
                room -= bisect.bisect_left(found[0], amount)
        if room < needs.pods and not _enough_nodes_counted(needs, kind, free=free, bounds=bounds):
            return None
    total = _total_after(needs, bounds=bounds, free=free)
    if any(total.get(resource, 0) < kept for resource, kept in reserve.items()):
        return None  # the simulation words it
    return FitResult(cluster=cluster, fits=True, free_after=total, placed=False)


def provisionally_fits(
    needs: Needs,
    *,
    cluster: str,
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    bounds: RoomBounds,
) -> FitResult | None:
    """For a coupled group (no sure bound): a provisional "fits" when nothing cheap rules it
    out, so that the planner simulates only the clusters it would choose; None: simulate.

    Checked: the cluster's free total covers the group and keeps the reserve, and each kind
    of pod has a node that passes its node filters with room. The verdict is not a proof:
    the planner runs the full simulation on a provisional target before choosing it
    (plan/planner.py, _placed_target), and says so for the others.
    """
    if needs.filter_ids is not bounds.filter_ids:
        raise ValueError("the needs and the bounds number filter classes differently")
    if needs.pods == 0 or not needs.coupled:
        return None
    for filters, shape, _, _ in needs.kinds:
        if not any(
            has_room(shape.requests, free.get(bounds.nodes[index].name, {}))
            for index in bounds.nodes_passing(filters, shape)
        ):
            return None
    total = _total_after(needs, bounds=bounds, free=free)
    if any(amount < 0 for amount in total.values()) or any(
        total.get(resource, 0) < kept for resource, kept in reserve.items()
    ):
        return None
    return FitResult(cluster=cluster, fits=True, free_after=total, placed=False, provisional=True)


def _total_after(
    needs: Needs, *, bounds: RoomBounds, free: Mapping[str, Mapping[str, int]]
) -> dict[str, int]:
    """The cluster's free total (counted once per bounds) less what the group asks for."""
    if bounds.total is None:
        bounds.total = total_free(bounds.nodes, free)
    total = dict(bounds.total)
    for resource, amount in needs.requested.items():
        total[resource] = total.get(resource, 0) - amount
    return total


def _enough_nodes_counted(
    needs: Needs,
    kind: int,
    *,
    free: Mapping[str, Mapping[str, int]],
    bounds: RoomBounds,
) -> bool:
    """The nodes with room for one kind, against the pods that could take one of them first.

    The nodes with room are looked for among those with enough of the resource that the
    fewest nodes have enough of. A pod can only ever take a node that had room for it
    before the group: room only shrinks as the group's pods land.
    """
    filters, shape, asks, _ = needs.kinds[kind]
    enough = []  # per resource asked: the nodes with enough of it
    for resource, amount in asks:
        amounts, positions = bounds.ordered_free(filters, resource, free=free)
        enough.append(positions[bisect.bisect_left(amounts, amount) :])
    roomy = [
        position
        for position in min(enough, key=len)
        if has_room(shape.requests, free.get(bounds.nodes[position].name, {}))
    ]
    contenders = 0
    for other, (other_filters, other_shape, _, count) in enumerate(needs.kinds):
        if other == kind or any(
            position in bounds.nodes_passing(other_filters, other_shape)
            and has_room(other_shape.requests, free.get(bounds.nodes[position].name, {}))
            for position in roomy
        ):
            contenders += count
    return len(roomy) >= contenders
