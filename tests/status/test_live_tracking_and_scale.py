"""The live reader and snapshots carry what membership and HPA-owned demand read.

Argo CD's tracking id (an annotation, read alone of all annotations), the labels Flux and
Argo CD write, a Deployment's spec.replicas and a HorizontalPodAutoscaler's target and
minReplicas: read through the real kubernetes client from a fake API server, and from
snapshot files in both formats.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from reconciler.status.live import read_live
from reconciler.status.model import ClusterState
from reconciler.status.snapshot import read_snapshot

from .conftest import cluster
from .fake_apiserver import FakeFleet, autoscaler, node, owner, pod, workload

READ_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
TRACKING = "onprem-web:apps/Deployment:team/web"
FLUX = {
    "kustomize.toolkit.fluxcd.io/name": "group-web",
    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
}


def objects() -> list[dict[str, object]]:
    """A Deployment an HPA scales, applied by Argo CD and Flux, with one replica's pod."""
    last_applied = json.dumps({"kind": "Deployment", "spec": {"template": {}}})
    return [
        node("east-1"),
        workload(
            "Deployment",
            "web",
            replicas=4,
            annotations={
                "argocd.argoproj.io/tracking-id": TRACKING,
                "kubectl.kubernetes.io/last-applied-configuration": last_applied,
            },
            labels=FLUX,
        ),
        workload("Deployment", "api"),
        workload("DaemonSet", "agent", labels=FLUX),
        workload("ReplicaSet", "web-5d9", owned_by=owner("Deployment", "web")),
        pod("web-5d9-a", node_name="east-1", owned_by=owner("ReplicaSet", "web-5d9")),
        autoscaler("web", target="web", min_replicas=3),
        autoscaler("api", target="api"),
    ]


def check(state: ClusterState) -> None:
    assert state.known, state.reason
    by_name = {(o.kind, o.name): o for o in state.objects}
    web, api = by_name[("Deployment", "web")], by_name[("Deployment", "api")]
    assert (web.replicas, web.tracking_id) == (4, TRACKING)
    assert web.labels["kustomize.toolkit.fluxcd.io/name"] == "group-web"
    assert (api.replicas, api.tracking_id) == (None, "")
    hpa = by_name[("HorizontalPodAutoscaler", "web")]
    assert (hpa.scale_target, hpa.min_replicas, hpa.namespace) == ("Deployment/web", 3, "team")
    # minReplicas left out: the HPA's default (1) is the reader's business, not the wire's.
    assert by_name[("HorizontalPodAutoscaler", "api")].min_replicas is None
    assert by_name[("ReplicaSet", "web-5d9")].replicas is None
    assert state.pods[0].tracking_id == ""
    agent = by_name[("DaemonSet", "agent")]
    assert agent.labels["kustomize.toolkit.fluxcd.io/name"] == "group-web"


def test_the_live_reader_reads_autoscalers_replicas_and_tracking(fleet: FakeFleet) -> None:
    fleet["east"].add(*objects())

    states = read_live([cluster("east")], kubeconfig=str(fleet.kubeconfig), now=lambda: READ_AT)

    check(states["east"])
    assert fleet["east"].requested("horizontalpodautoscalers") == [{"limit": "500"}]


def test_a_cluster_without_autoscaling_v2_is_still_read(fleet: FakeFleet) -> None:
    fleet["east"].add(*objects())
    fleet["east"].unserved.add("horizontalpodautoscalers")

    states = read_live([cluster("east")], kubeconfig=str(fleet.kubeconfig), now=lambda: READ_AT)

    east = states["east"]
    assert east.known, east.reason
    assert not [o for o in east.objects if o.kind == "HorizontalPodAutoscaler"]
    assert next(o for o in east.objects if o.name == "web" and o.kind == "Deployment").replicas == 4


def test_snapshots_in_both_formats_carry_the_same(tmp_path: Path) -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": objects()}
    yaml_dir, json_dir = tmp_path / "y", tmp_path / "j"
    yaml_dir.mkdir()
    json_dir.mkdir()
    (yaml_dir / "east.yaml").write_text(yaml.safe_dump(document))
    (json_dir / "east.json").write_text(json.dumps(document))

    for directory in (yaml_dir, json_dir):
        check(read_snapshot(directory, cluster="east"))
