"""Core workloads (apiVersion v1): a bare Pod, and a PersistentVolumeClaim that pins data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.workloads.demand import Builder, Workload, WorkloadDemand
from reconciler.workloads.fields import claims_volumes, mapping_at, pod_shape

API_VERSIONS = frozenset({"v1"})


def pod_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """One shape, named "<namespace>/<name>"."""
    spec = mapping_at(manifest, "spec", path="", required=True)
    metadata = mapping_at(manifest, "metadata", path="")
    labels = mapping_at(metadata, "labels", path="metadata")
    shape = pod_shape(
        spec,
        path="spec",
        name=workload.label,
        namespace=workload.namespace,
        labels={str(k): str(v) for k, v in labels.items()},
    )
    return workload.demand((shape,), stateful=claims_volumes(spec, path="spec"))


def claim_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """No pods, but the group holds data that a move would leave behind."""
    return workload.demand((), stateful=True)


BUILDERS: dict[str, Builder] = {
    "Pod": pod_demand,
    "PersistentVolumeClaim": claim_demand,
}
