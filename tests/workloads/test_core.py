"""Pod and PersistentVolumeClaim, and the effective-request rule as a pod's shape shows it."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.workloads.demand import WorkloadDemand, WorkloadError
from reconciler.workloads.registry import demand_of

from .builders import GI, MI, claim, claim_volume, container, cores, pod, pod_spec


def demand(manifest: dict[str, Any]) -> WorkloadDemand:
    found = demand_of(manifest, default_namespace="team")
    assert found is not None
    return found


def requests_of(**spec: Any) -> dict[str, int]:
    """The effective requests of a single pod built from pod_spec(**spec)."""
    (shape,) = demand(pod(**spec)).shapes
    return dict(shape.requests)


def test_pod_is_one_shape_named_after_it() -> None:
    found = demand(pod("solo", namespace="shop", cpu="250m", node_selector={"disk": "ssd"}))
    (shape,) = found.shapes
    assert shape.name == "shop/solo"
    assert shape.requests == {"cpu": 250}
    assert shape.node_selector == {"disk": "ssd"}
    assert not found.stateful


def test_persistent_volume_claim_has_no_pods_but_is_stateful() -> None:
    assert demand(claim("data")) == WorkloadDemand(
        kind="PersistentVolumeClaim", namespace="team", name="data", shapes=(), stateful=True
    )


def test_pod_mounting_a_claim_is_stateful() -> None:
    assert demand(pod(volumes=[claim_volume("data")])).stateful
    assert not demand(pod(volumes=[{"name": "tmp", "emptyDir": {}}])).stateful


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"cpu": "500m", "memory": "1Gi"}, {"cpu": 500, "memory": GI}, id="plain requests"
        ),
        pytest.param(
            {"containers": (container(limits={"cpu": "2", "memory": "3Gi"}),)},
            {"cpu": 2000, "memory": 3 * GI},
            id="limits stand in for missing requests",
        ),
        pytest.param(
            {"containers": (container(cpu="1", limits={"cpu": "2", "memory": "1Gi"}),)},
            {"cpu": 1000, "memory": GI},
            id="requests win over limits, limits fill the rest",
        ),
        pytest.param(
            {"containers": (container(cpu="1"), container("log", cpu="250m", memory="64Mi"))},
            {"cpu": 1250, "memory": 64 * MI},
            id="containers add up",
        ),
        pytest.param(
            {"cpu": "500m", "init": (container("migrate", cpu="2", memory="10Mi"),)},
            {"cpu": 2000, "memory": 10 * MI},
            id="init container bigger than the sum sets the peak",
        ),
        pytest.param(
            {
                "containers": (container(cpu="1"), container("b", cpu="1")),
                "init": (container("setup", cpu="1500m"),),
            },
            {"cpu": 2000},
            id="init container smaller than the sum does not add",
        ),
        pytest.param(
            {
                "cpu": "1",
                "init": (container("proxy", cpu="300m", restart_policy="Always"),),
            },
            {"cpu": 1300},
            id="restartable sidecar init container adds to the sum",
        ),
        pytest.param(
            {
                "cpu": "100m",
                "init": (
                    container("proxy", cpu="300m", restart_policy="Always"),
                    container("setup", cpu="1"),
                ),
            },
            {"cpu": 1300},
            id="sidecar keeps running beside a later init container",
        ),
        pytest.param(
            {"cpu": "1", "memory": "1Gi", "overhead": {"cpu": "250m", "memory": "120Mi"}},
            {"cpu": 1250, "memory": GI + 120 * MI},
            id="overhead is added",
        ),
        pytest.param(
            {
                "containers": (
                    container(
                        cpu="4",
                        gpu=2,
                        requests={"google.com/tpu": 4, "hugepages-2Mi": "1Gi"},
                    ),
                ),
            },
            {"cpu": 4000, "nvidia.com/gpu": 2000, "google.com/tpu": 4000, "hugepages-2Mi": GI},
            id="extended resources count",
        ),
        pytest.param(
            {"containers": (container(limits={"nvidia.com/gpu": 1}),)},
            {"nvidia.com/gpu": 1000},
            id="gpu given only as a limit",
        ),
        pytest.param({"cpu": 0.5}, {"cpu": 500}, id="a YAML float"),
    ],
)
def test_effective_requests(spec: dict[str, Any], expected: dict[str, int]) -> None:
    assert requests_of(**spec) == expected


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param(
            {"cpu": "abc"},
            "spec.containers[0].resources.requests.cpu",
            "'abc' is not a quantity",
            id="garbage request",
        ),
        pytest.param(
            {"containers": (container(), container("b", limits={"memory": "5 Gi"}))},
            "spec.containers[1].resources.limits.memory",
            "'5 Gi' is not a quantity",
            id="garbage limit in the second container",
        ),
        pytest.param(
            {"cpu": "-1"},
            "spec.containers[0].resources.requests.cpu",
            "negative",
            id="negative request",
        ),
        pytest.param(
            {"init": (container("setup", requests={"nvidia.com/gpu": "lots"}),)},
            "spec.initContainers[0].resources.requests.nvidia.com/gpu",
            "'lots' is not a quantity",
            id="garbage in an init container",
        ),
        pytest.param(
            {"overhead": {"cpu": "x"}}, "spec.overhead.cpu", "not a quantity", id="bad overhead"
        ),
        pytest.param(
            {"containers": ("main",)}, "spec.containers[0]", "mapping", id="container a string"
        ),
        pytest.param(
            {"containers": ({"name": "m", "resources": ["cpu"]},)},
            "spec.containers[0].resources",
            "mapping",
            id="resources a list",
        ),
        pytest.param(
            {"node_selector": ["ssd"]}, "spec.nodeSelector", "mapping", id="nodeSelector a list"
        ),
    ],
)
def test_bad_pod_spec_is_an_error_naming_the_field(
    spec: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(WorkloadError) as caught:
        demand(pod(**spec))
    assert caught.value.field == field
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def test_pod_spec_with_no_resources_asks_for_nothing() -> None:
    assert requests_of(containers=({"name": "main", "image": "busybox"},)) == {}


def test_cores_helper_matches_the_model() -> None:
    # Guards the builders' own arithmetic, which every table above relies on.
    assert cores(0.5) == requests_of(cpu="500m")["cpu"]
    assert pod_spec()["containers"][0]["resources"] == {"requests": {"cpu": "100m"}}
