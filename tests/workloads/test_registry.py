"""demand_of dispatch: which manifests create pods at all, and where they live."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of

from .builders import claim, cron_job, deployment, job, pod, ray_cluster, ray_service, service


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param(service(), id="Service"),
        pytest.param(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, id="ConfigMap"
        ),
        pytest.param(cron_job(), id="CronJob"),
        pytest.param({**deployment(), "kind": "Rollout"}, id="unknown kind"),
        pytest.param({"metadata": {"name": "x"}}, id="no kind"),
        pytest.param({**deployment(), "apiVersion": None}, id="no apiVersion"),
    ],
)
def test_kinds_that_create_no_pods_have_no_demand(manifest: dict[str, Any]) -> None:
    assert demand_of(manifest, default_namespace="team") is None


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param(deployment(api_version="extensions/v1beta1"), id="Deployment extensions"),
        pytest.param({**job(), "apiVersion": "kueue.x-k8s.io/v1"}, id="Job of another group"),
        pytest.param({**pod(), "apiVersion": "example.com/v1"}, id="Pod of a CRD"),
        pytest.param(ray_service(api_version="ray.io/v2"), id="RayService ray.io/v2"),
        pytest.param({**ray_cluster(), "apiVersion": "other.io/v1"}, id="RayCluster other group"),
    ],
)
def test_known_kind_under_another_api_group_is_not_ours(manifest: dict[str, Any]) -> None:
    assert demand_of(manifest, default_namespace="team") is None


@pytest.mark.parametrize(
    ("manifest", "kind"),
    [
        (pod(), "Pod"),
        (claim(), "PersistentVolumeClaim"),
        (deployment(), "Deployment"),
        (deployment(kind="ReplicaSet"), "ReplicaSet"),
        (deployment(kind="StatefulSet"), "StatefulSet"),
        (job(), "Job"),
        (ray_cluster(), "RayCluster"),
        (ray_cluster(api_version="ray.io/v1alpha1"), "RayCluster"),
        (ray_service(), "RayService"),
        (ray_service(api_version="ray.io/v1alpha1"), "RayService"),
    ],
)
def test_every_workload_kind_is_recognised(manifest: dict[str, Any], kind: str) -> None:
    demand = demand_of(manifest, default_namespace="team")
    assert demand is not None
    assert demand.kind == kind


def test_namespace_comes_from_metadata_or_the_default() -> None:
    placed = demand_of(deployment("web", namespace="shop"), default_namespace="team")
    defaulted = demand_of(deployment("web"), default_namespace="team")
    assert placed is not None and defaulted is not None
    assert (placed.namespace, placed.name) == ("shop", "web")
    assert (defaulted.namespace, defaulted.shapes[0].name) == ("team", "team/web replica 1")


@pytest.mark.parametrize(
    ("manifest", "field"),
    [
        pytest.param({**deployment(), "metadata": {}}, "metadata.name", id="no name"),
        pytest.param({**deployment(), "metadata": ["web"]}, "metadata", id="metadata a list"),
        pytest.param({**deployment(), "spec": "big"}, "spec", id="spec a string"),
        pytest.param(
            {**pod(), "metadata": {"name": "p", "namespace": 7}},
            "metadata.namespace",
            id="namespace not a string",
        ),
    ],
)
def test_malformed_manifest_names_the_field(manifest: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        demand_of(manifest, default_namespace="team")
    assert caught.value.field == field


def test_a_manifest_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(WorkloadError):
        demand_of(["not", "a", "manifest"], default_namespace="team")  # type: ignore[arg-type]
