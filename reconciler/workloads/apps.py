"""apps/v1 workloads: Deployment, ReplicaSet and StatefulSet, one shape per replica."""

from __future__ import annotations

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


BUILDERS: dict[str, Builder] = {
    "Deployment": replicated_demand,
    "ReplicaSet": replicated_demand,
    "StatefulSet": replicated_demand,
}
