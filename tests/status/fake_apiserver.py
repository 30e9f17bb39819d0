"""A fake Kubernetes API server on 127.0.0.1 (pytest-httpserver) and builders for its objects.

It serves list endpoints the way the API server does: items without kind/apiVersion,
`limit` + `continue` pages, Status bodies for errors, a bearer token check. Faults are
queued per resource: `server.fail("pods", status=500)`, `server.expire_continue("pods")`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Obj = dict[str, Any]

# plural → (kind, apiVersion, list path)
RESOURCES: dict[str, tuple[str, str, str]] = {
    "nodes": ("Node", "v1", "/api/v1/nodes"),
    "pods": ("Pod", "v1", "/api/v1/pods"),
    "replicasets": ("ReplicaSet", "apps/v1", "/apis/apps/v1/replicasets"),
    "deployments": ("Deployment", "apps/v1", "/apis/apps/v1/deployments"),
    "statefulsets": ("StatefulSet", "apps/v1", "/apis/apps/v1/statefulsets"),
    "daemonsets": ("DaemonSet", "apps/v1", "/apis/apps/v1/daemonsets"),
    "jobs": ("Job", "batch/v1", "/apis/batch/v1/jobs"),
    "horizontalpodautoscalers": (
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        "/apis/autoscaling/v2/horizontalpodautoscalers",
    ),
    "rayservices": ("RayService", "ray.io/v1", "/apis/ray.io/v1/rayservices"),
    "rayclusters": ("RayCluster", "ray.io/v1", "/apis/ray.io/v1/rayclusters"),
    "rayjobs": ("RayJob", "ray.io/v1", "/apis/ray.io/v1/rayjobs"),
}
_PLURAL_OF_KIND = {kind: plural for plural, (kind, _, _) in RESOURCES.items()}
_PLURAL_OF_PATH = {path: plural for plural, (_, _, path) in RESOURCES.items()}
CREATED = "2024-05-01T10:00:00Z"


# --- builders -------------------------------------------------------------------------------


def owner(kind: str, name: str, *, api_version: str = "apps/v1") -> Obj:
    """A controller ownerReference."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{kind.lower()}-{name}",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _meta(name: str, namespace: str | None, **extra: Any) -> Obj:
    metadata: Obj = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "creationTimestamp": CREATED,
    }
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata.update({key: value for key, value in extra.items() if value})
    return metadata


def node(
    name: str,
    *,
    cpu: str = "8",
    memory: str = "32Gi",
    gpu: str | None = None,
    labels: Mapping[str, str] | None = None,
    taints: list[Obj] | None = None,
    ready: bool = True,
    unschedulable: bool = False,
) -> Obj:
    """A Node with allocatable resources and a Ready condition."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpu is not None:
        allocatable["nvidia.com/gpu"] = gpu
    spec: Obj = {"taints": taints} if taints else {}
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, None, labels={"kubernetes.io/hostname": name, **(labels or {})}),
        "spec": spec,
        "status": {
            "capacity": dict(allocatable),
            "allocatable": allocatable,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "lastHeartbeatTime": CREATED,
                    "lastTransitionTime": CREATED,
                }
            ],
        },
    }


def pod(
    name: str,
    *,
    namespace: str = "team",
    node_name: str | None = "node-a",
    cpu: str = "500m",
    memory: str = "1Gi",
    gpu: str | None = None,
    owned_by: Obj | None = None,
    labels: Mapping[str, str] | None = None,
    phase: str | None = None,
    node_selector: Mapping[str, str] | None = None,
) -> Obj:
    """A Pod with one container; bound and Running when it has a node, else Pending."""
    requests = {"cpu": cpu, "memory": memory}
    limits = {"nvidia.com/gpu": gpu} if gpu else {}
    if gpu:
        requests["nvidia.com/gpu"] = gpu
    spec: Obj = {
        "containers": [
            {
                "name": "main",
                "image": "registry.example/app:1.0",
                "resources": {"requests": requests, **({"limits": limits} if limits else {})},
            }
        ],
        "restartPolicy": "Always",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
        ],
    }
    if node_name:
        spec["nodeName"] = node_name
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": CREATED}
    if not node_name:
        scheduled.update(status="False", reason="Unschedulable", message="0/3 nodes are available")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            name,
            namespace,
            labels=dict(labels or {}),
            ownerReferences=[owned_by] if owned_by else None,
        ),
        "spec": spec,
        "status": {
            "phase": phase or ("Running" if node_name else "Pending"),
            "conditions": [scheduled],
        },
    }


def workload(
    kind: str,
    name: str,
    *,
    namespace: str = "team",
    owned_by: Obj | None = None,
    replicas: int | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Obj:
    """A ReplicaSet, Deployment, StatefulSet or Job with a minimal valid spec."""
    api_version = RESOURCES[_PLURAL_OF_KIND[kind]][1]
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "main", "image": "registry.example/app:1.0"}]},
    }
    spec: Obj = {"template": template}
    if kind != "Job":
        spec["selector"] = {"matchLabels": {"app": name}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _meta(
            name,
            namespace,
            ownerReferences=[owned_by] if owned_by else None,
            labels={"app": name, **(labels or {})},
            annotations=dict(annotations or {}),
        ),
        "spec": spec,
        "status": {},
    }


def autoscaler(
    name: str, *, target: str, min_replicas: int | None = None, namespace: str = "team"
) -> Obj:
    """An autoscaling/v2 HorizontalPodAutoscaler of Deployment `target` on CPU."""
    spec: Obj = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ],
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name, namespace),
        "spec": spec,
        "status": {"currentReplicas": 1, "desiredReplicas": 1},
    }


def ray_service(name: str, *, namespace: str = "team", active: str = "", pending: str = "") -> Obj:
    """A RayService naming its active and pending RayClusters."""
    status: Obj = {
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": CREATED}]
    }
    if active:
        status["activeServiceStatus"] = {"rayClusterName": active}
    if pending:
        status["pendingServiceStatus"] = {"rayClusterName": pending}
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": _meta(name, namespace),
        "spec": {"rayClusterConfig": {"headGroupSpec": {"rayStartParams": {}}}},
        "status": status,
    }


def ray_object(
    kind: str, name: str, *, namespace: str = "team", owned_by: Obj | None = None
) -> Obj:
    """A RayCluster or RayJob."""
    return {
        "apiVersion": "ray.io/v1",
        "kind": kind,
        "metadata": _meta(name, namespace, ownerReferences=[owned_by] if owned_by else None),
        "spec": {},
        "status": {"state": "ready"} if kind == "RayCluster" else {"jobStatus": "RUNNING"},
    }


def status_body(code: int, reason: str, message: str) -> Obj:
    """A metav1.Status error body."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


# --- the server -----------------------------------------------------------------------------


@dataclasses.dataclass
class Fault:
    """What to do instead of answering a request, `times` times."""

    times: int = 1
    status: int = 0
    body: bytes | None = None
    delay: float = 0.0
    on_continue: bool = False  # only for requests that carry a continue token
    length: int = 0  # a Content-Length larger than the body: the answer is cut short


class FakeApiServer:
    """One fake cluster: its objects, its token, and queued faults per resource plural."""

    def __init__(self, server: HTTPServer, *, token: str) -> None:
        self.server = server
        self.token = token
        self.objects: dict[str, list[Obj]] = {plural: [] for plural in RESOURCES}
        self.ray_installed = True
        self.unserved: set[str] = set()  # plurals answered 404 (a partial install)
        self.faults: dict[str, list[Fault]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.generation = 0
        server.expect_request(re.compile(r"^/apis?/.*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.server.port}"

    def add(self, *objects: Obj) -> FakeApiServer:
        """Serve these objects (each built with its kind)."""
        for item in objects:
            self.objects[_PLURAL_OF_KIND[item["kind"]]].append(item)
        return self

    def fail(self, plural: str, *, status: int = 500, times: int = 1, **extra: Any) -> None:
        """Answer the next `times` requests for that resource with an error status."""
        self.faults.setdefault(plural, []).append(Fault(times=times, status=status, **extra))

    def answer(self, plural: str, body: bytes, *, times: int = 1, length: int = 0) -> None:
        """Answer the next requests with this raw 200 body (claiming `length` bytes if set)."""
        fault = Fault(times=times, status=200, body=body, length=length)
        self.faults.setdefault(plural, []).append(fault)

    def stall(self, plural: str, *, seconds: float, times: int = 1) -> None:
        """Sleep before answering the next requests (then answer normally)."""
        self.faults.setdefault(plural, []).append(Fault(times=times, delay=seconds))

    def expire_continue(self, plural: str, *, times: int = 1) -> None:
        """Answer the next continue requests with 410 Gone (an expired continue token)."""
        self.fail(plural, status=410, times=times, on_continue=True)

    def requested(self, plural: str) -> list[dict[str, str]]:
        """The query parameters of every request made for that resource."""
        path = RESOURCES[plural][2]
        return [query for seen, query in self.requests if seen == path]

    def _handle(self, request: Request) -> Response:
        query = dict(request.args.items())
        self.requests.append((request.path, query))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json(401, status_body(401, "Unauthorized", "Unauthorized"))
        plural = _PLURAL_OF_PATH.get(request.path)
        not_installed = plural is not None and plural.startswith("ray") and not self.ray_installed
        if plural is None or not_installed or plural in self.unserved:
            return _json(404, status_body(404, "NotFound", "the server could not find it"))
        fault = self._next_fault(plural, continuing=bool(query.get("continue")))
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.body is not None:
                response = Response(fault.body, status=fault.status, mimetype="application/json")
                if fault.length:
                    response.headers["Content-Length"] = str(fault.length)
                return response
            if fault.status:
                message = "expired" if fault.status == 410 else "injected fault"
                reason = {410: "Expired", 403: "Forbidden"}.get(fault.status, "InternalError")
                return _json(fault.status, status_body(fault.status, reason, message))
        return _json(200, self._page(plural, query))

    def _next_fault(self, plural: str, *, continuing: bool) -> Fault | None:
        for fault in self.faults.get(plural, []):
            if fault.times > 0 and (continuing or not fault.on_continue):
                fault.times -= 1
                return fault
        return None

    def _page(self, plural: str, query: Mapping[str, str]) -> Obj:
        kind, api_version, _ = RESOURCES[plural]
        items = self.objects[plural]
        start = int(query["continue"].split("-")[1]) if query.get("continue") else 0
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[start : start + limit]
        metadata: Obj = {"resourceVersion": "100"}
        if start + limit < len(items):
            metadata["continue"] = f"{self.generation}-{start + limit}"
            metadata["remainingItemCount"] = len(items) - start - limit
        stripped = [
            {k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in page
        ]
        return {
            "kind": f"{kind}List",
            "apiVersion": api_version,
            "metadata": metadata,
            "items": stripped,
        }


def _json(status: int, body: Obj) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclasses.dataclass
class FakeFleet:
    """Fake clusters by name and a kubeconfig file with one context per cluster."""

    clusters: dict[str, FakeApiServer]
    kubeconfig: Path

    def __getitem__(self, name: str) -> FakeApiServer:
        return self.clusters[name]


def write_kubeconfig(path: Path, servers: Mapping[str, tuple[str, str]]) -> Path:
    """A kubeconfig with a context, cluster and token user per name: {name: (url, token)}."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": url}} for n, (url, _) in servers.items()],
        "users": [{"name": f"{n}-user", "user": {"token": t}} for n, (_, t) in servers.items()],
        "contexts": [
            {"name": f"ctx-{n}", "context": {"cluster": n, "user": f"{n}-user"}} for n in servers
        ],
        "current-context": f"ctx-{next(iter(servers))}",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start_servers(count: int) -> Iterator[HTTPServer]:
    """Start `count` threaded HTTP servers on 127.0.0.1 with free ports."""
    for _ in range(count):
        server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        server.start()
        yield server
