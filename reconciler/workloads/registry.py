"""Manifests → demand: the one entry point, dispatching each kind to its workload family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.workloads import apps, batch, core, ray
from reconciler.workloads.demand import Builder, Workload, WorkloadDemand, WorkloadError
from reconciler.workloads.fields import mapping_at, text_at


def _family(
    api_versions: frozenset[str], builders: Mapping[str, Builder]
) -> dict[str, tuple[frozenset[str], Builder]]:
    return {kind: (api_versions, builder) for kind, builder in builders.items()}


# kind → (the apiVersions it is recognised under, its builder). A kind under another
# group (a CRD that reuses the name "Job", say) is not ours to interpret.
KINDS: Mapping[str, tuple[frozenset[str], Builder]] = {
    **_family(core.API_VERSIONS, core.BUILDERS),
    **_family(apps.API_VERSIONS, apps.BUILDERS),
    **_family(batch.API_VERSIONS, batch.BUILDERS),
    **_family(ray.API_VERSIONS, ray.BUILDERS),
}


def demand_of(manifest: Mapping[str, Any], *, default_namespace: str) -> WorkloadDemand | None:
    """Pod shapes one manifest will create; None for kinds that create no pods.

    Service, ConfigMap, CronJob and unknown kinds (or known kinds under another apiVersion)
    give None. A PersistentVolumeClaim gives no shapes and stateful=True. Raises
    WorkloadError, naming the field, for bad input: a garbage or negative quantity, a
    wrong type, replicas that are not an integer.
    """
    if not isinstance(manifest, Mapping):
        raise WorkloadError("", f"a manifest must be a mapping, not {type(manifest).__name__}")
    kind = manifest.get("kind")
    api_version = manifest.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str) or kind not in KINDS:
        return None
    api_versions, builder = KINDS[kind]
    if api_version not in api_versions:
        return None
    metadata = mapping_at(manifest, "metadata", path="", required=True)
    workload = Workload(
        kind=kind,
        namespace=text_at(metadata, "namespace", path="metadata", default=default_namespace),
        name=text_at(metadata, "name", path="metadata"),
    )
    return builder(manifest, workload=workload)
