"""Node-level fit: predict where kube-scheduler would put a group's pods, one by one.

This is a simulation of the default scheduler's greedy placement, not a packing search:
pods go in creation order, each onto the eligible node where it fits with the highest
LeastAllocated + BalancedAllocation score, ties by node name. A packing that a search
could find but the scheduler would not is useless: the move would stall again.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable, Mapping, Sequence

from reconciler.core.quantity import format_amount
from reconciler.plan.scheduler.node_filters import fixed_failure, insufficient
from reconciler.plan.scheduler.reasons import fit_error
from reconciler.status.model import ClusterState, Node, Pod
from reconciler.workloads.shapes import PodShape, Resources

POD_SLOT = 1000  # one pod in the "pods" resource, in milli-units
_DONE_PHASES = frozenset({"Succeeded", "Failed"})


@dataclasses.dataclass(frozen=True)
class Placement:
    """One pod of the group and the node the scheduler would bind it to."""

    pod: str
    node: str


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Whether a cluster takes the whole group, where each pod lands, or what is short."""

    cluster: str
    fits: bool
    placements: tuple[Placement, ...] = ()
    short: str = ""  # plain words, e.g. "short 6 CPU on the best node for ..."
    free_after: Mapping[str, int] = dataclasses.field(default_factory=dict)  # cluster total
    # False when the verdict came from sure_fit's bound: the pods were not placed node by node.
    placed: bool = True
    # True for sure_fit's provisional verdict on a group with pod-to-pod rules: only the
    # cluster's totals were checked; the planner simulates it before choosing it.
    provisional: bool = False


def free_on_nodes(
    state: ClusterState, *, without_pods: frozenset[tuple[str, str]] = frozenset()
) -> dict[str, dict[str, int]]:
    """Per node: allocatable minus the requests of pods bound there and still running.

    `without_pods` ((namespace, name) pairs) are left out: a group re-checked on its own
    cluster does not compete with itself.
    """
    free = {node.name: dict(node.allocatable) for node in state.nodes}
    mine = [p for p in state.pods if (p.namespace, p.name) not in without_pods]
    charge_pods(free, mine, sign=-1)
    return free


def with_pods_added_back(
    free: Mapping[str, Mapping[str, int]], pods: Iterable[Pod]
) -> dict[str, dict[str, int]]:
    """A copy of per-node free room with these bound pods' requests given back."""
    room = {name: dict(amounts) for name, amounts in free.items()}
    charge_pods(room, pods, sign=+1)
    return room


def charge_pods(room: dict[str, dict[str, int]], pods: Iterable[Pod], *, sign: int) -> None:
    """Take (sign -1) or give back (sign +1) the requests of bound, running pods."""
    for pod in pods:
        if not pod.node or pod.phase in _DONE_PHASES or pod.node not in room:
            continue
        charge_shape(room[pod.node], pod.shape.requests, sign=sign)


def charge_shape(node_room: dict[str, int], requests: Mapping[str, int], *, sign: int = -1) -> None:
    """Take (or give back) one pod's requests and its pod slot on one node."""
    for resource, amount in requests.items():
        node_room[resource] = node_room.get(resource, 0) + sign * amount
    node_room["pods"] = node_room.get("pods", 0) + sign * POD_SLOT


# A shape's key for a cached ranking: everything eligibility, room and score read.
ShapeKey = tuple[object, ...]
# A ranked node: (-score, name, position in `nodes`, computed in this fit rather than cached).
_Entry = tuple[int, str, int, bool]


@dataclasses.dataclass
class Rankings:
    """What every fit on one cluster's unchanged free room can share: valid for that room only."""

    by_shape: dict[ShapeKey, tuple[list[_Entry], frozenset[int]]] = dataclasses.field(
        default_factory=dict
    )
    total: dict[str, int] | None = None  # total_free of the room
    unique_names: bool | None = None
    # Whole fits by the group's sequence of shape keys and the reserve (see _Outcome).
    outcomes: dict[tuple[object, ...], _Outcome] = dataclasses.field(default_factory=dict)
    kube_minor: int | None = None  # the cluster's version picks the BalancedAllocation formula

    def names_unique(self, nodes: Sequence[Node]) -> bool:
        """Whether no two nodes share a name (nodes that do share their room)."""
        if self.unique_names is None:
            self.unique_names = len({node.name for node in nodes}) == len(nodes)
        return self.unique_names


@dataclasses.dataclass(frozen=True)
class _Outcome:
    """A whole fit on one room, without the pod names: groups with the same shapes share it.

    Pod names only label the placements and the shortage text; every choice depends on the
    shape keys alone, so a group whose pods have the same keys in the same order gets the
    same nodes, the same pod that lands nowhere (`failed`, with the room it met) or the
    same verdict of the reserve.
    """

    nodes: tuple[str, ...] = ()
    total: Mapping[str, int] | None = None  # free after, when the fit held
    failed: int = -1  # the position of the pod that landed nowhere
    room: Mapping[str, Mapping[str, int]] | None = None  # the room that pod met
    short: str = ""  # the reserve's verdict (it names no pod)


def fits_group(
    shapes: Sequence[PodShape],
    *,
    cluster: str,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    rankings: Rankings | None = None,
    keys: Sequence[ShapeKey] | None = None,
    kube_minor: int | None = None,
) -> FitResult:
    """Simulate the scheduler placing `shapes` in order; the group fits only if every pod lands.

    The fast path: it ranks nodes by resources alone, exact for pods that are
    `scored_alone` (plan/scheduler/place.py sends the others to the full simulation).
    `kube_minor` is the cluster's version, unless `rankings` (which carry it) are given.

    `rankings` may hold the nodes ranked for each shape on this `free`, shared by every fit
    of one pass on the cluster; the caller empties it whenever `free` changes. Each pod
    still goes to the node `best_node` would pick: only the nodes charged by this fit are
    ranked again, every other node's score is unchanged.
    """
    shared = rankings if rankings is not None else Rankings(kube_minor=kube_minor)
    if not shared.names_unique(nodes):
        return _fits_group_node_by_node(
            shapes,
            cluster=cluster,
            nodes=nodes,
            free=free,
            reserve=reserve,
            kube_minor=shared.kube_minor,
        )
    shape_keys = tuple(keys) if keys is not None else shape_keys_of(shapes)
    key = (shape_keys, tuple(reserve.items()))
    outcome = shared.outcomes.get(key)
    if outcome is None:
        outcome = shared.outcomes[key] = _fit_outcome(
            shapes, shape_keys, nodes=nodes, free=free, reserve=reserve, shared=shared
        )
    return _result_of(outcome, shapes, cluster=cluster, nodes=nodes)


def _result_of(
    outcome: _Outcome, shapes: Sequence[PodShape], *, cluster: str, nodes: Sequence[Node]
) -> FitResult:
    """The FitResult of a whole fit, labelled with this group's pod names."""
    if outcome.room is not None:
        shape = shapes[outcome.failed]
        return FitResult(
            cluster=cluster, fits=False, short=explain_short(shape, nodes=nodes, room=outcome.room)
        )
    if outcome.total is None:
        return FitResult(cluster=cluster, fits=False, short=outcome.short)
    placements = tuple(
        Placement(pod=shape.name, node=node)
        for shape, node in zip(shapes, outcome.nodes, strict=True)
    )
    return FitResult(
        cluster=cluster, fits=True, placements=placements, free_after=dict(outcome.total)
    )


def _fit_outcome(
    shapes: Sequence[PodShape],
    shape_keys: Sequence[ShapeKey],
    *,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    shared: Rankings,
) -> _Outcome:
    """fits_group's simulation on nodes with unique names (see fits_group)."""
    room: dict[str, Mapping[str, int]] = dict(free)
    charged: dict[int, dict[str, int]] = {}  # position in nodes -> this fit's copy of its room
    placed: list[str] = []
    heap: list[_Entry] = []
    takers: frozenset[int] = frozenset()  # positions of the nodes that pass the filters
    heap_key: ShapeKey | None = None
    for pod_index, (shape, key) in enumerate(zip(shapes, shape_keys, strict=True)):
        if key != heap_key:
            heap, takers = _ranked(shape, key, nodes=nodes, free=free, rankings=shared)
            for position, charged_room in charged.items():
                _push_fresh(
                    heap,
                    shape,
                    nodes[position],
                    position,
                    charged_room,
                    takers=takers,
                    kube_minor=shared.kube_minor,
                )
            heap_key = key
        best = _pop_best(heap, charged)
        if best is None:
            return _Outcome(failed=pod_index, room=room)
        node = nodes[best]
        node_room = charged.get(best)
        if node_room is None:
            node_room = charged[best] = dict(room[node.name])
            room[node.name] = node_room
        charge_shape(node_room, shape.requests)
        _push_fresh(heap, shape, node, best, node_room, takers=takers, kube_minor=shared.kube_minor)
        placed.append(node.name)
    if shared.total is None:
        shared.total = total_free(nodes, free)
    total = dict(shared.total)
    for index, node_room in charged.items():
        # A charged node passed the filters, so it is Ready; total_free counts it unless it
        # is cordoned (a pod tolerating that, a DaemonSet's, may land there).
        if nodes[index].unschedulable:
            continue
        before = free.get(nodes[index].name, {})
        for resource, amount in node_room.items():
            total[resource] = total.get(resource, 0) + amount - before.get(resource, 0)
    verdict = with_reserve("", total=total, reserve=reserve, placements=[])
    if not verdict.fits:
        return _Outcome(short=verdict.short)
    return _Outcome(nodes=tuple(placed), total=total)


def shape_keys_of(shapes: Sequence[PodShape]) -> tuple[ShapeKey, ...]:
    """Each pod's key for the cached rankings; a group's keys serve all its candidates."""
    return tuple(_shape_key(shape) for shape in shapes)


def _shape_key(shape: PodShape) -> ShapeKey:
    return (tuple(shape.requests.items()), *filters_key(shape))


def filters_key(shape: PodShape) -> tuple[object, ...]:
    """What `eligible` reads of a pod: tolerations, nodeSelector, node affinity, its node."""
    return (
        shape.tolerations,
        tuple(shape.node_selector.items()),
        shape.required_affinity,
        shape.node_name,
    )


def _ranked(
    shape: PodShape,
    key: ShapeKey,
    *,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    rankings: Rankings,
) -> tuple[list[_Entry], frozenset[int]]:
    """A heap of the nodes that take `shape` on `free`, best first (a copy: pops are local),
    and the positions of the nodes that pass the filters other than resources."""
    cached = rankings.by_shape.get(key)
    if cached is None:
        entries: list[_Entry] = []
        takers = []
        for index, node in enumerate(nodes):
            if not eligible(shape, node):
                continue
            takers.append(index)
            node_room = free.get(node.name, {})
            if has_room(shape.requests, node_room):
                score = node_score(
                    shape.requests, node=node, room=node_room, kube_minor=rankings.kube_minor
                )
                entries.append((-score, node.name, index, False))
        heapq.heapify(entries)
        cached = rankings.by_shape[key] = (entries, frozenset(takers))
    return list(cached[0]), cached[1]


def _push_fresh(
    heap: list[_Entry],
    shape: PodShape,
    node: Node,
    index: int,
    node_room: Mapping[str, int],
    *,
    takers: frozenset[int],
    kube_minor: int | None,
) -> None:
    """Rank a node this fit has charged, on its room now."""
    if index in takers and has_room(shape.requests, node_room):
        score = node_score(shape.requests, node=node, room=node_room, kube_minor=kube_minor)
        heapq.heappush(heap, (-score, node.name, index, True))


def _pop_best(heap: list[_Entry], charged: Mapping[int, object]) -> int | None:
    """The best node's position: highest score, ties by name (stale cached ranks skipped)."""
    while heap:
        _, _, index, fresh = heapq.heappop(heap)
        if fresh or index not in charged:
            return index
    return None


def with_reserve(
    cluster: str, *, total: dict[str, int], reserve: Resources, placements: list[Placement]
) -> FitResult:
    """The fit, once every pod has landed (`total` free left): it holds only if the reserve does."""
    for resource, kept in reserve.items():
        if total.get(resource, 0) < kept:
            left = format_amount(resource, max(total.get(resource, 0), 0))
            return FitResult(
                cluster=cluster,
                fits=False,
                short=(
                    f"would leave {left} {_label(resource)} free, "
                    f"under the reserve of {format_amount(resource, kept)}"
                ),
            )
    return FitResult(cluster=cluster, fits=True, placements=tuple(placements), free_after=total)


def _fits_group_node_by_node(
    shapes: Sequence[PodShape],
    *,
    cluster: str,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    kube_minor: int | None,
) -> FitResult:
    """fits_group scoring every node for every pod (nodes sharing a name share their room)."""
    room = {name: dict(amounts) for name, amounts in free.items()}
    placements: list[Placement] = []
    for shape in shapes:
        node = best_node(shape, nodes=nodes, room=room, kube_minor=kube_minor)
        if node is None:
            return FitResult(
                cluster=cluster, fits=False, short=explain_short(shape, nodes=nodes, room=room)
            )
        charge_shape(room[node.name], shape.requests)
        placements.append(Placement(pod=shape.name, node=node.name))
    total = total_free(nodes, room)
    return with_reserve(cluster, total=total, reserve=reserve, placements=placements)


def best_node(
    shape: PodShape,
    *,
    nodes: Sequence[Node],
    room: Mapping[str, Mapping[str, int]],
    kube_minor: int | None = None,
) -> Node | None:
    """The node the scheduler would pick for one pod, or None when no node passes the filters."""
    best: Node | None = None
    best_score = 0
    for node in nodes:
        if not eligible(shape, node) or not has_room(shape.requests, room.get(node.name, {})):
            continue
        score = node_score(shape.requests, node=node, room=room[node.name], kube_minor=kube_minor)
        if best is None or score > best_score or (score == best_score and node.name < best.name):
            best, best_score = node, score
    return best


def eligible(shape: PodShape, node: Node) -> bool:
    """Filters other than resources and pod-to-pod rules: NodeName (a DaemonSet's pod is
    bound to its node), NodeUnschedulable, TaintToleration (a node that is not Ready counts
    as tainted not-ready), NodeAffinity."""
    return not fixed_failure(shape, node)


def node_score(
    requests: Mapping[str, int],
    *,
    node: Node,
    room: Mapping[str, int],
    kube_minor: int | None = None,
) -> int:
    """LeastAllocated + BalancedAllocation over CPU and memory, after placing the pod (0-200).

    pkg/scheduler/framework/plugins/noderesources/least_allocated.go and
    balanced_allocation.go. BalancedAllocation scored 1 - |CPU fraction - memory fraction|
    (0 once a fraction reaches 1) up to Kubernetes 1.21; from 1.22 (kubernetes/kubernetes
    #101946) it scores 1 - the standard deviation of the fractions, |difference| / 2 for two
    resources. An unknown version gets the current formula.
    """
    fractions_used = []
    least_allocated = 0
    for resource in ("cpu", "memory"):
        capacity = node.allocatable.get(resource, 0)
        if capacity <= 0:
            fractions_used.append(1.0)
            continue
        # An overcommitted node scores 0 for that resource, as in kube-scheduler.
        left = max(room.get(resource, 0) - requests.get(resource, 0), 0)
        least_allocated += (left * 100) // capacity
        fractions_used.append(1 - left / capacity)
    least_allocated //= 2
    difference = abs(fractions_used[0] - fractions_used[1])
    if kube_minor is not None and kube_minor < 22:
        balanced = 0 if max(fractions_used) >= 1 else int(100 * (1 - difference))
    else:
        balanced = int(100 * (1 - difference / 2))
    return least_allocated + balanced


def total_free(nodes: Sequence[Node], room: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Free capacity summed over the nodes that can take pods (Ready, schedulable)."""
    total: dict[str, int] = {}
    for node in nodes:
        if not node.ready or node.unschedulable:
            continue
        for resource, amount in room.get(node.name, {}).items():
            total[resource] = total.get(resource, 0) + amount
    return total


def explain_short(
    shape: PodShape, *, nodes: Sequence[Node], room: Mapping[str, Mapping[str, int]]
) -> str:
    """Why one pod lands nowhere: what is short on the closest node, then the scheduler's own
    words ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable.")."""
    gap = why_no_node(shape, nodes=nodes, room=room)
    head = f"{gap} for {shape.name}" if gap else f"no node accepts {shape.name}"
    return f"{head}; {fit_error(len(nodes), node_reasons(shape, nodes=nodes, room=room))}"


def why_no_node(
    shape: PodShape, *, nodes: Sequence[Node], room: Mapping[str, Mapping[str, int]]
) -> str:
    """What is short on the closest node that passes the other filters ('' when none does)."""
    candidates = [node for node in nodes if eligible(shape, node)]
    if not candidates:
        return ""
    ranked = sorted(
        candidates,
        key=lambda n: (_gap_size(_shortage(shape.requests, room.get(n.name, {})), n), n.name),
    )
    best_node_name = ranked[0].name
    best_gap = _shortage(shape.requests, room.get(best_node_name, {}))
    missing = ", ".join(f"{format_amount(r, amount)} {_label(r)}" for r, amount in best_gap)
    return f"short {missing} on the best node ({best_node_name})"


def node_reasons(
    shape: PodShape, *, nodes: Sequence[Node], room: Mapping[str, Mapping[str, int]]
) -> dict[str, int]:
    """Per reason, the nodes the fast path's filters reject with it, as the scheduler says it."""
    reasons: dict[str, int] = {}
    for node in nodes:
        why = fixed_failure(shape, node)
        found = (
            [why]
            if why
            else insufficient(shape.requests, room.get(node.name, {}), pod_slot=POD_SLOT)
        )
        for reason in found:
            reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def has_room(requests: Mapping[str, int], room: Mapping[str, int]) -> bool:
    """Whether a node's room takes one pod with these requests (and its pod slot)."""
    if room.get("pods", 0) < POD_SLOT:
        return False
    return all(
        room.get(resource, 0) >= amount for resource, amount in requests.items() if amount > 0
    )


def _shortage(requests: Mapping[str, int], room: Mapping[str, int]) -> list[tuple[str, int]]:
    wanted = dict(requests)
    wanted["pods"] = POD_SLOT
    return [
        (r, amount - room.get(r, 0))
        for r, amount in sorted(wanted.items())
        if amount > room.get(r, 0)
    ]


def _gap_size(gap: list[tuple[str, int]], node: Node) -> float:
    """How far a node is from taking the pod: the shortages as fractions of its capacity."""
    return sum(amount / max(node.allocatable.get(r, 0), 1) for r, amount in gap)


def _label(resource: str) -> str:
    return {"cpu": "CPU", "pods": "pod slot(s)"}.get(resource, resource)
