"""Builders for workload manifests as plain dicts, so tests state only what they are about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Manifest = dict[str, Any]

# Amounts in the model are milli-units: these turn people's numbers into them.
MI = 2**20 * 1000
GI = 2**30 * 1000


def cores(amount: float) -> int:
    """CPU cores as milli-units (0.5 → 500)."""
    return round(amount * 1000)


def _compact(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def container(
    name: str = "main",
    *,
    cpu: Any = None,
    memory: Any = None,
    gpu: Any = None,
    requests: dict[str, Any] | None = None,
    limits: dict[str, Any] | None = None,
    restart_policy: str | None = None,
) -> Manifest:
    """A container; cpu/memory/gpu are requests, `requests`/`limits` add any resource."""
    wanted = {**_compact(cpu=cpu, memory=memory), **(requests or {})}
    if gpu is not None:
        wanted["nvidia.com/gpu"] = gpu
    resources = _compact(requests=wanted or None, limits=limits)
    return _compact(
        name=name, image="busybox", resources=resources or None, restartPolicy=restart_policy
    )


def pod_spec(
    *,
    containers: Sequence[Manifest] = (),
    cpu: Any = "100m",
    memory: Any = None,
    gpu: Any = None,
    init: Sequence[Manifest] = (),
    overhead: dict[str, Any] | None = None,
    volumes: list[Manifest] | None = None,
    node_selector: dict[str, str] | None = None,
) -> Manifest:
    """A pod spec; without containers, one container asking for cpu/memory/gpu."""
    return _compact(
        containers=list(containers) or [container(cpu=cpu, memory=memory, gpu=gpu)],
        initContainers=list(init) or None,
        overhead=overhead,
        volumes=volumes,
        nodeSelector=node_selector,
    )


def claim_volume(claim: str = "data") -> Manifest:
    """A pod volume backed by a PersistentVolumeClaim."""
    return {"name": claim, "persistentVolumeClaim": {"claimName": claim}}


def _object(kind: str, api_version: str, name: str, namespace: str | None, spec: Any) -> Manifest:
    metadata = _compact(name=name, namespace=namespace)
    return _compact(apiVersion=api_version, kind=kind, metadata=metadata, spec=spec)


def pod(name: str = "solo", *, namespace: str | None = None, **spec: Any) -> Manifest:
    """A bare Pod; keyword arguments go to pod_spec."""
    return _object("Pod", "v1", name, namespace, pod_spec(**spec))


def deployment(
    name: str = "web",
    *,
    replicas: Any = None,
    namespace: str | None = None,
    kind: str = "Deployment",
    api_version: str = "apps/v1",
    template_spec: Manifest | None = None,
    **spec: Any,
) -> Manifest:
    """A Deployment (or, with `kind`, a ReplicaSet or StatefulSet) of pods from pod_spec."""
    body = _compact(replicas=replicas, template={"spec": template_spec or pod_spec(**spec)})
    return _object(kind, api_version, name, namespace, body)


def stateful_set(name: str = "db", *, claims: tuple[str, ...] = (), **options: Any) -> Manifest:
    """A StatefulSet; `claims` become volumeClaimTemplates."""
    manifest = deployment(name, kind="StatefulSet", **options)
    if claims:
        manifest["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": c}} for c in claims]
    return manifest


def job(
    name: str = "batch",
    *,
    parallelism: Any = None,
    completions: Any = None,
    suspend: Any = None,
    namespace: str | None = None,
    **spec: Any,
) -> Manifest:
    """A batch/v1 Job."""
    body = _compact(
        parallelism=parallelism,
        completions=completions,
        suspend=suspend,
        template={"spec": pod_spec(**spec)},
    )
    return _object("Job", "batch/v1", name, namespace, body)


def cron_job(name: str = "nightly") -> Manifest:
    """A batch/v1 CronJob running a one-pod Job."""
    spec = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec()}}}}
    return _object("CronJob", "batch/v1", name, None, spec)


def claim(name: str = "data", *, namespace: str | None = None) -> Manifest:
    """A PersistentVolumeClaim."""
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    return _object("PersistentVolumeClaim", "v1", name, namespace, spec)


def service(name: str = "web") -> Manifest:
    """A Service: creates no pods."""
    return _object("Service", "v1", name, None, {"ports": [{"port": 80}]})


def worker_group(
    name: str = "small-group",
    *,
    replicas: Any = None,
    min_replicas: Any = None,
    max_replicas: Any = None,
    num_of_hosts: Any = None,
    suspend: Any = None,
    template_spec: Manifest | None = None,
    **spec: Any,
) -> Manifest:
    """One entry of workerGroupSpecs; keyword arguments go to pod_spec."""
    return _compact(
        groupName=name,
        replicas=replicas,
        minReplicas=min_replicas,
        maxReplicas=max_replicas,
        numOfHosts=num_of_hosts,
        suspend=suspend,
        rayStartParams={},
        template={"spec": template_spec or pod_spec(**spec)},
    )


def cluster_spec(
    *workers: Manifest,
    head_cpu: Any = "1",
    head_memory: Any = "2Gi",
    autoscaling: Any = None,
    autoscaler_resources: dict[str, Any] | None = None,
    head_spec: Manifest | None = None,
) -> Manifest:
    """A RayClusterSpec: the head (head_cpu/head_memory) and the given worker groups."""
    head = head_spec or pod_spec(
        containers=[container("ray-head", cpu=head_cpu, memory=head_memory)]
    )
    options = {"resources": autoscaler_resources} if autoscaler_resources is not None else None
    return _compact(
        rayVersion="2.52.0",
        enableInTreeAutoscaling=autoscaling,
        autoscalerOptions=options,
        headGroupSpec={"rayStartParams": {}, "template": {"spec": head}},
        workerGroupSpecs=list(workers) or None,
    )


def ray_cluster(
    name: str = "raycluster",
    *,
    spec: Manifest | None = None,
    namespace: str | None = None,
    api_version: str = "ray.io/v1",
) -> Manifest:
    """A RayCluster (default: a 1-CPU head and no workers)."""
    return _object("RayCluster", api_version, name, namespace, spec or cluster_spec())


def ray_service(
    name: str = "ray-pred",
    *,
    cluster: Manifest | None = None,
    namespace: str | None = None,
    api_version: str = "ray.io/v1",
) -> Manifest:
    """A RayService whose rayClusterConfig is `cluster` (a cluster_spec)."""
    spec = {"serveConfigV2": "applications: []", "rayClusterConfig": cluster or cluster_spec()}
    return _object("RayService", api_version, name, namespace, spec)


def ray_job(
    name: str = "train",
    *,
    cluster: Manifest | None = None,
    submission_mode: str | None = None,
    cluster_selector: dict[str, str] | None = None,
    submitter_spec: Manifest | None = None,
    suspend: Any = None,
    namespace: str | None = None,
) -> Manifest:
    """A RayJob running on its own cluster (a cluster_spec) unless cluster_selector is given."""
    spec = _compact(
        entrypoint="python /home/ray/samples/sample_code.py",
        submissionMode=submission_mode,
        clusterSelector=cluster_selector,
        rayClusterSpec=None if cluster_selector else (cluster or cluster_spec()),
        submitterPodTemplate={"spec": submitter_spec} if submitter_spec else None,
        suspend=suspend,
    )
    return _object("RayJob", "ray.io/v1", name, namespace, spec)
