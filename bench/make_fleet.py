"""Write a synthetic fleet, deterministically from a seed and a size, for the benchmarks.

    python bench/make_fleet.py --size M --seed 1 [--out DIR] [--force]

DIR (default bench/.cache/<size>-seed<seed>, reused when it already holds the same size
and seed) receives:

  fleet/               a fleet repo, one commit: fleet.yaml, clusters/<c>/groups/kustomization.yaml,
                       one directory per group (kustomization.yaml + manifests; some placement.yaml)
  snapshots/<c>.json   per cluster, what `kubectl get nodes,pods,replicasets,rayservices,rayclusters
                       -A -o json` prints (a `kind: List`), with full pod specs
  meta.json            size, seed, the clock the snapshots were taken at, and counts

Groups are Deployments, StatefulSets, Jobs and RayServices (head, CPU workers and, on
some, GPU workers with nvidia.com/gpu on tainted GPU nodes). Every pod carries the owner
chain its controller would give it (Pod → ReplicaSet → Deployment, Pod → StatefulSet,
Pod → Job, Pod → RayCluster → RayService), so the planner maps it to its group. About 2%
of the pods are Pending with PodScheduled=False/Unschedulable "Insufficient cpu" since ten
minutes before the snapshot clock (some Deployment and Job replicas, and RayService
upgrades whose second RayCluster does not fit), so some groups are stuck and moves are
planned. Nodes are sized so that the bound pods use about 60% of the CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import yaml

GENERATOR_VERSION = 1
NOW = dt.datetime(2026, 11, 28, 12, 10, tzinfo=dt.UTC)
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_CACHE = Path(__file__).resolve().parent / ".cache"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fleet Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Fleet Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-11-27T12:00:00Z",
    "GIT_COMMITTER_DATE": "2026-11-27T12:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclasses.dataclass(frozen=True)
class Size:
    """A fleet size: clusters, nodes and pods per cluster, groups in all."""

    clusters: int
    nodes: int
    pods: int
    groups: int
    # The share of groups whose pods carry a required anti-affinity or a DoNotSchedule
    # topology spread constraint (the "c" variants; issue 14's speed check).
    constrained: float = 0.0


SIZES = {
    "tiny": Size(clusters=2, nodes=5, pods=50, groups=20),
    "2tiny": Size(clusters=4, nodes=5, pods=50, groups=40),
    "S": Size(clusters=10, nodes=50, pods=1000, groups=1000),
    "2S": Size(clusters=20, nodes=50, pods=1000, groups=2000),
    "M": Size(clusters=100, nodes=100, pods=3000, groups=10000),
    "2M": Size(clusters=200, nodes=100, pods=3000, groups=20000),
    "tinyc": Size(clusters=2, nodes=5, pods=50, groups=20, constrained=0.2),
    "Mc": Size(clusters=100, nodes=100, pods=3000, groups=10000, constrained=0.2),
}
PENDING_SHARE = 0.02
UTILISATION = 0.6
GPU_NODE_SHARE = 0.1
SKIP_RELOCATE_SHARE = 0.05
# (cpu, memory) requests of the main container of web-style workloads.
_WEB_SIZES = [("250m", "512Mi"), ("500m", "1Gi"), ("1", "2Gi"), ("2", "4Gi")]
_CPU_MILLI = {"50m": 50, "200m": 200, "250m": 250, "500m": 500, "1": 1000, "2": 2000, "4": 4000}
_STAMP = (NOW - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
_PENDING_SINCE = (NOW - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
_GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
_GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
_DEFAULT_TOLERATIONS = [
    {
        "key": f"node.kubernetes.io/{taint}",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    for taint in ("not-ready", "unreachable")
]
_PROBE = {
    "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
    "initialDelaySeconds": 5,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}
_TOKEN_MOUNT = {
    "name": "kube-api-access",
    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
    "readOnly": True,
}
_TOKEN_VOLUME = {
    "name": "kube-api-access",
    "projected": {
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {
                "configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }
            },
        ],
        "defaultMode": 420,
    },
}


@dataclasses.dataclass
class ContainerSpec:
    """One container of a pod template: name, image and resources (quantities as text)."""

    name: str
    image: str
    requests: dict[str, str]
    limits: dict[str, str]
    probes: bool = True

    def manifest(self) -> dict[str, Any]:
        """The container as a manifest declares it."""
        body: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "resources": {"requests": dict(self.requests), "limits": dict(self.limits)},
        }
        if self.probes:
            body["ports"] = [{"name": "http", "containerPort": 8080}]
            body["readinessProbe"] = _PROBE
        return body

    def live(self) -> dict[str, Any]:
        """The container as the API server returns it in a pod (defaults filled in)."""
        body = self.manifest()
        body["env"] = [
            *body["env"],
            *({"name": f"SETTING_{k}", "value": f"value-{k}"} for k in range(3)),
            {
                "name": "POD_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            },
        ]
        if self.probes:
            body["ports"] = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
            body["livenessProbe"] = _PROBE
        body["volumeMounts"] = [_TOKEN_MOUNT]
        body["terminationMessagePath"] = "/dev/termination-log"
        body["terminationMessagePolicy"] = "File"
        body["imagePullPolicy"] = "IfNotPresent"
        return body


@dataclasses.dataclass
class Template:
    """A pod template: containers, init containers and tolerations, manifest and live."""

    containers: list[ContainerSpec]
    init_containers: list[ContainerSpec] = dataclasses.field(default_factory=list)
    tolerations: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    gpus: int = 0

    @property
    def cpu_milli(self) -> int:
        return sum(_CPU_MILLI.get(c.requests["cpu"], 0) for c in self.containers)

    def manifest(self, labels: dict[str, str]) -> dict[str, Any]:
        spec: dict[str, Any] = {"containers": [c.manifest() for c in self.containers]}
        if self.init_containers:
            spec["initContainers"] = [c.manifest() for c in self.init_containers]
        if self.tolerations:
            spec["tolerations"] = self.tolerations
        return {"metadata": {"labels": labels}, "spec": spec}


@dataclasses.dataclass
class LivePod:
    """A pod to write into the snapshot; `node` is filled when it is bound."""

    name: str
    namespace: str
    labels: dict[str, str]
    owner: dict[str, Any]
    template: Template
    pending: bool = False
    node: str = ""
    phase: str = "Running"


@dataclasses.dataclass
class GroupOut:
    """One generated group: its files in the fleet repo and its objects on its cluster."""

    name: str
    namespace: str
    files: dict[str, list[dict[str, Any]]]
    pods: list[LivePod]
    objects: list[dict[str, Any]]
    policy: dict[str, Any] | None = None


class Names:
    """Deterministic uids and KubeRay/ReplicaSet-style random suffixes."""

    _ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, length: int = 5) -> str:
        return "".join(self.rng.choice(self._ALPHABET) for _ in range(length))


def _meta(kind: str, name: str, namespace: str, **extra: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace, **extra}
    return {"kind": kind, "metadata": metadata}


def _owner(api_version: str, kind: str, name: str, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _service(name: str, namespace: str, selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        **_meta("Service", name, namespace),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    }


def _web_template(rng: random.Random, image: str) -> Template:
    cpu, memory = rng.choice(_WEB_SIZES)
    return Template(
        containers=[
            ContainerSpec("main", image, {"cpu": cpu, "memory": memory}, {"memory": memory}),
            ContainerSpec(
                "proxy",
                "registry.example/proxy:2.3",
                {"cpu": "50m", "memory": "64Mi"},
                {"cpu": "100m", "memory": "128Mi"},
                probes=False,
            ),
        ],
        tolerations=list(_DEFAULT_TOLERATIONS),
    )


def make_deployment(name: str, ns: str, *, pods: int, names: Names) -> GroupOut:
    """A Deployment (+ Service): live, a ReplicaSet owned by it and `pods` pods owned by that."""
    labels = {"app": name, "app.kubernetes.io/name": name}
    template = _web_template(names.rng, f"registry.example/{name}:1.4.2")
    deployment = {
        "apiVersion": "apps/v1",
        **_meta("Deployment", name, ns, labels=labels),
        "spec": {
            "replicas": pods,
            "selector": {"matchLabels": {"app": name}},
            "template": template.manifest(labels),
        },
    }
    hash_ = names.suffix(10)
    rs_name = f"{name}-{hash_}"
    deploy_uid, rs_uid = names.uid(), names.uid()
    rs = {
        "apiVersion": "apps/v1",
        **_meta(
            "ReplicaSet",
            rs_name,
            ns,
            uid=rs_uid,
            labels={**labels, "pod-template-hash": hash_},
            creationTimestamp=_STAMP,
            ownerReferences=[_owner("apps/v1", "Deployment", name, deploy_uid)],
        ),
        "spec": {"replicas": pods, "selector": {"matchLabels": {"app": name}}},
        "status": {"replicas": pods, "readyReplicas": pods, "availableReplicas": pods},
    }
    pod_labels = {**labels, "pod-template-hash": hash_}
    owner = _owner("apps/v1", "ReplicaSet", rs_name, rs_uid)
    live = [
        LivePod(f"{rs_name}-{names.suffix()}", ns, pod_labels, owner, template) for _ in range(pods)
    ]
    return GroupOut(
        name,
        ns,
        {"deployment.yaml": [deployment], "service.yaml": [_service(name, ns, {"app": name})]},
        live,
        [rs],
    )


def make_stateful_set(name: str, ns: str, *, pods: int, names: Names) -> GroupOut:
    """A StatefulSet with scratch volumes only (no claims): pods <name>-<i> owned by it."""
    labels = {"app": name}
    template = _web_template(names.rng, f"registry.example/{name}:3.1.0")
    body = template.manifest(labels)
    body["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    sts = {
        "apiVersion": "apps/v1",
        **_meta("StatefulSet", name, ns, labels=labels),
        "spec": {
            "replicas": pods,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": body,
        },
    }
    owner = _owner("apps/v1", "StatefulSet", name, names.uid())
    live = [
        LivePod(
            f"{name}-{i}",
            ns,
            {**labels, "statefulset.kubernetes.io/pod-name": f"{name}-{i}"},
            owner,
            template,
        )
        for i in range(pods)
    ]
    return GroupOut(
        name,
        ns,
        {"statefulset.yaml": [sts], "service.yaml": [_service(name, ns, labels)]},
        live,
        [],
    )


def make_job(name: str, ns: str, *, pods: int, names: Names) -> GroupOut:
    """A Job running `pods` pods in parallel, each owned by the Job."""
    cpu = names.rng.choice(["500m", "1", "2"])
    template = Template(
        containers=[
            ContainerSpec(
                "worker",
                f"registry.example/{name}:0.9.0",
                {"cpu": cpu, "memory": "2Gi"},
                {"cpu": cpu, "memory": "2Gi"},
                probes=False,
            )
        ],
        tolerations=list(_DEFAULT_TOLERATIONS),
    )
    job_uid = names.uid()
    labels = {"app": name, "batch.kubernetes.io/job-name": name}
    body = template.manifest(labels)
    body["spec"]["restartPolicy"] = "Never"
    job = {
        "apiVersion": "batch/v1",
        **_meta("Job", name, ns, labels={"app": name}),
        "spec": {"parallelism": pods, "completions": pods, "backoffLimit": 4, "template": body},
    }
    owner = _owner("batch/v1", "Job", name, job_uid)
    live = [
        LivePod(
            f"{name}-{names.suffix()}",
            ns,
            {**labels, "batch.kubernetes.io/controller-uid": job_uid},
            owner,
            template,
        )
        for _ in range(pods)
    ]
    return GroupOut(name, ns, {"job.yaml": [job]}, live, [])


def _ray_templates(rng: random.Random, name: str) -> tuple[Template, Template, Template | None]:
    image = "rayproject/ray:2.52.0"
    head = Template(
        [
            ContainerSpec(
                "ray-head", image, {"cpu": "2", "memory": "8Gi"}, {"cpu": "2", "memory": "8Gi"}
            )
        ]
    )
    worker = Template(
        [
            ContainerSpec(
                "ray-worker", image, {"cpu": "2", "memory": "8Gi"}, {"cpu": "2", "memory": "8Gi"}
            )
        ]
    )
    gpu = None
    if rng.random() < 0.4:
        gpu = Template(
            [
                ContainerSpec(
                    "ray-worker",
                    f"{image}-gpu",
                    {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                    {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                )
            ],
            tolerations=[_GPU_TOLERATION],
            gpus=1,
        )
    return head, worker, gpu


def make_ray_service(
    name: str, ns: str, *, pods: int, names: Names, stalled: bool = False
) -> GroupOut:
    """A RayService (head + CPU workers, some with GPU workers), its RayCluster(s) and pods.

    `stalled`: an upgrade is in progress and the second (pending) RayCluster's pods are all
    unschedulable, the case that makes KubeRay wait forever.
    """
    rng = names.rng
    head, worker, gpu = _ray_templates(rng, name)
    gpu_workers = max(1, pods // 6) if gpu else 0
    cpu_workers = max(1, pods - 1 - gpu_workers)
    groups = [
        {
            "groupName": "cpu",
            "replicas": cpu_workers,
            "minReplicas": 1,
            "maxReplicas": cpu_workers * 2,
            "rayStartParams": {},
            "template": worker.manifest({"app.kubernetes.io/name": name}),
        }
    ]
    if gpu:
        groups.append(
            {
                "groupName": "gpu",
                "replicas": gpu_workers,
                "minReplicas": 0,
                "maxReplicas": gpu_workers,
                "rayStartParams": {"num-gpus": "1"},
                "template": gpu.manifest({"app.kubernetes.io/name": name}),
            }
        )
    service = {
        "apiVersion": "ray.io/v1",
        **_meta("RayService", name, ns, labels={"app.kubernetes.io/name": name}),
        "spec": {
            "serveConfigV2": f"applications:\n  - name: {name}\n    import_path: serve.app:app\n",
            "rayClusterConfig": {
                "rayVersion": "2.52.0",
                "enableInTreeAutoscaling": True,
                "headGroupSpec": {
                    "rayStartParams": {"num-cpus": "0", "dashboard-host": "0.0.0.0"},
                    "template": head.manifest({"app.kubernetes.io/name": name}),
                },
                "workerGroupSpecs": groups,
            },
        },
    }
    autoscaler = ContainerSpec(
        "autoscaler",
        "rayproject/ray:2.52.0",
        {"cpu": "500m", "memory": "512Mi"},
        {"cpu": "500m", "memory": "512Mi"},
        probes=False,
    )
    wait_gcs = ContainerSpec(
        "wait-gcs-ready",
        "rayproject/ray:2.52.0",
        {"cpu": "200m", "memory": "256Mi"},
        {"cpu": "200m", "memory": "256Mi"},
        probes=False,
    )
    live_head = Template([*head.containers, autoscaler], tolerations=list(_DEFAULT_TOLERATIONS))
    live_worker = Template(worker.containers, [wait_gcs], tolerations=list(_DEFAULT_TOLERATIONS))
    live_gpu = (
        Template(gpu.containers, [wait_gcs], [*_DEFAULT_TOLERATIONS, _GPU_TOLERATION], gpus=1)
        if gpu
        else None
    )
    service_uid = names.uid()
    clusters = [f"{name}-{names.suffix()}"]
    if stalled:
        clusters.append(f"{name}-{names.suffix()}")
    objects: list[dict[str, Any]] = []
    live: list[LivePod] = []
    for index, cluster in enumerate(clusters):
        cluster_uid = names.uid()
        objects.append(
            {
                "apiVersion": "ray.io/v1",
                **_meta(
                    "RayCluster",
                    cluster,
                    ns,
                    uid=cluster_uid,
                    creationTimestamp=_STAMP if index == 0 else _PENDING_SINCE,
                    labels={
                        "ray.io/originated-from-cr-name": name,
                        "ray.io/originated-from-crd": "RayService",
                    },
                    ownerReferences=[_owner("ray.io/v1", "RayService", name, service_uid)],
                ),
                "status": {"state": "ready" if index == 0 else "", "desiredWorkerReplicas": pods},
            }
        )
        owner = _owner("ray.io/v1", "RayCluster", cluster, cluster_uid)
        pending = index == 1

        def labels(node_type: str, group: str, cluster: str = cluster) -> dict[str, str]:
            return {
                "ray.io/cluster": cluster,
                "ray.io/node-type": node_type,
                "ray.io/group": group,
                "app.kubernetes.io/name": name,
            }

        live.append(
            LivePod(
                f"{cluster}-head-{names.suffix()}",
                ns,
                labels("head", "headgroup"),
                owner,
                live_head,
                pending=pending,
            )
        )
        for group_name, count, template in (
            ("cpu", cpu_workers, live_worker),
            ("gpu", gpu_workers, live_gpu),
        ):
            for _ in range(count):
                assert template is not None
                live.append(
                    LivePod(
                        f"{cluster}-{group_name}-worker-{names.suffix()}",
                        ns,
                        labels("worker", group_name),
                        owner,
                        template,
                        pending=pending,
                    )
                )
    conditions = [_condition("Ready", "True", "RunningServeDeployments")]
    status: dict[str, Any] = {
        "activeServiceStatus": {"rayClusterName": clusters[0]},
        "serviceStatus": "Running",
    }
    if stalled:
        conditions.append(_condition("UpgradeInProgress", "True", "BothActivePendingClustersExist"))
        status["pendingServiceStatus"] = {"rayClusterName": clusters[1]}
    else:
        conditions.append(_condition("UpgradeInProgress", "False", "NoPendingCluster"))
    status["conditions"] = conditions
    objects.insert(
        0,
        {
            "apiVersion": "ray.io/v1",
            **_meta(
                "RayService",
                name,
                ns,
                uid=service_uid,
                creationTimestamp=_STAMP,
                labels={"app.kubernetes.io/name": name},
            ),
            "status": status,
        },
    )
    config = {
        "apiVersion": "v1",
        **_meta("ConfigMap", f"{name}-model", ns),
        "data": {"MODEL_NAME": name, "BATCH_MAX_SIZE": "32"},
    }
    files = {
        "configmap.yaml": [config],
        "rayservice.yaml": [service],
        "service.yaml": [_service(f"{name}-api", ns, {"app.kubernetes.io/name": name})],
    }
    return GroupOut(name, ns, files, live, objects)


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    body = {"type": kind, "status": status, "lastTransitionTime": _STAMP, "reason": reason}
    if message:
        body["message"] = message
    return body


_MAKERS = [
    (0.50, "web", make_deployment),
    (0.10, "sts", make_stateful_set),
    (0.15, "job", make_job),
    (0.25, "ray", make_ray_service),
]


def cluster_groups(
    cluster: str, *, index: int, size: Size, seed: int
) -> tuple[list[GroupOut], random.Random]:
    """The groups of one cluster, with ~2% of its pods pending (stuck groups)."""
    rng = random.Random(f"{seed}/{cluster}")
    names = Names(rng)
    per_cluster = size.groups // size.clusters
    budget = size.pods / per_cluster
    pending_goal = max(1, round(size.pods * PENDING_SHARE))
    groups: list[GroupOut] = []
    pending = 0
    # Stuck groups are drawn from the first ones of a shuffled order, so they vary by cluster.
    order = list(range(per_cluster))
    rng.shuffle(order)
    stuck_slots = set(order[: max(1, per_cluster // 25)])
    for slot in range(per_cluster):
        pick = rng.random()
        kind, maker = _MAKERS[-1][1], _MAKERS[-1][2]
        for share, name, function in _MAKERS:
            if pick < share:
                kind, maker = name, function
                break
            pick -= share
        pods = max(1, round(budget * rng.uniform(0.5, 1.5)))
        name = f"{cluster}-{kind}-{slot:03d}"
        ns = f"team-{rng.randrange(40):02d}"
        stuck = slot in stuck_slots and pending < pending_goal
        if kind == "ray":
            group = make_ray_service(name, ns, pods=pods, names=names, stalled=stuck)
        else:
            group = maker(name, ns, pods=pods, names=names)
            if stuck:
                share = min(max(1, len(group.pods) // 2), max(1, pending_goal - pending))
                for pod in group.pods[-share:]:
                    pod.pending = True
        pending += sum(p.pending for p in group.pods)
        if rng.random() < SKIP_RELOCATE_SHARE:
            group.policy = {"skipCapacityRelocate": True}
        # Its own generator: the "c" variant is the same fleet plus the constraints.
        constrain = random.Random(f"{seed}/{cluster}/{slot}/constrained")
        if constrain.random() < size.constrained:
            add_constraints(group, constrain)
        groups.append(group)
    return groups, rng


def add_constraints(group: GroupOut, rng: random.Random) -> None:
    """Give every pod template of the group's manifests a hostname anti-affinity or a zone
    spread constraint (DoNotSchedule) on its own labels."""
    for documents in group.files.values():
        for document in documents:
            for labels, spec in _templates(document):
                selector = {"matchLabels": labels}
                if rng.random() < 0.5:
                    term = {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}
                    spec["affinity"] = {
                        **(spec.get("affinity") or {}),
                        "podAntiAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": [term]
                        },
                    }
                else:
                    spec["topologySpreadConstraints"] = [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": selector,
                        }
                    ]


def _templates(document: Any) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Every pod template under a manifest: (labels to select its pods by, its spec)."""
    found = []
    if isinstance(document, dict):
        template = document.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            labels = (template.get("metadata") or {}).get("labels") or {}
            if not labels and "groupName" in document:
                labels = {"ray.io/group": document["groupName"]}
            found.append((dict(labels) or {"ray.io/node-type": "head"}, template["spec"]))
        for value in document.values():
            found += _templates(value)
    elif isinstance(document, list):
        for value in document:
            found += _templates(value)
    return found


def _node(name: str, *, cpu: int, gpus: int, zone: str, names: Names) -> dict[str, Any]:
    memory = f"{cpu * 4}Gi"
    allocatable = {"cpu": str(cpu), "memory": memory, "pods": "110", "ephemeral-storage": "180Gi"}
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": f"m.{cpu}x",
        "topology.kubernetes.io/zone": zone,
    }
    spec: dict[str, Any] = {"podCIDR": "10.244.0.0/24"}
    if gpus:
        allocatable["nvidia.com/gpu"] = str(gpus)
        labels["nvidia.com/gpu.present"] = "true"
        spec["taints"] = [_GPU_TAINT]
    conditions = [
        {**_condition(t, "False", f"KubeletHasNo{t}"), "lastHeartbeatTime": _PENDING_SINCE}
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    conditions.append(
        {
            **_condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            "lastHeartbeatTime": _PENDING_SINCE,
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": names.uid(),
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            "creationTimestamp": _STAMP,
        },
        "spec": spec,
        "status": {
            "allocatable": allocatable,
            "capacity": dict(allocatable),
            "conditions": conditions,
            "addresses": [{"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": "v1.33.5",
                "containerRuntimeVersion": "containerd://1.7.24",
                "osImage": "Ubuntu 24.04.1 LTS",
                "architecture": "amd64",
            },
        },
    }


_NODE_CPUS = (16, 32, 48, 64, 96, 128, 192, 256)


def cluster_snapshot(
    cluster: str, groups: list[GroupOut], *, size: Size, rng: random.Random
) -> tuple[bytes, dict[str, int]]:
    """The cluster's `kind: List`: nodes sized for ~60% CPU use, every non-pending pod bound."""
    names = Names(rng)
    pods = [p for g in groups for p in g.pods]
    cpu_pods = [p for p in pods if not p.pending and not p.template.gpus]
    gpu_pods = [p for p in pods if not p.pending and p.template.gpus]
    gpu_nodes = max(1, round(size.nodes * GPU_NODE_SHARE)) if gpu_pods else 0
    cpu_nodes = size.nodes - gpu_nodes
    want = sum(p.template.cpu_milli for p in cpu_pods) / 1000 / max(cpu_nodes, 1) / UTILISATION
    node_cpu = next((c for c in _NODE_CPUS if c >= want), _NODE_CPUS[-1])
    gpus_each = 8
    while gpu_nodes and len(gpu_pods) > gpu_nodes * gpus_each * UTILISATION:
        gpus_each *= 2
    nodes = [
        _node(f"{cluster}-n{i:03d}", cpu=node_cpu, gpus=0, zone=f"z{i % 3}", names=names)
        for i in range(cpu_nodes)
    ] + [
        _node(f"{cluster}-g{i:03d}", cpu=64, gpus=gpus_each, zone=f"z{i % 3}", names=names)
        for i in range(gpu_nodes)
    ]
    _bind(cpu_pods, nodes[:cpu_nodes], node_cpu)
    _bind(gpu_pods, nodes[cpu_nodes:], 64)
    pending_message = (
        f"0/{size.nodes} nodes are available: {cpu_nodes} Insufficient cpu, "
        f"{gpu_nodes} node(s) had untolerated taint {{nvidia.com/gpu: present}}. "
        f"preemption: 0/{size.nodes} nodes are available: "
        f"{size.nodes} No preemption victims found for incoming pod."
    )
    items: list[dict[str, Any]] = list(nodes)
    items += [_live_pod(p, names=names, pending_message=pending_message) for p in pods]
    items += [o for g in groups for o in g.objects if o["kind"] == "ReplicaSet"]
    items += [o for g in groups for o in g.objects if o["kind"] != "ReplicaSet"]
    document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}}
    document["items"] = items
    counts = {
        "nodes": len(nodes),
        "pods": len(pods),
        "pending": sum(p.pending for p in pods),
        "node_cpu": node_cpu,
    }
    return orjson.dumps(document), counts


def _bind(pods: list[LivePod], nodes: list[dict[str, Any]], node_cpu: int) -> None:
    """Bind pods round-robin onto nodes with room (a pod finding none stays pending)."""
    if not nodes:
        for pod in pods:
            pod.pending = True
        return
    room = [node_cpu * 1000] * len(nodes)
    slots = [110] * len(nodes)
    cursor = 0
    for pod in pods:
        need = pod.template.cpu_milli
        for step in range(len(nodes)):
            at = (cursor + step) % len(nodes)
            if room[at] >= need and slots[at] > 0:
                room[at] -= need
                slots[at] -= 1
                pod.node = nodes[at]["metadata"]["name"]
                cursor = at + 1
                break
        else:
            pod.pending = True


def _live_pod(pod: LivePod, *, names: Names, pending_message: str) -> dict[str, Any]:
    template = pod.template
    spec: dict[str, Any] = {
        "containers": [c.live() for c in template.containers],
        "volumes": [_TOKEN_VOLUME],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": template.tolerations,
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if template.init_containers:
        spec["initContainers"] = [c.live() for c in template.init_containers]
    metadata = {
        "name": pod.name,
        "generateName": pod.name.rpartition("-")[0] + "-",
        "namespace": pod.namespace,
        "uid": names.uid(),
        "resourceVersion": str(names.rng.randrange(10**6, 10**7)),
        "creationTimestamp": _PENDING_SINCE if pod.pending else _STAMP,
        "labels": pod.labels,
        "annotations": {"prometheus.io/scrape": "true"},
        "ownerReferences": [pod.owner],
    }
    if pod.pending:
        status: dict[str, Any] = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": _PENDING_SINCE,
                    "reason": "Unschedulable",
                    "message": pending_message,
                }
            ],
            "qosClass": "Burstable",
        }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": spec,
            "status": status,
        }
    spec["nodeName"] = pod.node
    ip = f"10.{names.rng.randrange(256)}.{names.rng.randrange(256)}.{names.rng.randrange(1, 255)}"
    status = {
        "phase": pod.phase,
        "conditions": [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": _STAMP}
            for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
        ]
        + [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": _STAMP,
            }
        ],
        "hostIP": "10.0.0.1",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": _STAMP,
        "containerStatuses": [
            {
                "name": c.name,
                "state": {"running": {"startedAt": _STAMP}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": c.image,
                "imageID": f"{c.image}@sha256:{'ab' * 32}",
                "containerID": f"containerd://{'cd' * 32}",
                "started": True,
            }
            for c in template.containers
        ],
        "qosClass": "Burstable",
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def _dump(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(documents, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def write_group(root: Path, cluster: str, group: GroupOut) -> None:
    """The group's directory: kustomization.yaml, its manifests and maybe placement.yaml."""
    directory = root / "clusters" / cluster / "groups" / group.name
    directory.mkdir(parents=True)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": group.namespace,
        "resources": list(group.files),
    }
    (directory / "kustomization.yaml").write_text(_dump([kustomization]))
    for file, documents in group.files.items():
        (directory / file).write_text(_dump(documents))
    if group.policy:
        (directory / "placement.yaml").write_text(_dump([group.policy]))


def fleet_yaml(clusters: list[str]) -> str:
    """fleet.yaml: every cluster with a small reserve; direct mode (no GitHub)."""
    document = {
        "clusters": [
            {
                "name": c,
                "context": c,
                "labels": {"region": f"r{i % 4}"},
                "reserve": {"cpu": "2", "memory": "4Gi"},
            }
            for i, c in enumerate(clusters)
        ],
        "defaults": {"pendingGracePeriod": "5m", "cooldown": "30m"},
        "git": {"branch": "main", "mode": "direct"},
    }
    return "# Synthetic fleet written by bench/make_fleet.py\n" + _dump([document])


def generate(size_name: str, *, seed: int, out: Path) -> dict[str, Any]:
    """Write the fleet and snapshots into `out` (emptied first); return the meta record."""
    size = SIZES[size_name]
    if out.exists():
        shutil.rmtree(out)
    fleet, snapshots = out / "fleet", out / "snapshots"
    snapshots.mkdir(parents=True)
    fleet.mkdir()
    clusters = [f"c{i:03d}" for i in range(size.clusters)]
    (fleet / "fleet.yaml").write_text(fleet_yaml(clusters))
    totals = {"nodes": 0, "pods": 0, "pending": 0, "groups": 0, "bytes": 0}
    stamp = NOW.timestamp()
    for index, cluster in enumerate(clusters):
        groups, rng = cluster_groups(cluster, index=index, size=size, seed=seed)
        groups_dir = fleet / "clusters" / cluster / "groups"
        groups_dir.mkdir(parents=True)
        listing = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [g.name for g in groups],
        }
        (groups_dir / "kustomization.yaml").write_text(
            "# Groups placed on this cluster; placement-reconciler edits this list.\n"
            + _dump([listing])
        )
        for group in groups:
            write_group(fleet, cluster, group)
        body, counts = cluster_snapshot(cluster, groups, size=size, rng=rng)
        path = snapshots / f"{cluster}.json"
        path.write_bytes(body)
        os.utime(path, (stamp, stamp))
        for key in ("nodes", "pods", "pending"):
            totals[key] += counts[key]
        totals["groups"] += len(groups)
        totals["bytes"] += len(body)
    _git(["init", "-q", "-b", "main"], cwd=fleet)
    _git(["add", "-A"], cwd=fleet)
    _git(["commit", "-q", "-m", f"fleet: synthetic {size_name} fleet, seed {seed}"], cwd=fleet)
    meta = {
        "generator": GENERATOR_VERSION,
        "size": size_name,
        "seed": seed,
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clusters": size.clusters,
        **totals,
    }
    (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return meta


def _git(args: list[str], *, cwd: Path) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **_GIT_ENV}, check=True, capture_output=True
    )


def cached(out: Path, *, size: str, seed: int) -> dict[str, Any] | None:
    """The meta record of a complete earlier generation of this size and seed, if any."""
    try:
        meta: dict[str, Any] = orjson.loads((out / "meta.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    same = (meta.get("generator"), meta.get("size"), meta.get("seed"))
    return meta if same == (GENERATOR_VERSION, size, seed) else None


def ensure_fleet(size: str, *, seed: int, out: Path | None = None, force: bool = False) -> Path:
    """The directory holding this fleet, generated unless an identical one is there."""
    target = out or _CACHE / f"{size}-seed{seed}"
    if force or cached(target, size=size, seed=seed) is None:
        generate(size, seed=seed, out=target)
    return target


OVERLAY_SHARE = 10  # every tenth group becomes an overlay
SHARED_BASES = 10


def ensure_overlay_fleet(size: str, *, seed: int, force: bool = False) -> Path:
    """The fleet of this size with every tenth group an overlay on one of ten shared bases.

    Written to bench/.cache/<size>-overlays-seed<seed>/ from the plain fleet: the overlay
    groups keep their files and add `../../../../bases/shared-<k>` (a ConfigMap) to their
    resources, so kustomize renders them (they are not plain) while their workloads, and
    so every decision, stay those of the plain fleet. Snapshots are hard links.
    """
    source = ensure_fleet(size, seed=seed)
    target = _CACHE / f"{size}-overlays-seed{seed}"
    meta = cached(target, size=size, seed=seed)
    if meta is not None and meta.get("overlays") and not force:
        return target
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source / "snapshots", target / "snapshots", copy_function=os.link)
    shutil.copytree(source / "fleet", target / "fleet", symlinks=True)
    fleet = target / "fleet"
    for k in range(SHARED_BASES):
        base = fleet / "bases" / f"shared-{k}"
        base.mkdir(parents=True)
        config_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"shared-defaults-{k}"},
            "data": {"LOG_LEVEL": "info", "REGION": f"r{k}"},
        }
        (base / "configmap.yaml").write_text(_dump([config_map]))
        (base / "kustomization.yaml").write_text(_dump([{"resources": ["configmap.yaml"]}]))
    groups = sorted(fleet.glob("clusters/*/groups/*/kustomization.yaml"))
    overlays = groups[::OVERLAY_SHARE]
    for index, path in enumerate(overlays):
        kustomization = yaml.safe_load(path.read_text())
        base = f"../../../../bases/shared-{index % SHARED_BASES}"
        kustomization["resources"] = [*kustomization["resources"], base]
        path.write_text(_dump([kustomization]))
    _git(["add", "-A"], cwd=fleet)
    _git(["commit", "-q", "-m", f"fleet: {len(overlays)} groups overlay shared bases"], cwd=fleet)
    meta = {**orjson.loads((source / "meta.json").read_bytes()), "overlays": len(overlays)}
    (target / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="default: bench/.cache/<size>-seed<seed>")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    options = parser.parse_args(argv)
    target = options.out or _CACHE / f"{options.size}-seed{options.seed}"
    started = time.perf_counter()
    reused = not options.force and cached(target, size=options.size, seed=options.seed)
    ensure_fleet(options.size, seed=options.seed, out=target, force=options.force)
    meta = cached(target, size=options.size, seed=options.seed) or {}
    what = "reused" if reused else f"generated in {time.perf_counter() - started:.1f}s"
    print(
        f"{target}: {meta['clusters']} clusters, {meta['nodes']} nodes, {meta['pods']} pods "
        f"({meta['pending']} pending), {meta['groups']} groups, "
        f"{meta['bytes'] / 2**20:.1f} MiB of snapshots ({what})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
