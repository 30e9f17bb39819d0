"""RayCluster, RayService and RayJob: the pods KubeRay creates, with what it injects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.workloads.demand import WorkloadDemand, WorkloadError
from reconciler.workloads.registry import demand_of

from .builders import (
    GI,
    MI,
    claim_volume,
    cluster_spec,
    container,
    pod_spec,
    ray_cluster,
    ray_job,
    ray_service,
    worker_group,
)

SAMPLE = Path(__file__).parents[3] / "shared/data/kuberay/ray-service.sample.yaml"


def demand(manifest: dict[str, Any]) -> WorkloadDemand:
    found = demand_of(manifest, default_namespace="team")
    assert found is not None
    return found


def names(found: WorkloadDemand) -> list[str]:
    return [shape.name for shape in found.shapes]


def test_ray_cluster_is_head_then_worker_groups_in_spec_order() -> None:
    spec = cluster_spec(
        worker_group("cpu", replicas=2, cpu="1"),
        worker_group("gpu", replicas=1, cpu="1"),
    )
    assert names(demand(ray_cluster("rc", namespace="ml", spec=spec))) == [
        "ml/rc head",
        "ml/rc cpu worker 1",
        "ml/rc cpu worker 2",
        "ml/rc gpu worker 1",
    ]


def test_ray_service_needs_one_copy_not_two() -> None:
    # The seed's numbers: head 2 CPU / 2Gi, one 500m / 2Gi worker (replicas 1, min 1, max 5).
    spec = cluster_spec(
        worker_group(
            "small-group", replicas=1, min_replicas=1, max_replicas=5, cpu="500m", memory="2Gi"
        ),
        head_cpu="2",
        head_memory="2Gi",
    )
    found = demand(ray_service("rayservice-sample", cluster=spec))
    assert [dict(shape.requests) for shape in found.shapes] == [
        {"cpu": 2000, "memory": 2 * GI},
        {"cpu": 500, "memory": 2 * GI},
    ]
    assert sum(shape.requests["cpu"] for shape in found.shapes) == 2500


@pytest.mark.skipif(not SAMPLE.exists(), reason="../shared (KubeRay reference data) is absent")
def test_kuberay_sample_ray_service_is_a_head_and_one_worker() -> None:
    manifest = yaml.safe_load(SAMPLE.read_text())
    found = demand_of(manifest, default_namespace="prediction")
    assert found is not None
    assert (found.kind, found.namespace, found.name) == (
        "RayService",
        "prediction",
        "rayservice-sample",
    )
    assert [(shape.name, dict(shape.requests)) for shape in found.shapes] == [
        ("prediction/rayservice-sample head", {"cpu": 2000, "memory": 2 * GI}),
        ("prediction/rayservice-sample small-group worker 1", {"cpu": 500, "memory": 2 * GI}),
    ]


@pytest.mark.parametrize(
    ("counts", "workers"),
    [
        pytest.param({}, 0, id="nothing set: replicas default to minReplicas 0"),
        pytest.param({"min_replicas": 2, "max_replicas": 5}, 2, id="unset replicas = minReplicas"),
        pytest.param({"replicas": 1, "min_replicas": 2, "max_replicas": 5}, 2, id="below min"),
        pytest.param({"replicas": 9, "min_replicas": 1, "max_replicas": 5}, 5, id="above max"),
        pytest.param({"replicas": 3, "min_replicas": 1, "max_replicas": 5}, 3, id="within"),
        pytest.param({"replicas": 3}, 3, id="no bounds"),
        pytest.param({"replicas": 0, "min_replicas": 0}, 0, id="zero"),
    ],
)
def test_worker_replicas_are_clamped_to_min_and_max(counts: dict[str, Any], workers: int) -> None:
    found = demand(ray_cluster(spec=cluster_spec(worker_group("g", **counts))))
    assert len(found.shapes) == 1 + workers


@pytest.mark.parametrize(("replicas", "hosts", "pods"), [(2, None, 2), (2, 4, 8), (0, 4, 0)])
def test_multi_host_groups_have_workers_times_hosts_pods(
    replicas: int, hosts: int | None, pods: int
) -> None:
    group = worker_group("tpu", replicas=replicas, num_of_hosts=hosts, cpu="1")
    found = demand(ray_cluster(spec=cluster_spec(group)))
    assert names(found)[1:] == [f"team/raycluster tpu worker {i}" for i in range(1, pods + 1)]


def test_suspended_worker_group_has_no_pods() -> None:
    spec = cluster_spec(
        worker_group("a", replicas=1),
        worker_group("b", replicas=3, suspend=True),
        worker_group("c", replicas=1),
    )
    assert names(demand(ray_cluster("rc", spec=spec))) == [
        "team/rc head",
        "team/rc a worker 1",
        "team/rc c worker 1",
    ]


def test_suspended_ray_cluster_has_no_pods() -> None:
    spec = {**cluster_spec(worker_group("a", replicas=2)), "suspend": True}
    assert demand(ray_cluster(spec=spec)).shapes == ()


@pytest.mark.parametrize(
    ("options", "head"),
    [
        pytest.param({}, {"cpu": 1000, "memory": 2 * GI}, id="no autoscaling"),
        pytest.param({"autoscaling": False}, {"cpu": 1000, "memory": 2 * GI}, id="off"),
        pytest.param(
            {"autoscaling": True},
            {"cpu": 1500, "memory": 2 * GI + 512 * MI},
            id="default sidecar 500m 512Mi",
        ),
        pytest.param(
            {
                "autoscaling": True,
                "autoscaler_resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
            },
            {"cpu": 2000, "memory": 3 * GI},
            id="custom requests",
        ),
        pytest.param(
            {
                "autoscaling": True,
                "autoscaler_resources": {"limits": {"cpu": "250m", "memory": "256Mi"}},
            },
            {"cpu": 1250, "memory": 2 * GI + 256 * MI},
            id="custom limits stand in for requests",
        ),
    ],
)
def test_autoscaler_sidecar_is_added_to_the_head(
    options: dict[str, Any], head: dict[str, int]
) -> None:
    found = demand(ray_cluster(spec=cluster_spec(head_cpu="1", head_memory="2Gi", **options)))
    assert dict(found.shapes[0].requests) == head


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        pytest.param(
            {"cpu": "1", "memory": "2Gi"},
            {"cpu": 1000, "memory": 2 * GI},
            id="worker bigger than wait-gcs-ready",
        ),
        pytest.param(
            {"cpu": "100m", "memory": None},
            {"cpu": 200, "memory": 256 * MI},
            id="wait-gcs-ready 200m 256Mi sets the peak",
        ),
        pytest.param(
            {"cpu": "4", "memory": "16Gi", "gpu": 1},
            {"cpu": 4000, "memory": 16 * GI, "nvidia.com/gpu": 1000},
            id="gpu worker",
        ),
    ],
)
def test_workers_carry_the_wait_gcs_ready_init_container(
    worker: dict[str, Any], expected: dict[str, int]
) -> None:
    spec = pod_spec(containers=[container("ray-worker", **worker)])
    found = demand(
        ray_cluster(spec=cluster_spec(worker_group("g", replicas=1, template_spec=spec)))
    )
    assert dict(found.shapes[1].requests) == expected


def test_ray_pods_mounting_claims_are_stateful() -> None:
    spec = cluster_spec(worker_group("g", replicas=0, volumes=[claim_volume()]))
    assert demand(ray_cluster(spec=spec)).stateful
    assert not demand(ray_cluster()).stateful


def test_ray_service_counts_its_workers_and_injections() -> None:
    spec = cluster_spec(
        worker_group("gpu", replicas=2, num_of_hosts=2, cpu="8", memory="32Gi", gpu=1),
        autoscaling=True,
    )
    found = demand(ray_service("llm", namespace="serve", cluster=spec))
    assert names(found) == ["serve/llm head"] + [f"serve/llm gpu worker {i}" for i in (1, 2, 3, 4)]
    assert sum(shape.requests.get("nvidia.com/gpu", 0) for shape in found.shapes) == 4000


def test_ray_job_default_submitter_comes_after_its_cluster() -> None:
    found = demand(ray_job("train", cluster=cluster_spec(worker_group("g", replicas=1))))
    assert names(found) == ["team/train head", "team/train g worker 1", "team/train submitter"]
    assert dict(found.shapes[-1].requests) == {"cpu": 500, "memory": 200 * MI}


def test_ray_job_submitter_pod_template_replaces_the_default() -> None:
    submitter = pod_spec(containers=[container("submit", cpu="50m", memory="64Mi")])
    found = demand(ray_job(submitter_spec=submitter))
    assert dict(found.shapes[-1].requests) == {"cpu": 50, "memory": 64 * MI}


@pytest.mark.parametrize(
    ("options", "shapes"),
    [
        pytest.param({"submission_mode": "K8sJobMode"}, ["head", "submitter"], id="K8sJobMode"),
        pytest.param({"submission_mode": "HTTPMode"}, ["head"], id="HTTPMode"),
        pytest.param({"submission_mode": "InteractiveMode"}, ["head"], id="InteractiveMode"),
        pytest.param({"submission_mode": "SidecarMode"}, ["head"], id="SidecarMode"),
        pytest.param({"cluster_selector": {"ray.io/cluster": "shared"}}, [], id="existing cluster"),
        pytest.param({"suspend": True}, [], id="suspended"),
    ],
)
def test_ray_job_pods_depend_on_how_it_runs(options: dict[str, Any], shapes: list[str]) -> None:
    assert names(demand(ray_job("j", **options))) == [f"team/j {shape}" for shape in shapes]


def test_ray_job_in_sidecar_mode_puts_the_submitter_in_the_head() -> None:
    cluster = cluster_spec(head_cpu="1", head_memory="1Gi")
    found = demand(ray_job(cluster=cluster, submission_mode="SidecarMode"))
    assert dict(found.shapes[0].requests) == {"cpu": 1500, "memory": GI + 200 * MI}


@pytest.mark.parametrize(
    ("manifest", "field"),
    [
        pytest.param(
            ray_service(cluster=cluster_spec(worker_group("g", replicas=1, cpu="abc"))),
            "spec.rayClusterConfig.workerGroupSpecs[0].template.spec.containers[0]"
            ".resources.requests.cpu",
            id="garbage worker cpu",
        ),
        pytest.param(
            ray_service(cluster=cluster_spec(head_memory="-2Gi")),
            "spec.rayClusterConfig.headGroupSpec.template.spec.containers[0]"
            ".resources.requests.memory",
            id="negative head memory",
        ),
        pytest.param(
            ray_cluster(
                spec=cluster_spec(autoscaling=True, autoscaler_resources={"requests": {"cpu": "?"}})
            ),
            "spec.autoscalerOptions.resources.requests.cpu",
            id="garbage autoscaler cpu",
        ),
        pytest.param(
            ray_cluster(spec=cluster_spec(worker_group("g", replicas="three"))),
            "spec.workerGroupSpecs[0].replicas",
            id="replicas a string",
        ),
        pytest.param(
            ray_cluster(spec=cluster_spec(worker_group("g", min_replicas=5, max_replicas=2))),
            "spec.workerGroupSpecs[0].minReplicas",
            id="min above max",
        ),
        pytest.param(
            ray_cluster(spec=cluster_spec({"replicas": 1, "template": {"spec": pod_spec()}})),
            "spec.workerGroupSpecs[0].groupName",
            id="no groupName",
        ),
        pytest.param(
            ray_cluster(spec=cluster_spec(autoscaling="yes")),
            "spec.enableInTreeAutoscaling",
            id="autoscaling not a bool",
        ),
        pytest.param(
            ray_cluster(spec={"workerGroupSpecs": []}), "spec.headGroupSpec", id="no head"
        ),
        pytest.param(
            {**ray_service(), "spec": {"serveConfigV2": ""}},
            "spec.rayClusterConfig",
            id="RayService without rayClusterConfig",
        ),
        pytest.param(
            ray_job(submission_mode="Carrier pigeon"), "spec.submissionMode", id="unknown mode"
        ),
        pytest.param(
            ray_job(submitter_spec=pod_spec(cpu="1.2.3")),
            "spec.submitterPodTemplate.spec.containers[0].resources.requests.cpu",
            id="garbage submitter cpu",
        ),
    ],
)
def test_bad_ray_manifest_names_the_field(manifest: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        demand(manifest)
    assert caught.value.field == field


def test_ray_pods_carry_kuberays_labels_merged_with_the_templates() -> None:
    # labelPod (ray-operator/controllers/ray/common/pod.go): the template's labels are kept,
    # but not over ray.io/cluster, ray.io/node-type or ray.io/group.
    group = worker_group("gpu", replicas=1)
    group["template"]["metadata"] = {"labels": {"app": "ray", "ray.io/group": "mine"}}
    found = demand(ray_cluster("rc", namespace="ml", spec=cluster_spec(group)))
    head, worker = found.shapes
    assert head.labels["ray.io/node-type"] == "head"
    assert head.labels["ray.io/group"] == "headgroup"
    assert worker.labels == {
        "ray.io/is-ray-node": "yes",
        "ray.io/cluster": "rc",
        "ray.io/node-type": "worker",
        "ray.io/group": "gpu",
        "ray.io/identifier": "rc-worker",
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
        "app": "ray",
    }
    assert worker.namespace == "ml"


def test_a_ray_services_cluster_name_is_not_known_before_it_exists() -> None:
    # KubeRay names it "<rayservice>-" and five random characters.
    found = demand(ray_service("svc", cluster=cluster_spec(worker_group("w", replicas=1))))
    assert found.shapes[0].labels["ray.io/cluster"].startswith("svc-")
    assert found.shapes[0].labels["ray.io/cluster"] != "svc"
