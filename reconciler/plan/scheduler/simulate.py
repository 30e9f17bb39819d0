"""The full simulation: every default filter and score plugin, one pod at a time.

For each pod, in creation order: the filters in the default profile's order (a node fails
at its first failing plugin, as RunFilterPlugins stops there), then each score plugin
normalized to 0-100 and weighted (pkg/scheduler/framework/runtime/framework.go), the best
node by total score, ties by node name. The pod is then bound on the board, so the next
pod's pod-to-pod rules see it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.plan.fit import (
    FitResult,
    Placement,
    total_free,
    with_reserve,
)
from reconciler.plan.scheduler import inter_pod_affinity, topology_spread
from reconciler.plan.scheduler.board import Board, ClusterView
from reconciler.plan.scheduler.node_filters import (
    ports_taken,
)
from reconciler.plan.scheduler.reasons import fit_error
from reconciler.plan.scheduler.scores import node_affinity_scores, taint_scores, weights_of
from reconciler.status.model import Node
from reconciler.workloads.shapes import HostPort, PodShape, Resources


def simulate(
    shapes: Sequence[PodShape],
    *,
    cluster: str,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    view: ClusterView,
) -> FitResult:
    """Place `shapes` in order as kube-scheduler would; the group fits only if every pod lands."""
    board = Board(view, nodes=nodes, free=free)
    placements: list[Placement] = []
    for shape in shapes:
        feasible, reasons = filtered(shape, board)
        if not feasible:
            return FitResult(
                cluster=cluster,
                fits=False,
                short=f"no node takes {shape.name}; {fit_error(len(nodes), reasons)}",
            )
        best = pick(shape, feasible, board)
        board.place(shape, best)
        placements.append(Placement(pod=shape.name, node=best.name))
    total = total_free(nodes, board.room)
    return with_reserve(cluster, total=total, reserve=reserve, placements=placements)


def filtered(shape: PodShape, board: Board) -> tuple[list[Node], dict[str, int]]:
    """The nodes that pass every filter, and how many nodes failed for each reason."""
    affinity = inter_pod_affinity.prefilter(shape, board)
    spread = topology_spread.prefilter(shape, board)
    ports = shape.coupling.host_ports if shape.coupling is not None else ()
    feasible: list[Node] = []
    reasons: dict[str, int] = {}
    for node, fixed in zip(board.nodes, board.fixed_failures(shape), strict=True):
        why = (
            [fixed]
            if fixed
            else _first_failure(shape, node, board, affinity=affinity, spread=spread, ports=ports)
        )
        if not why:
            feasible.append(node)
        for reason in why:
            reasons[reason] = reasons.get(reason, 0) + 1
    return feasible, reasons


def _first_failure(
    shape: PodShape,
    node: Node,
    board: Board,
    *,
    affinity: inter_pod_affinity.AffinityCounts | None,
    spread: topology_spread.SpreadCounts | None,
    ports: Sequence[HostPort],
) -> list[str]:
    """The reasons of the first filter plugin that rejects a node the fixed filters pass,
    in the default order."""
    if ports:
        why = ports_taken(ports, board.ports(node.name))
        if why:
            return [why]
    short, _ = board.resources(shape.requests, node)
    if short:
        return short
    if spread is not None:
        why = topology_spread.spread_filter(shape, node, spread)
        if why:
            return [why]
    if affinity is not None:
        why = inter_pod_affinity.affinity_filter(shape, node, affinity)
        if why:
            return [why]
    return []


def pick(shape: PodShape, feasible: Sequence[Node], board: Board) -> Node:
    """The feasible node with the highest weighted sum of the normalized scores, ties by name."""
    if len(feasible) == 1:
        return feasible[0]
    minor = board.view.kube_minor
    totals = [board.resources(shape.requests, node)[1] for node in feasible]
    plugin_scores = [
        ("TaintToleration", taint_scores(shape, feasible)),
        ("NodeAffinity", node_affinity_scores(shape, feasible)),
        ("InterPodAffinity", inter_pod_affinity.affinity_scores(shape, feasible, board)),
        ("PodTopologySpread", topology_spread.spread_scores(shape, feasible, board)),
    ]
    weights = weights_of(minor)
    for plugin, scores in plugin_scores:
        if scores is not None:
            weight = weights[plugin]
            totals = [total + weight * score for total, score in zip(totals, scores, strict=True)]
    best = min(range(len(feasible)), key=lambda i: (-totals[i], feasible[i].name))
    return feasible[best]
