"""batch/v1 workloads: a Job's parallel pods; a CronJob creates no standing demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.workloads.demand import Builder, Workload, WorkloadDemand
from reconciler.workloads.fields import (
    claims_volumes,
    count_at,
    flag_at,
    mapping_at,
    numbered,
    pod_shape,
    template_labels_at,
    template_spec_at,
)

API_VERSIONS = frozenset({"batch/v1"})


def job_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """min(parallelism, completions) pods running at once, "<namespace>/<name> pod <i>".

    A suspended Job (spec.suspend) has no pods until it is resumed.
    """
    spec = mapping_at(manifest, "spec", path="", required=True)
    parallelism = count_at(spec, "parallelism", path="spec", default=1)
    completions = count_at(spec, "completions", path="spec", default=parallelism)
    suspended = flag_at(spec, "suspend", path="spec")
    pod_spec, pod_path = template_spec_at(spec, path="spec")
    shape = pod_shape(
        pod_spec,
        path=pod_path,
        name=f"{workload.label} pod 1",
        namespace=workload.namespace,
        labels={**template_labels_at(spec, path="spec"), "job-name": workload.name},
    )
    count = 0 if suspended else min(parallelism, completions)
    return workload.demand(
        numbered(shape, prefix=f"{workload.label} pod", count=count),
        stateful=claims_volumes(pod_spec, path=pod_path),
    )


def cron_job_demand(manifest: Mapping[str, Any], *, workload: Workload) -> None:
    """None: a CronJob's pods come and go on a schedule; they are not what keeps a group stuck."""
    return None


BUILDERS: dict[str, Builder] = {
    "Job": job_demand,
    "CronJob": cron_job_demand,
}
