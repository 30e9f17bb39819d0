"""Random constrained clusters and groups for the real-scheduler check, from one seed.

Only fields Kubernetes 1.20 knows: pod (anti-)affinity with namespaces, topology spread
DoNotSchedule (maxSkew only), host ports, taints, selectors. Groups look like a RayService
(a head, then workers, with KubeRay's labels) or a Deployment (identical replicas).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from reconciler.workloads.ray import ray_labels

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


@dataclasses.dataclass(frozen=True)
class Case:
    """One cluster (nodes, bound pods) and one group (pods in creation order)."""

    number: int
    namespace: str
    nodes: list[dict[str, Any]]
    bound: list[dict[str, Any]]
    group: list[dict[str, Any]]  # pod objects, created one by one


def make_case(number: int, *, seed: int) -> Case:
    """The case `number` of the run `seed`."""
    rng = random.Random(seed * 100_003 + number)
    namespace = f"rs-{seed}-{number}"
    nodes = [_node(f"c{seed}-{number}-n{i}", rng) for i in range(rng.randint(2, 4))]
    names = [n["metadata"]["name"] for n in nodes]
    bound = [_bound_pod(f"old-{i}", namespace, rng, names) for i in range(rng.randint(0, 3))]
    group = _ray_group(namespace, rng) if rng.random() < 0.5 else _deployment(namespace, rng)
    return Case(number=number, namespace=namespace, nodes=nodes, bound=bound, group=group)


def _node(name: str, rng: random.Random) -> dict[str, Any]:
    cpu = rng.choice(["2", "4", "8"])
    memory = rng.choice(["4Gi", "8Gi", "16Gi"])
    amounts = {"cpu": cpu, "memory": memory, "pods": "110"}
    spec: dict[str, Any] = {}
    if rng.random() < 0.15:
        spec["taints"] = [{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}]
    return {
        "metadata": {"name": name, "labels": {HOST: name, ZONE: rng.choice(["z1", "z2"])}},
        "spec": spec,
        "status": {
            "capacity": amounts,
            "allocatable": amounts,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _container(rng: random.Random, *, port: bool) -> dict[str, Any]:
    cpu = rng.choice(["500m", "1", "1500m", "2", "3"])
    memory = rng.choice(["512Mi", "1Gi", "2Gi", "4Gi"])
    container: dict[str, Any] = {
        "name": "main",
        "image": "pause",
        "resources": {"requests": {"cpu": cpu, "memory": memory}},
    }
    if port:
        container["ports"] = [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}]
    return container


def _selector(labels: dict[str, str]) -> dict[str, Any]:
    return {"matchLabels": labels}


def _constraints(rng: random.Random, labels: dict[str, str]) -> tuple[dict[str, Any], bool]:
    """A random pod spec part: affinity, spreading, tolerations; and whether to bind a port."""
    spec: dict[str, Any] = {}
    key = rng.choice([HOST, ZONE])
    if rng.random() < 0.5:
        spec["affinity"] = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": _selector(labels), "topologyKey": key}
                ]
            }
        }
    elif rng.random() < 0.5:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": rng.choice([1, 2]),
                "topologyKey": key,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": _selector(labels),
            }
        ]
    if rng.random() < 0.3:
        preferred = {
            "weight": 50,
            "podAffinityTerm": {"labelSelector": _selector(labels), "topologyKey": HOST},
        }
        spec.setdefault("affinity", {})["podAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [preferred]
        }
    if rng.random() < 0.3:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    return spec, rng.random() < 0.25


def _pod(name: str, namespace: str, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def _bound_pod(name: str, namespace: str, rng: random.Random, nodes: list[str]) -> dict[str, Any]:
    labels = {"app": rng.choice(["web", "other"])}
    extra, port = _constraints(rng, labels)
    spec = {"nodeName": rng.choice(nodes), "containers": [_container(rng, port=port)], **extra}
    spec["containers"][0]["resources"]["requests"] = {"cpu": "500m", "memory": "512Mi"}
    return _pod(name, namespace, labels, spec)


def _deployment(namespace: str, rng: random.Random) -> list[dict[str, Any]]:
    labels = {"app": "web"}
    extra, port = _constraints(rng, labels)
    container = _container(rng, port=port)
    return [
        _pod(f"web-{i}", namespace, labels, {"containers": [container], **extra})
        for i in range(rng.randint(2, 5))
    ]


def _ray_group(namespace: str, rng: random.Random) -> list[dict[str, Any]]:
    cluster = "rc"
    head_labels = ray_labels({"app": "ray"}, cluster=cluster, node_type="head", group="headgroup")
    pods = [_pod("rc-head", namespace, head_labels, {"containers": [_container(rng, port=False)]})]
    worker_labels = ray_labels({"app": "ray"}, cluster=cluster, node_type="worker", group="gpu")
    # Selectors use KubeRay's labels, as users write them.
    selector = {"ray.io/cluster": cluster, "ray.io/group": "gpu"}
    extra, port = _constraints(rng, selector)
    if rng.random() < 0.3:
        # Workers near their head: required affinity to the head's zone.
        head = {"labelSelector": _selector({"ray.io/node-type": "head"}), "topologyKey": ZONE}
        extra.setdefault("affinity", {})["podAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": [head]
        }
    container = _container(rng, port=port)
    pods += [
        _pod(f"rc-worker-{i}", namespace, worker_labels, {"containers": [container], **extra})
        for i in range(rng.randint(1, 4))
    ]
    return pods
