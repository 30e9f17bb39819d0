"""Deployment, ReplicaSet and StatefulSet: one shape per replica, in creation order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.workloads.demand import WorkloadDemand, WorkloadError
from reconciler.workloads.registry import demand_of

from .builders import GI, claim_volume, deployment, stateful_set


def demand(manifest: dict[str, Any]) -> WorkloadDemand:
    found = demand_of(manifest, default_namespace="team")
    assert found is not None
    return found


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet"])
@pytest.mark.parametrize(("replicas", "pods"), [(None, 1), (0, 0), (1, 1), (3, 3)])
def test_replicas_become_shapes(kind: str, replicas: int | None, pods: int) -> None:
    found = demand(deployment("web", kind=kind, replicas=replicas, cpu="500m", memory="1Gi"))
    assert len(found.shapes) == pods
    assert all(shape.requests == {"cpu": 500, "memory": GI} for shape in found.shapes)


def test_replica_shapes_are_named_in_creation_order() -> None:
    found = demand(deployment("web", namespace="shop", replicas=3))
    assert [shape.name for shape in found.shapes] == [
        "shop/web replica 1",
        "shop/web replica 2",
        "shop/web replica 3",
    ]


@pytest.mark.parametrize(
    ("manifest", "stateful"),
    [
        pytest.param(stateful_set(claims=("data",)), True, id="volumeClaimTemplates"),
        pytest.param(stateful_set(), False, id="StatefulSet without claims"),
        pytest.param(deployment(volumes=[claim_volume()]), True, id="Deployment mounting a claim"),
        pytest.param(deployment(replicas=0, volumes=[claim_volume()]), True, id="even at zero"),
        pytest.param(deployment(), False, id="plain Deployment"),
    ],
)
def test_claims_make_a_workload_stateful(manifest: dict[str, Any], stateful: bool) -> None:
    assert demand(manifest).stateful is stateful


@pytest.mark.parametrize(
    ("manifest", "field"),
    [
        pytest.param(deployment(replicas="three"), "spec.replicas", id="replicas a string"),
        pytest.param(deployment(replicas=2.5), "spec.replicas", id="replicas a float"),
        pytest.param(deployment(replicas=True), "spec.replicas", id="replicas a bool"),
        pytest.param(deployment(replicas=-1), "spec.replicas", id="replicas negative"),
        pytest.param(
            {**deployment(), "spec": {"replicas": 1, "template": "pod"}},
            "spec.template",
            id="template not a mapping",
        ),
        pytest.param(
            {**deployment(), "spec": {"replicas": 1}}, "spec.template", id="template missing"
        ),
        pytest.param(
            deployment(replicas=0, cpu="lots"),
            "spec.template.spec.containers[0].resources.requests.cpu",
            id="garbage quantity at zero replicas",
        ),
        pytest.param(
            {**stateful_set(), "spec": {**stateful_set()["spec"], "volumeClaimTemplates": {}}},
            "spec.volumeClaimTemplates",
            id="volumeClaimTemplates not a list",
        ),
    ],
)
def test_bad_replicated_workload_names_the_field(manifest: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        demand(manifest)
    assert caught.value.field == field


@given(
    replicas=st.integers(min_value=0, max_value=60),
    milli_cpu=st.integers(min_value=1, max_value=10**6),
)
def test_deployment_of_n_replicas_needs_n_times_one_pod(replicas: int, milli_cpu: int) -> None:
    found = demand(deployment(replicas=replicas, cpu=f"{milli_cpu}m"))
    assert len(found.shapes) == replicas
    unnamed = [dataclasses.replace(shape, name="") for shape in found.shapes]
    assert all(shape == unnamed[0] for shape in unnamed)
    assert sum(shape.requests["cpu"] for shape in found.shapes) == replicas * milli_cpu
