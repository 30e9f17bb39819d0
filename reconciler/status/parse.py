"""Raw Kubernetes objects (plain dicts, as the API or kubectl prints them) → ClusterState.

Both sources use this: the snapshot source with the items of a `kind: List` file, the
live source with the items of its raw list responses. Only the fields the planner needs
are kept, and an object that cannot be read is skipped with a reason, never fatal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.quantity import QuantityError, resources_to_milli
from reconciler.status.model import ClusterState, Condition, KubeObject, Node, OwnerRef, Pod, Taint
from reconciler.workloads.pod_spec import shape_from_pod_spec
from reconciler.workloads.shapes import PodShape

OWNER_KINDS = frozenset({"ReplicaSet", "Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"})
RAY_KINDS = frozenset({"RayService", "RayCluster", "RayJob"})


def cluster_state_from_items(
    items: Iterable[Mapping[str, Any]], *, cluster: str, read_at: dt.datetime | None = None
) -> ClusterState:
    """Build a known ClusterState from raw objects; unreadable objects are listed in `skipped`."""
    nodes: list[Node] = []
    pods: list[Pod] = []
    objects: list[KubeObject] = []
    skipped: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            skipped.append("an item that is not an object")
            continue
        kind = item.get("kind")
        try:
            if kind == "Node":
                nodes.append(node_from(item))
            elif kind == "Pod":
                pods.append(pod_from(item))
            elif kind in OWNER_KINDS or kind in RAY_KINDS:
                objects.append(object_from(item))
        except (QuantityError, ValueError, TypeError, AttributeError, KeyError) as error:
            skipped.append(f"{kind} {_name(item)}: {error}")
    return ClusterState(
        name=cluster,
        known=True,
        nodes=tuple(nodes),
        pods=tuple(pods),
        objects=tuple(objects),
        read_at=read_at,
        skipped=tuple(skipped),
    )


def node_from(item: Mapping[str, Any]) -> Node:
    """A Node object → Node (allocatable falls back to capacity; "pods" counted like a resource)."""
    metadata = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )
    return Node(
        name=str(metadata["name"]),
        allocatable=resources_to_milli(allocatable),
        labels=dict(metadata.get("labels") or {}),
        taints=tuple(
            Taint(
                key=str(t.get("key") or ""),
                value=str(t.get("value") or ""),
                effect=str(t.get("effect") or ""),
            )
            for t in spec.get("taints") or ()
        ),
        unschedulable=bool(spec.get("unschedulable")),
        ready=ready,
    )


def pod_from(item: Mapping[str, Any]) -> Pod:
    """A Pod object → Pod with its shape computed by the one effective-request rule."""
    metadata = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    namespace = str(metadata.get("namespace") or "default")
    name = str(metadata["name"])
    return Pod(
        namespace=namespace,
        name=name,
        uid=str(metadata.get("uid") or ""),
        shape=_shape_of(spec, name=f"{namespace}/{name}"),
        node=str(spec.get("nodeName") or ""),
        phase=str(status.get("phase") or "Pending"),
        conditions=conditions_from(status.get("conditions")),
        owners=owners_from(metadata.get("ownerReferences")),
        labels=dict(metadata.get("labels") or {}),
        created=parse_time(metadata.get("creationTimestamp")),
    )


def object_from(item: Mapping[str, Any]) -> KubeObject:
    """An owner or KubeRay object → KubeObject (RayService: its active and pending clusters)."""
    metadata = item.get("metadata") or {}
    status = item.get("status") or {}
    return KubeObject(
        kind=str(item["kind"]),
        namespace=str(metadata.get("namespace") or "default"),
        name=str(metadata["name"]),
        uid=str(metadata.get("uid") or ""),
        labels=dict(metadata.get("labels") or {}),
        owners=owners_from(metadata.get("ownerReferences")),
        conditions=conditions_from(status.get("conditions")),
        active_cluster=str((status.get("activeServiceStatus") or {}).get("rayClusterName") or ""),
        pending_cluster=str((status.get("pendingServiceStatus") or {}).get("rayClusterName") or ""),
    )


_SHAPES: dict[str, PodShape] = {}
_SHAPES_LIMIT = 4096


def _shape_of(spec: Mapping[str, Any], *, name: str) -> PodShape:
    """shape_from_pod_spec, computed once per distinct template rather than once per pod.

    Replicas share their requests and constraints, and parsing the same quantities again
    and again was most of the time of a large pod list. The key holds every field the
    effective-request rule and the constraints read (tests/status compare it with the
    rule itself); an error is never cached, so a bad spec fails as it always did.
    """
    key = _shape_key(spec)
    if key is None:
        return shape_from_pod_spec(spec, name=name)
    shape = _SHAPES.get(key)
    if shape is None:
        shape = shape_from_pod_spec(spec, name=name)
        if len(_SHAPES) >= _SHAPES_LIMIT:
            _SHAPES.clear()
        _SHAPES[key] = shape
    return dataclasses.replace(
        shape, name=name, requests=dict(shape.requests), node_selector=dict(shape.node_selector)
    )


def _shape_key(spec: Mapping[str, Any]) -> str | None:
    """A key for the fields the rule reads; None (do not cache) when they are not plain data."""
    containers = _container_parts(spec.get("containers"))
    inits = _container_parts(spec.get("initContainers"))
    if containers is None or inits is None:
        return None
    # repr of plain JSON values is faithful: equal keys mean equal inputs to the rule.
    return repr(
        (
            containers,
            inits,
            spec.get("overhead"),
            spec.get("resources"),
            spec.get("nodeSelector"),
            spec.get("tolerations"),
            spec.get("affinity"),
        )
    )


def _container_parts(raw: object) -> list[tuple[object, object]] | None:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        return None
    return [(c.get("resources"), c.get("restartPolicy")) for c in raw]


def owners_from(raw: object) -> tuple[OwnerRef, ...]:
    """Parse metadata.ownerReferences."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        OwnerRef(
            kind=str(ref.get("kind") or ""),
            name=str(ref.get("name") or ""),
            uid=str(ref.get("uid") or ""),
            controller=bool(ref.get("controller")),
        )
        for ref in raw
        if isinstance(ref, Mapping)
    )


def conditions_from(raw: object) -> tuple[Condition, ...]:
    """Parse status.conditions."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        Condition(
            type=str(c.get("type") or ""),
            status=str(c.get("status") or ""),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition=parse_time(c.get("lastTransitionTime")),
        )
        for c in raw
        if isinstance(c, Mapping)
    )


def parse_time(raw: object) -> dt.datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC datetime (None when absent or bad)."""
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=dt.UTC)
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)  # Python 3.11 reads a "Z" suffix itself
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _name(item: Mapping[str, Any]) -> str:
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        return "?"
    return f"{metadata.get('namespace') or ''}/{metadata.get('name') or '?'}".lstrip("/")
