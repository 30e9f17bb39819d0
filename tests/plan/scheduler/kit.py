"""Builders for the scheduler table tests: pods from real pod-spec fields, and a fit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.plan.fit import FitResult, free_on_nodes
from reconciler.plan.scheduler.board import view_of
from reconciler.plan.scheduler.place import fits_cluster
from reconciler.status.model import ClusterState, Node, Pod
from reconciler.workloads.pod_spec import shape_from_pod_spec
from reconciler.workloads.shapes import PodShape
from tests.plan.builders import NOW

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def spec(cpu: str = "1", memory: str = "1Gi", **fields: Any) -> dict[str, Any]:
    """A pod spec with one container requesting cpu and memory, plus any other fields."""
    container: dict[str, Any] = {
        "name": "c",
        "resources": {"requests": {"cpu": cpu, "memory": memory}},
    }
    ports = fields.pop("ports", None)
    if ports:
        container["ports"] = ports
    return {"containers": [container], **fields}


def incoming(
    name: str,
    pod_spec: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
    namespace: str = "default",
) -> PodShape:
    """A pod of the group, as the demand side builds it."""
    return shape_from_pod_spec(pod_spec, name=name, namespace=namespace, labels=labels)


def bound(
    name: str,
    node: str,
    pod_spec: Mapping[str, Any] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    namespace: str = "default",
) -> Pod:
    """A running pod bound to a node, as the status side builds it."""
    shape = shape_from_pod_spec(pod_spec or spec(), name=f"{namespace}/{name}", namespace=namespace)
    return Pod(
        namespace=namespace,
        name=name,
        shape=shape,
        node=node,
        phase="Running",
        labels=dict(labels or {}),
    )


def hosts(*names: str, zone: Mapping[str, str] | None = None, **more: Any) -> list[Node]:
    """Nodes labelled with their hostname (and a zone when `zone` maps name → zone)."""
    from tests.plan.builders import node

    found = []
    for name in names:
        labels = {HOST: name}
        if zone and name in zone:
            labels[ZONE] = zone[name]
        found.append(node(name, labels={**labels, **more.pop("labels", {})}, **more))
    return found


def fit(
    shapes: Sequence[PodShape],
    nodes: Sequence[Node],
    pods: Iterable[Pod] = (),
    *,
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    kube_minor: int | None = None,
    runtime_overheads: Mapping[str, Mapping[str, int]] | None = None,
) -> FitResult:
    """The planner's verdict for these pods on a cluster of these nodes and bound pods."""
    state = ClusterState(
        name="c",
        known=True,
        nodes=tuple(nodes),
        pods=tuple(pods),
        read_at=NOW,
        namespace_labels=dict(namespace_labels or {}),
        kube_minor=kube_minor,
    )
    return fits_cluster(
        shapes,
        cluster="c",
        nodes=state.nodes,
        free=free_on_nodes(state),
        reserve={},
        view=view_of(state),
        runtime_overheads=runtime_overheads,
    )


def nodes_of(result: FitResult) -> list[str]:
    """Where each pod landed, in order."""
    return [p.node for p in result.placements]
