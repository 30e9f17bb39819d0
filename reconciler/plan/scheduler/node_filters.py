"""The per-node filters that read only the pod and the node (and its room), in the default
profile's order, each giving the scheduler's own reason when it fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.plan.scheduler.selectors import node_term_matches
from reconciler.plan.scheduler.tolerations import tolerates
from reconciler.status.model import Node, Taint
from reconciler.workloads.shapes import HostPort, PodShape

HARD_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
UNSCHEDULABLE_TAINT = Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule")
# The node lifecycle controller taints a node that is not Ready; the snapshot keeps the
# condition, so the taint is added here (pkg/controller/nodelifecycle).
NOT_READY_TAINT = Taint(key="node.kubernetes.io/not-ready", effect="NoSchedule")


def node_name(shape: PodShape, node: Node) -> str:
    """NodeName (plugins/nodename/node_name.go): a pod bound to a node before scheduling (a
    DaemonSet's, pinned by the planner) fits only that node."""
    if shape.node_name and shape.node_name != node.name:
        return "node(s) didn't match the requested node name"
    return ""


def unschedulable(shape: PodShape, node: Node) -> str:
    """NodeUnschedulable (pkg/scheduler/framework/plugins/nodeunschedulable): a cordoned node
    takes only pods that tolerate its unschedulable taint."""
    if node.unschedulable and not tolerates(shape.tolerations, UNSCHEDULABLE_TAINT):
        return "node(s) were unschedulable"
    return ""


def untolerated_taint(shape: PodShape, node: Node) -> str:
    """TaintToleration (plugins/tainttoleration/taint_toleration.go): the first NoSchedule or
    NoExecute taint the pod does not tolerate."""
    taints: Sequence[Taint] = node.taints if node.ready else (*node.taints, NOT_READY_TAINT)
    for taint in taints:
        if taint.effect in HARD_EFFECTS and not tolerates(shape.tolerations, taint):
            return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"
    return ""


def node_affinity(shape: PodShape, node: Node) -> str:
    """NodeAffinity (plugins/nodeaffinity/node_affinity.go): nodeSelector, then any required
    term (matchExpressions and matchFields; an empty term matches no node)."""
    labels = node.labels
    if any(labels.get(key) != value for key, value in shape.node_selector.items()) or (
        shape.required_affinity
        and not any(
            node_term_matches(term, labels=labels, name=node.name)
            for term in shape.required_affinity
        )
    ):
        return "node(s) didn't match Pod's node affinity/selector"
    return ""


def fixed_failure(shape: PodShape, node: Node) -> str:
    """The reason of the first filter that reads only the pod and the node (NodeName,
    NodeUnschedulable, TaintToleration, NodeAffinity, in the default order) and rejects the
    node; '' when they all pass."""
    return (
        node_name(shape, node)
        or unschedulable(shape, node)
        or untolerated_taint(shape, node)
        or node_affinity(shape, node)
    )


def ports_taken(wanted: Sequence[HostPort], used: Sequence[HostPort]) -> str:
    """NodePorts (plugins/nodeports/node_ports.go): a host port conflicts when protocol and
    port are equal and either IP is unset (0.0.0.0) or both are the same."""
    for port in wanted:
        for other in used:
            if (
                port.port == other.port
                and port.protocol == other.protocol
                and (_any_ip(port.ip) or _any_ip(other.ip) or port.ip == other.ip)
            ):
                return "node(s) didn't have free ports for the requested pod ports"
    return ""


def insufficient(
    requests: Mapping[str, int], room: Mapping[str, int], *, pod_slot: int
) -> list[str]:
    """NodeResourcesFit (plugins/noderesources/fit.go): every resource short, in its words."""
    reasons = []
    if room.get("pods", 0) < pod_slot:
        reasons.append("Too many pods")
    for resource, amount in sorted(requests.items()):
        if amount > 0 and room.get(resource, 0) < amount:
            reasons.append(f"Insufficient {resource}")
    return reasons


def _any_ip(ip: str) -> bool:
    return ip in {"", "0.0.0.0"}
