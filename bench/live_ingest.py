"""Benchmark: ingesting one large pod list, the client's models against our raw path.

Serves one PodList of `--pods` realistic pods (containers, requests, env, probes, owner
references, conditions, container statuses, managedFields) from a local HTTP server on
127.0.0.1 and times, as the median of `--repeat` runs:

  (a) model   CoreV1Api.list_pod_for_all_namespaces(): HTTP + the client's models
  (b) ours    ListReader (raw, `_preload_content=False`) + msgspec wire Structs + ClusterState
  (c) bare    orjson.loads of the same bytes, with the cyclic collector on and paused

(b) is also split into its HTTP fetch and its parse (wire decoding + cluster_state_from_wire
from bytes already in memory), the part comparable with (c). Writes nothing.

    python bench/live_ingest.py --pods 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import yaml
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.core.gc_pause import collector_paused
from reconciler.status.kube_connect import api_client_for, close_client
from reconciler.status.live import RESOURCES, ListReader, wire_page
from reconciler.status.model import ClusterState
from reconciler.status.parse import cluster_state_from_wire
from reconciler.status.wire import decode_list

TOKEN = "bench-token"
STAMP = "2024-05-01T10:00:00Z"


def bench_node(index: int) -> dict[str, Any]:
    """A Ready node the bench's pods are bound to."""
    return {
        "metadata": {"name": f"node-{index:03d}", "labels": {"kubernetes.io/os": "linux"}},
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def realistic_pod(index: int) -> dict[str, Any]:
    """A pod as a Deployment's ReplicaSet creates it and the kubelet reports it (no kind)."""
    app = f"app-{index % 200}"
    rs = f"{app}-7d9f8c6b5"
    name = f"{rs}-{index:06d}"
    cpu, memory = ("250m", "512Mi") if index % 3 else ("1", "2Gi")
    node_name = f"node-{index % 500:03d}"
    env = [{"name": f"SETTING_{k}", "value": f"value-{k}"} for k in range(5)]
    env.append(
        {
            "name": "POD_IP",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
        }
    )
    probe = {
        "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    mounts = [
        {"name": "config", "mountPath": "/etc/app"},
        {
            "name": "kube-api-access",
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            "readOnly": True,
        },
    ]
    main = {
        "name": "main",
        "image": f"registry.example/{app}:1.{index % 7}",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "volumeMounts": mounts,
        "livenessProbe": probe,
        "readinessProbe": probe,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    sidecar = {
        "name": "proxy",
        "image": "registry.example/proxy:2.3",
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        },
        "volumeMounts": mounts[1:],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": STAMP}
        for t in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        )
    ]
    statuses = [
        {
            "name": c,
            "state": {"running": {"startedAt": STAMP}},
            "lastState": {},
            "ready": True,
            "restartCount": 0,
            "image": f"registry.example/{c}:1.0",
            "imageID": f"registry.example/{c}@sha256:{'ab' * 32}",
            "containerID": f"containerd://{'cd' * 32}",
            "started": True,
        }
        for c in ("main", "proxy")
    ]
    return {
        "metadata": {
            "name": name,
            "generateName": f"{rs}-",
            "namespace": f"team-{index % 40}",
            "uid": f"5f0c{index:08d}-1b2c-4d5e-8f90-a1b2c3d4e5f6",
            "resourceVersion": str(1000000 + index),
            "creationTimestamp": STAMP,
            "labels": {
                "app": app,
                "pod-template-hash": "7d9f8c6b5",
                "tier": "web",
                "team": f"t{index % 40}",
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": STAMP,
                "prometheus.io/scrape": "true",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs,
                    "uid": f"rs-uid-{index % 200:04d}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": STAMP,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:ownerReferences": {}}
                    },
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": STAMP,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:podIP": {}}
                    },
                    "subresource": "status",
                },
            ],
        },
        "spec": {
            "containers": [main, sidecar],
            "volumes": [
                {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
                {
                    "name": "kube-api-access",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
                        ],
                        "defaultMode": 420,
                    },
                },
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": node_name,
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": f"10.0.{index % 250}.{index % 200 + 1}",
            "podIP": f"10.244.{index % 250}.{index % 200 + 2}",
            "podIPs": [{"ip": f"10.244.{index % 250}.{index % 200 + 2}"}],
            "startTime": STAMP,
            "containerStatuses": statuses,
            "qosClass": "Burstable",
        },
    }


def pod_list_bytes(count: int) -> bytes:
    """One PodList holding `count` pods, as the API server sends it."""
    document = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "2000000"},
        "items": [realistic_pod(i) for i in range(count)],
    }
    return orjson.dumps(document)


@contextmanager
def serve(body: bytes) -> Iterator[int]:
    """Serve `body` for every GET on 127.0.0.1; yield the port."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def paused(run: Callable[[], object]) -> Callable[[], object]:
    """`run` with the cyclic garbage collector off while it runs."""

    def run_paused() -> object:
        with collector_paused():
            return run()

    return run_paused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per path (median)")
    parser.add_argument("--model-repeat", type=int, default=0, help="runs of (a); default --repeat")
    options = parser.parse_args(argv)

    body = pod_list_bytes(options.pods)
    pods_resource = next(r for r in RESOURCES if r.kind == "Pod")
    with serve(body) as port, tempfile.TemporaryDirectory() as scratch:
        kubeconfig = Path(scratch) / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "b", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                    "users": [{"name": "b", "user": {"token": TOKEN}}],
                    "contexts": [{"name": "bench", "context": {"cluster": "b", "user": "b"}}],
                }
            )
        )
        api = api_client_for("bench", kubeconfig=str(kubeconfig))
        core = client.CoreV1Api(api)

        def model_path() -> object:
            return core.list_pod_for_all_namespaces(_request_timeout=(10, 600))

        # A cluster read has its nodes too (a read whose pods sit on unlisted nodes is
        # inconsistent); the 500 nodes are a few kilobytes next to the pod list.
        nodes, _ = decode_list(
            orjson.dumps({"items": [bench_node(i) for i in range(500)]}), kind="Node"
        )

        def our_path() -> ClusterState:
            reader = ListReader(
                api,
                decode=wire_page,
                timeout=600,
                deadline=600,
                retries=0,
                sleep=time.sleep,
                clock=time.monotonic,
            )
            objects = reader.list_all(pods_resource)
            with collector_paused():  # as read_cluster does
                return cluster_state_from_wire([*nodes, *objects], cluster="bench")

        def fetch_only() -> object:
            response = core.list_pod_for_all_namespaces(
                limit=500, _preload_content=False, _request_timeout=(10, 600)
            )
            data = response.data
            response.release_conn()
            return data

        def decode_only() -> object:
            return wire_page(body, pods_resource)

        def parse_only() -> ClusterState:
            # What our path does once the bytes are in: live.wire_page, then read_cluster.
            objects, _ = wire_page(body, pods_resource)
            with collector_paused():
                return cluster_state_from_wire([*nodes, *objects], cluster="bench")

        check = our_path()
        assert len(check.pods) == options.pods and not check.skipped, "our path lost pods"
        del check
        c = median_seconds(lambda: orjson.loads(body), options.repeat)
        c_paused = median_seconds(paused(lambda: orjson.loads(body)), options.repeat)
        b_decode = median_seconds(decode_only, options.repeat)
        b_parse = median_seconds(parse_only, options.repeat)
        b_fetch = median_seconds(fetch_only, options.repeat)
        b = median_seconds(our_path, options.repeat)
        a = median_seconds(model_path, options.model_repeat or options.repeat)
        close_client(api)

    size = len(body) / 2**20
    print(
        f"{options.pods} pods, {size:.1f} MiB of JSON "
        f"({len(body) / options.pods / 1024:.1f} KiB a pod), median of runs"
    )
    rows = [
        ("(a) client models (HTTP + deserialize)", a),
        ("(b) ours (HTTP raw + wire Structs + ClusterState)", b),
        ("    of which HTTP fetch of raw bytes", b_fetch),
        ("    of which parse: wire Structs + ClusterState", b_parse),
        ("      of which decode into wire Structs", b_decode),
        ("(c) bare orjson.loads of the bytes", c),
        ("(c') the same with the collector paused", c_paused),
    ]
    for label, seconds in rows:
        print(f"  {label:<52} {seconds * 1000:9.1f} ms")
    ratios = [
        ("a/b end to end", a / b, ">= 20", a / b >= 20),
        ("b/c end to end", b / c, "", None),
        ("b/c parse only, same bytes", b_parse / c, "<= 1.5", b_parse / c <= 1.5),
        (
            "b/c' parse only vs a GC-paused bare parse",
            b_parse / c_paused,
            "<= 1.5",
            b_parse / c_paused <= 1.5,
        ),
    ]
    for label, ratio, target, met in ratios:
        verdict = "" if met is None else ("PASS" if met else "MISS")
        print(f"  {label:<44} {ratio:9.2f}  {target:>6} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
