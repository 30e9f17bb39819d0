"""KubeRay workloads (ray.io/v1, v1alpha1): RayCluster, RayService, RayJob as KubeRay's pods.

A Ray cluster's pods are the head, then each worker group in spec order, with what the
operator injects: the autoscaler sidecar in the head and the wait-gcs-ready init container
in every worker (ray-operator/controllers/ray/common/pod.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.workloads.demand import Builder, Workload, WorkloadDemand, WorkloadError
from reconciler.workloads.fields import (
    claims_volumes,
    count_at,
    flag_at,
    join,
    list_at,
    mapping_at,
    numbered,
    pod_shape,
    template_labels_at,
    template_spec_at,
    text_at,
)
from reconciler.workloads.pod_spec import PodSpecError, container_requests
from reconciler.workloads.shapes import PodShape

API_VERSIONS = frozenset({"ray.io/v1", "ray.io/v1alpha1"})

MAX_REPLICAS = 2147483647  # KubeRay's default maxReplicas (int32 max)

AUTOSCALER_RESOURCES: Mapping[str, Any] = {
    "requests": {"cpu": "500m", "memory": "512Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi"},
}
WAIT_GCS_READY: Mapping[str, Any] = {
    "name": "wait-gcs-ready",
    "resources": {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"cpu": "200m", "memory": "256Mi"},
    },
}
# common.GetDefaultSubmitterContainer in KubeRay v1.x (ray-operator/controllers/ray/common/job.go).
DEFAULT_SUBMITTER: Mapping[str, Any] = {
    "name": "ray-job-submitter",
    "resources": {
        "requests": {"cpu": "500m", "memory": "200Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    },
}
_SUBMISSION_MODES = frozenset({"K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode"})


def ray_cluster_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """The head, then every worker group's pods."""
    spec = mapping_at(manifest, "spec", path="", required=True)
    shapes, stateful = cluster_pods(
        spec, path="spec", label=workload.label, cluster=workload.name, namespace=workload.namespace
    )
    return workload.demand(shapes, stateful=stateful)


def ray_service_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """ONE copy of spec.rayClusterConfig.

    During an upgrade KubeRay runs a pending cluster beside the active one, but a
    relocated RayService starts with its newest config only: the pair is not demand.
    """
    spec = mapping_at(manifest, "spec", path="", required=True)
    config = mapping_at(spec, "rayClusterConfig", path="spec", required=True)
    shapes, stateful = cluster_pods(
        config,
        path="spec.rayClusterConfig",
        label=workload.label,
        cluster=generated_name(workload.name),
        namespace=workload.namespace,
    )
    if flag_at(spec, "suspend", path="spec"):
        shapes = ()
    return workload.demand(shapes, stateful=stateful)


def ray_job_demand(manifest: Mapping[str, Any], *, workload: Workload) -> WorkloadDemand:
    """The job's own cluster (none with spec.clusterSelector), then its submitter pod.

    The submitter is a Kubernetes Job in K8sJobMode (the default), a container in the
    head in SidecarMode, and nothing in HTTPMode or InteractiveMode. A suspended RayJob
    has no pods.
    """
    spec = mapping_at(manifest, "spec", path="", required=True)
    suspended = flag_at(spec, "suspend", path="spec")
    if mapping_at(spec, "clusterSelector", path="spec"):
        return workload.demand(())  # it submits to an existing cluster
    mode = text_at(spec, "submissionMode", path="spec", default="K8sJobMode")
    if mode not in _SUBMISSION_MODES:
        raise WorkloadError(
            "spec.submissionMode", f"{mode!r} is not one of {', '.join(sorted(_SUBMISSION_MODES))}"
        )
    cluster = mapping_at(spec, "rayClusterSpec", path="spec", required=True)
    head_extras = (DEFAULT_SUBMITTER,) if mode == "SidecarMode" else ()
    shapes, stateful = cluster_pods(
        cluster,
        path="spec.rayClusterSpec",
        label=workload.label,
        head_extras=head_extras,
        cluster=generated_name(workload.name),
        namespace=workload.namespace,
    )
    if mode == "K8sJobMode":
        submitter, claims = _submitter(spec, label=workload.label)
        shapes += (submitter,)
        stateful = stateful or claims
    return workload.demand(() if suspended else shapes, stateful=stateful)


def generated_name(owner: str) -> str:
    """The name of a RayCluster KubeRay makes for a RayService or RayJob: "<owner>-" and five
    random characters, unknown until it exists; the stand-in matches no real value."""
    return f"{owner}-?????"


def ray_labels(
    template: Mapping[str, str], *, cluster: str, node_type: str, group: str
) -> dict[str, str]:
    """A Ray pod's labels as KubeRay creates it: its own, then the template's, which may not
    change ray.io/cluster, ray.io/node-type or ray.io/group (labelPod in
    ray-operator/controllers/ray/common/pod.go)."""
    labels = {
        "ray.io/is-ray-node": "yes",
        "ray.io/cluster": cluster,
        "ray.io/node-type": node_type,
        "ray.io/group": group,
        "ray.io/identifier": f"{cluster}-{node_type}"[:63],
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
    }
    for key, value in template.items():
        if key not in {"ray.io/cluster", "ray.io/node-type", "ray.io/group"}:
            labels[key] = value
    return labels


def cluster_pods(
    spec: Mapping[str, Any],
    *,
    path: str,
    label: str,
    head_extras: tuple[Mapping[str, Any], ...] = (),
    cluster: str = "",
    namespace: str = "",
) -> tuple[tuple[PodShape, ...], bool]:
    """The pod shapes of one RayCluster spec in creation order, and whether they mount PVCs.

    `cluster` is the RayCluster's name, which KubeRay puts in every pod's labels.
    """
    head_group = mapping_at(spec, "headGroupSpec", path=path, required=True)
    head_spec, head_path = template_spec_at(head_group, path=join(path, "headGroupSpec"))
    if flag_at(spec, "enableInTreeAutoscaling", path=path):
        head_extras = (*head_extras, _autoscaler(spec, path=path))
    head_labels = ray_labels(
        template_labels_at(head_group, path=join(path, "headGroupSpec")),
        cluster=cluster,
        node_type="head",
        group="headgroup",
    )
    shapes = [
        pod_shape(
            head_spec,
            path=head_path,
            name=f"{label} head",
            extra_containers=head_extras,
            namespace=namespace,
            labels=head_labels,
        )
    ]
    stateful = claims_volumes(head_spec, path=head_path)
    groups_path = join(path, "workerGroupSpecs")
    for index, group in enumerate(list_at(spec, "workerGroupSpecs", path=path)):
        group_path = f"{groups_path}[{index}]"
        group_name = text_at(group, "groupName", path=group_path)
        worker_spec, worker_path = template_spec_at(group, path=group_path)
        prefix = f"{label} {group_name} worker"
        worker = pod_shape(
            worker_spec,
            path=worker_path,
            name=f"{prefix} 1",
            extra_init_containers=(WAIT_GCS_READY,),
            namespace=namespace,
            labels=ray_labels(
                template_labels_at(group, path=group_path),
                cluster=cluster,
                node_type="worker",
                group=group_name,
            ),
        )
        stateful = stateful or claims_volumes(worker_spec, path=worker_path)
        pods = desired_workers(group, path=group_path) * count_at(
            group, "numOfHosts", path=group_path, default=1
        )
        if flag_at(group, "suspend", path=group_path):
            pods = 0
        shapes.extend(numbered(worker, prefix=prefix, count=pods))
    if flag_at(spec, "suspend", path=path):
        return (), stateful
    return tuple(shapes), stateful


def desired_workers(group: Mapping[str, Any], *, path: str) -> int:
    """replicas clamped to [minReplicas, maxReplicas]; unset replicas means minReplicas."""
    low = count_at(group, "minReplicas", path=path, default=0)
    high = count_at(group, "maxReplicas", path=path, default=MAX_REPLICAS)
    if low > high:
        raise WorkloadError(join(path, "minReplicas"), f"{low} is greater than maxReplicas {high}")
    replicas = count_at(group, "replicas", path=path, default=low)
    return max(low, min(replicas, high))


def _autoscaler(spec: Mapping[str, Any], *, path: str) -> Mapping[str, Any]:
    """The autoscaler sidecar; autoscalerOptions.resources replaces its defaults wholesale."""
    options_path = join(path, "autoscalerOptions")
    options = mapping_at(spec, "autoscalerOptions", path=path)
    if options.get("resources") is None:
        return {"name": "autoscaler", "resources": AUTOSCALER_RESOURCES}
    container = {
        "name": "autoscaler",
        "resources": mapping_at(options, "resources", path=options_path),
    }
    try:
        container_requests(container)
    except PodSpecError as error:
        raise WorkloadError(join(options_path, error.field), error.message) from None
    return container


def _submitter(spec: Mapping[str, Any], *, label: str) -> tuple[PodShape, bool]:
    """The K8sJobMode submitter pod: spec.submitterPodTemplate, or KubeRay's default."""
    name = f"{label} submitter"
    if spec.get("submitterPodTemplate") is None:
        return pod_shape({"containers": [DEFAULT_SUBMITTER]}, path="spec", name=name), False
    template = mapping_at(spec, "submitterPodTemplate", path="spec")
    pod_spec = mapping_at(template, "spec", path="spec.submitterPodTemplate", required=True)
    pod_path = "spec.submitterPodTemplate.spec"
    return pod_shape(pod_spec, path=pod_path, name=name), claims_volumes(pod_spec, path=pod_path)


BUILDERS: dict[str, Builder] = {
    "RayCluster": ray_cluster_demand,
    "RayService": ray_service_demand,
    "RayJob": ray_job_demand,
}
