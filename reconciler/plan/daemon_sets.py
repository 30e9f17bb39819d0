"""A DaemonSet's pods on one cluster: one on every node its controller would run it on.

The DaemonSet controller creates one pod per node that passes its checks
(pkg/controller/daemon `NodeShouldRunDaemonPod`): the pod's nodeSelector and required node
affinity match the node, and every NoSchedule / NoExecute taint of the node is tolerated
(with the tolerations the controller adds, see workloads/apps.daemon_set_demand). A
not-Ready node carries the not-ready NoSchedule taint, which those do not tolerate: no
pod there. Each pod is bound to its node (its affinity names it), so it needs room on
that node and no other: the shape is pinned (`PodShape.node_name`), and the fit places it
there or nowhere. A cordoned node still gets its pod (the controller tolerates the
unschedulable taint), as the scheduler lets it on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reconciler.plan.demand import Demand
from reconciler.plan.fit import eligible
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape


def runs_on(shape: PodShape, node: Node) -> bool:
    """Whether the DaemonSet controller puts its pod on this node."""
    return eligible(shape, node)


def pods_per_node(shape: PodShape, nodes: Sequence[Node]) -> tuple[PodShape, ...]:
    """One pod of a DaemonSet pinned to each node it runs on, in node order."""
    return tuple(
        dataclasses.replace(shape, name=f"{shape.name} {node.name}", node_name=node.name)
        for node in nodes
        if runs_on(shape, node)
    )


def demand_on(demand: Demand, nodes: Sequence[Node]) -> Demand:
    """The group's demand on a cluster with these nodes: its DaemonSets' pods placed in
    manifest order. The same Demand when the group has no DaemonSet."""
    if not demand.daemon_sets:
        return demand
    shapes: list[PodShape] = []
    taken = 0
    for position, shape in demand.daemon_sets:
        shapes += demand.shapes[taken:position]
        shapes += pods_per_node(shape, nodes)
        taken = position
    shapes += demand.shapes[taken:]
    return dataclasses.replace(demand, shapes=tuple(shapes), daemon_sets=())
