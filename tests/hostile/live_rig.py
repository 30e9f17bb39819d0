"""The demo's two clusters served by fake API servers, with faults applied cluster by cluster.

onprem holds ray-pred, stuck in a stalled upgrade; cloud has room for one copy of it. So
with both clusters healthy the plan moves ray-pred from onprem to cloud, and any fault on
either side must stop that move: a fault on onprem must stop judging ray-pred, a fault on
cloud must stop it being a target.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer

from reconciler.demo import DEMO_DIR
from tests.status.fake_apiserver import FakeApiServer, Fault, start_servers

CLUSTERS = ("onprem", "cloud")
# Recognisable kubeconfig credentials: no reason, plan or log may ever show them.
KUBE_TOKENS = {
    "onprem": "kube-bearer-ONPREM-5ecr3t-0123456789abcdef",
    "cloud": "kube-bearer-CLOUD-5ecr3t-fedcba9876543210",
}


def demo_items(cluster: str) -> list[dict[str, Any]]:
    """The objects of the demo snapshot of a cluster (fresh copies, free to edit)."""
    return copy.deepcopy(_demo_items(cluster))


@functools.cache
def _demo_items(cluster: str) -> list[dict[str, Any]]:
    text = (DEMO_DIR / "snapshots" / f"{cluster}.yaml").read_text()
    return list(yaml.load(text, Loader=yaml.CSafeLoader)["items"])


@dataclasses.dataclass
class Rig:
    """Two fake clusters and how the kubeconfig reaches them (a URL or token may be broken)."""

    fakes: dict[str, FakeApiServer]
    urls: dict[str, str]
    tokens: dict[str, str]
    extra_user: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig with one context per cluster, named like the cluster (as in fleet.yaml)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": n, "cluster": {"server": self.urls[n]}} for n in CLUSTERS],
            "users": [
                {
                    "name": f"{n}-reader",
                    "user": {"token": self.tokens[n], **self.extra_user.get(n, {})},
                }
                for n in CLUSTERS
            ],
            "contexts": [
                {"name": n, "context": {"cluster": n, "user": f"{n}-reader"}} for n in CLUSTERS
            ],
            "current-context": CLUSTERS[0],
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path


def serve_demo(servers: list[HTTPServer]) -> Rig:
    """Clear the servers and serve the demo snapshots on them, one cluster each."""
    fakes = {}
    for name, server in zip(CLUSTERS, servers, strict=True):
        server.clear()
        fakes[name] = FakeApiServer(server, token=KUBE_TOKENS[name]).add(*demo_items(name))
    return Rig(
        fakes=fakes,
        urls={name: fake.url for name, fake in fakes.items()},
        tokens=dict(KUBE_TOKENS),
    )


def running_servers() -> Iterator[list[HTTPServer]]:
    """Two threaded HTTP servers on 127.0.0.1, stopped when the generator is closed."""
    started = list(start_servers(len(CLUSTERS)))
    try:
        yield started
    finally:
        for server in started:
            server.clear()
            server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- faults -----------------------------------------------------------------------------------

Breaker = Callable[[Rig, str], None]
ALWAYS = 1_000  # a fault that outlasts every retry


def connection_refused(rig: Rig, name: str) -> None:
    rig.urls[name] = f"http://127.0.0.1:{closed_port()}"


def tls_failure(rig: Rig, name: str) -> None:
    # The fake speaks plain HTTP: a TLS handshake with it fails.
    rig.urls[name] = rig.urls[name].replace("http://", "https://")


def unauthorized(rig: Rig, name: str) -> None:
    rig.fakes[name].token = "rotated-" + rig.tokens[name]


def status(plural: str, code: int) -> Breaker:
    def apply(rig: Rig, name: str) -> None:
        rig.fakes[name].fail(plural, status=code, times=ALWAYS)

    return apply


def no_ray_crds(rig: Rig, name: str) -> None:
    rig.fakes[name].ray_installed = False


def stall_mid_list(rig: Rig, name: str) -> None:
    """Every next page of pods (a request with a continue token) answers too late."""
    rig.fakes[name].faults.setdefault("pods", []).append(
        Fault(times=ALWAYS, delay=0.8, on_continue=True)
    )


def malformed_json(rig: Rig, name: str) -> None:
    rig.fakes[name].answer("pods", b'{"kind":"PodList","items":[{"metadata":', times=ALWAYS)


def gone_on_continue(rig: Rig, name: str) -> None:
    rig.fakes[name].expire_continue("pods", times=ALWAYS)


def gone_once(rig: Rig, name: str) -> None:
    rig.fakes[name].expire_continue("pods", times=1)


def unavailable_once(rig: Rig, name: str) -> None:
    rig.fakes[name].fail("nodes", status=503, times=1)


def empty_node_list(rig: Rig, name: str) -> None:
    rig.fakes[name].objects["nodes"] = []


def nodes_without_allocatable(rig: Rig, name: str) -> None:
    for node in rig.fakes[name].objects["nodes"]:
        node["status"].pop("allocatable", None)
        node["status"].pop("capacity", None)


def pods_on_unknown_nodes(rig: Rig, name: str) -> None:
    for pod in rig.fakes[name].objects["pods"]:
        if pod["spec"].get("nodeName"):
            pod["spec"]["nodeName"] = "ghost-" + pod["spec"]["nodeName"]
