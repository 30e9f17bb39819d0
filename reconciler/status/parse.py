"""Wire Structs (reconciler.status.wire) → ClusterState: the one way objects become the model.

The live source decodes its list responses into wire Structs; the snapshot source decodes
JSON the same way, or converts the plain dicts YAML gives (`cluster_state_from_items`).
Only the fields the planner needs are kept, and an object that cannot be read is skipped
with a reason, never fatal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from reconciler.core.quantity import QuantityError, resources_to_milli
from reconciler.status import wire
from reconciler.status.model import ClusterState, Condition, KubeObject, Node, OwnerRef, Pod, Taint
from reconciler.workloads.pod_spec import shape_from_pod_spec
from reconciler.workloads.shapes import PodShape

OWNER_KINDS = wire.OWNER_KINDS
RAY_KINDS = wire.RAY_KINDS


def cluster_state_from_items(
    items: Iterable[object], *, cluster: str, read_at: dt.datetime | None = None
) -> ClusterState:
    """Build a known ClusterState from plain objects (YAML, tests); bad ones go to `skipped`."""
    converted = (wire.convert_item(item) for item in items)
    return cluster_state_from_wire(
        (item for item in converted if item is not None), cluster=cluster, read_at=read_at
    )


def cluster_state_from_wire(
    objects: Iterable[wire.WireObject], *, cluster: str, read_at: dt.datetime | None = None
) -> ClusterState:
    """Build a known ClusterState from wire Structs; unreadable objects are listed in `skipped`."""
    nodes: list[Node] = []
    pods: list[Pod] = []
    kube_objects: list[KubeObject] = []
    skipped: list[str] = []
    namespace_labels: dict[str, dict[str, str]] = {}
    overheads: dict[str, dict[str, int]] = {}
    for item in objects:
        if isinstance(item, wire.Unreadable):
            skipped.append(item.reason)
            continue
        try:
            if isinstance(item, wire.Object) and item.kind == "Namespace":
                namespace_labels[_required_name(item.metadata)] = item.metadata.labels or {}
            elif isinstance(item, wire.Object) and item.kind == "RuntimeClass":
                fixed = item.overhead.podFixed if item.overhead else None
                overheads[_required_name(item.metadata)] = resources_to_milli(fixed or {})
            elif isinstance(item, wire.Pod):
                pods.append(pod_from(item))
            elif isinstance(item, wire.Node):
                nodes.append(node_from(item))
            else:
                kube_objects.append(object_from(item))
        except (QuantityError, ValueError) as error:
            skipped.append(f"{item.kind} {_name(item.metadata)}: {error}")
    inconsistent, unseen = _pods_on_missing_nodes(nodes, pods, skipped=skipped)
    if inconsistent:
        return ClusterState.unknown(cluster, inconsistent)
    return ClusterState(
        name=cluster,
        known=True,
        nodes=tuple(nodes),
        pods=tuple(pods),
        objects=tuple(kube_objects),
        read_at=read_at,
        skipped=tuple(skipped + unseen),
        namespace_labels=namespace_labels,
        runtime_overheads=overheads,
    )


def _pods_on_missing_nodes(
    nodes: list[Node], pods: list[Pod], *, skipped: list[str]
) -> tuple[str, list[str]]:
    """(why the read is inconsistent, or ''; notes on pods bound to nodes it does not have).

    Nodes are listed before pods, so a node that joined in between has pods but no entry.
    Its room is not counted either, so leaving those pods' usage out is safe: they stay in
    the state (bound, so never stuck) and the plan says so. A read is inconsistent only
    when the node list cannot be trusted: a node in it was unreadable, or it shares no
    node with the pods' bindings (empty, cut, or not this cluster's), so every node would
    look emptier than it is. Such a read is not judged and not targeted.
    """
    known = {node.name for node in nodes}
    bound = {pod.node for pod in pods if pod.node}
    missing = sorted(bound - known)
    if not missing:
        return "", []
    node_problems = [item for item in skipped if item.startswith("Node ")]
    if node_problems or not bound & known:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        why = (
            f"inconsistent read: pods are bound to {len(missing)} node(s) missing from the "
            f"node list ({shown})"
        )
        return why + (f"; {node_problems[0]}" if node_problems else ""), []
    return "", [
        f"Pod {pod.namespace}/{pod.name}: bound to node {pod.node}, which is not in the node "
        "list (it joined during the read); its usage is left out, as is the node's room"
        for pod in pods
        if pod.node in missing
    ]


def node_from(item: wire.Node) -> Node:
    """A Node → Node (allocatable falls back to capacity; "pods" counted like a resource)."""
    status = item.status
    if not status.allocatable and not status.capacity:
        raise ValueError("no allocatable or capacity in its status")
    ready = any(c.type == "Ready" and c.status == "True" for c in status.conditions or ())
    return Node(
        name=_required_name(item.metadata),
        allocatable=resources_to_milli(status.allocatable or status.capacity or {}),
        labels=item.metadata.labels or {},
        taints=tuple(
            Taint(key=t.key or "", value=t.value or "", effect=t.effect or "")
            for t in item.spec.taints or ()
        ),
        unschedulable=bool(item.spec.unschedulable),
        ready=ready,
    )


def pod_from(item: wire.Pod) -> Pod:
    """A Pod → Pod with its shape computed by the one effective-request rule."""
    metadata = item.metadata
    namespace = metadata.namespace or "default"
    name = _required_name(metadata)
    return Pod(
        namespace=namespace,
        name=name,
        uid=metadata.uid or "",
        shape=_shape_of(item.spec, name=f"{namespace}/{name}", namespace=namespace),
        node=item.spec.nodeName or "",
        phase=item.status.phase or "Pending",
        conditions=conditions_from(item.status.conditions, only=POD_CONDITIONS_READ),
        owners=owners_from(metadata.ownerReferences),
        labels=metadata.labels or {},
        created=_utc(metadata.creationTimestamp),
        tracking_id=_tracking_id(metadata),
    )


def object_from(item: wire.Object) -> KubeObject:
    """An owner or KubeRay object → KubeObject (RayService: its active and pending clusters)."""
    metadata = item.metadata
    status = item.status
    active, pending = status.activeServiceStatus, status.pendingServiceStatus
    return KubeObject(
        kind=item.kind or "",
        namespace=metadata.namespace or "default",
        name=_required_name(metadata),
        uid=metadata.uid or "",
        labels=metadata.labels or {},
        owners=owners_from(metadata.ownerReferences),
        conditions=conditions_from(status.conditions),
        active_cluster=(active.rayClusterName if active else None) or "",
        pending_cluster=(pending.rayClusterName if pending else None) or "",
        state=status.state or "",
        desired_workers=status.desiredWorkerReplicas,
        tracking_id=_tracking_id(metadata),
        **_scale_of(item),
    )


def _scale_of(item: wire.Object) -> dict[str, Any]:
    """What a Deployment's or an HPA's spec says about replicas (nothing for other kinds)."""
    if isinstance(item, wire.Deployment):
        return {"replicas": item.spec.replicas}
    if isinstance(item, wire.HorizontalPodAutoscaler):
        target = item.spec.scaleTargetRef
        return {
            "min_replicas": item.spec.minReplicas,
            "scale_target": f"{target.kind or ''}/{target.name or ''}" if target else "",
        }
    return {}


def _tracking_id(metadata: wire.ObjectMeta) -> str:
    return (metadata.annotations.tracking_id if metadata.annotations else None) or ""


_SHAPES: dict[bytes, PodShape] = {}
_SHAPES_LIMIT = 4096


def _shape_of(spec: wire.PodSpec, *, name: str, namespace: str) -> PodShape:
    """shape_from_pod_spec, computed once per distinct template rather than once per pod.

    Replicas share their requests and constraints, and parsing the same quantities again
    and again was most of the time of a large pod list. The key holds every field the
    effective-request rule and the constraints read (tests/status compare it with the
    rule itself); an error is never cached, so a bad spec fails as it always did.
    """
    key = _shape_key(spec)
    shape = _SHAPES.get(key)
    if shape is None:
        # The rule reads a mapping: the spec's fields as plain values (None where absent).
        shape = shape_from_pod_spec(msgspec.to_builtins(spec), name=name)
        if len(_SHAPES) >= _SHAPES_LIMIT:
            _SHAPES.clear()
        _SHAPES[key] = shape
    return PodShape(
        name=name,
        requests=dict(shape.requests),
        tolerations=shape.tolerations,
        node_selector=dict(shape.node_selector),
        required_affinity=shape.required_affinity,
        namespace=namespace,
        coupling=shape.coupling,
    )


def _shape_key(spec: wire.PodSpec) -> bytes:
    """A key for the fields the rule reads: equal keys mean equal inputs to the rule."""
    # Every field is typed, so the JSON is faithful (1 and "1" and 1.0 stay apart).
    return _KEY_ENCODER.encode(
        (
            spec.containers,
            spec.initContainers,
            spec.overhead,
            spec.nodeSelector,
            spec.tolerations,
            spec.affinity,
        )
    )


_KEY_ENCODER = msgspec.json.Encoder()


def owners_from(refs: list[wire.OwnerReference] | None) -> tuple[OwnerRef, ...]:
    """metadata.ownerReferences → OwnerRefs."""
    return tuple(
        OwnerRef(
            kind=ref.kind or "",
            name=ref.name or "",
            uid=ref.uid or "",
            controller=bool(ref.controller),
        )
        for ref in refs or ()
    )


# The pod condition types anything reads (Pod.condition): plan/stuck.py reads PodScheduled,
# plan/phases.py reads Ready. A running pod carries five conditions and a large cluster
# hundreds of thousands of pods, so the others are not kept. Add a type here before
# reading it from a Pod.
POD_CONDITIONS_READ = frozenset({"PodScheduled", "Ready"})


def conditions_from(
    conditions: list[wire.Condition] | None, *, only: frozenset[str] | None = None
) -> tuple[Condition, ...]:
    """status.conditions → Conditions; with `only`, just the conditions of those types."""
    if not conditions:
        return ()
    return tuple(
        [
            Condition(
                type=c.type or "",
                status=c.status or "",
                reason=c.reason or "",
                message=c.message or "",
                last_transition=_utc(c.lastTransitionTime),
            )
            for c in conditions
            if only is None or (c.type or "") in only
        ]
    )


def _utc(time: dt.datetime | None) -> dt.datetime | None:
    """A decoded timestamp as an aware datetime (one without an offset is taken as UTC)."""
    if time is None or time.tzinfo is not None:
        return time
    return time.replace(tzinfo=dt.UTC)


def _required_name(metadata: wire.ObjectMeta) -> str:
    if metadata.name is None:
        raise ValueError("metadata.name is missing")
    return metadata.name


def _name(metadata: wire.ObjectMeta) -> str:
    return f"{metadata.namespace or ''}/{metadata.name or '?'}".lstrip("/")
