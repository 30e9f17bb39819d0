"""apps/v1 workloads: Deployment, ReplicaSet and StatefulSet, one shape per replica;
DaemonSet, one pod per node it runs on (see daemon_set_demand)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.workloads.demand import Builder, Workload, WorkloadDemand
from reconciler.workloads.fields import (
    claims_volumes,
    count_at,
    list_at,
    mapping_at,
    numbered,
    pod_shape,
    selector_at,
    template_labels_at,
    template_spec_at,
)
from reconciler.workloads.shapes import Toleration

API_VERSIONS = frozenset({"apps/v1"})


def replicated_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """spec.replicas (default 1) identical shapes, "<namespace>/<name> replica <i>" from 1."""
    spec = mapping_at(manifest, "spec", path="", required=True)
    replicas = count_at(spec, "replicas", path="spec", default=1)
    pod_spec, pod_path = template_spec_at(spec, path="spec")
    # Parse the template even for zero replicas: a bad manifest is bad at any scale.
    # The controller's selector is what the system default spreading counts.
    shape = pod_shape(
        pod_spec,
        path=pod_path,
        name=f"{workload.label} replica 1",
        namespace=workload.namespace,
        labels=template_labels_at(spec, path="spec"),
        default_spread=selector_at(spec, "selector", path="spec") if replicas > 1 else None,
    )
    shapes = numbered(shape, prefix=f"{workload.label} replica", count=replicas)
    stateful = claims_volumes(pod_spec, path=pod_path)
    if workload.kind == "StatefulSet":
        stateful = stateful or bool(list_at(spec, "volumeClaimTemplates", path="spec"))
    return workload.demand(shapes, stateful=stateful)


def daemon_set_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """The pod a DaemonSet runs on each node, with the tolerations its controller adds.

    The DaemonSet controller (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations)
    lets its pods onto not-ready, unreachable, pressured and cordoned nodes, and onto
    nodes without network for hostNetwork pods.
    """
    spec = mapping_at(manifest, "spec", path="", required=True)
    pod_spec, pod_path = template_spec_at(spec, path="spec")
    shape = pod_shape(pod_spec, path=pod_path, name=f"{workload.label} on")
    added = _DAEMON_TOLERATIONS
    if pod_spec.get("hostNetwork") is True:
        added += (Toleration("node.kubernetes.io/network-unavailable", "Exists", "", "NoSchedule"),)
    shape = dataclasses.replace(shape, tolerations=shape.tolerations + added)
    demand = workload.demand((), stateful=claims_volumes(pod_spec, path=pod_path))
    return dataclasses.replace(demand, per_node=shape)


_DAEMON_TOLERATIONS = tuple(
    Toleration(f"node.kubernetes.io/{key}", "Exists", "", effect)
    for key, effect in (
        ("not-ready", "NoExecute"),
        ("unreachable", "NoExecute"),
        ("disk-pressure", "NoSchedule"),
        ("memory-pressure", "NoSchedule"),
        ("pid-pressure", "NoSchedule"),
        ("unschedulable", "NoSchedule"),
    )
)


BUILDERS: dict[str, Builder] = {
    "DaemonSet": daemon_set_demand,
    "Deployment": replicated_demand,
    "ReplicaSet": replicated_demand,
    "StatefulSet": replicated_demand,
}
