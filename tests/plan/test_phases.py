"""Make-before-break phase two: when the copy on the target counts as healthy."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from reconciler.plan.phases import RayClusterStatus, ray_worker_shapes, target_health
from reconciler.status.model import Condition, Pod

from .builders import minutes_ago, owner, pod, shape

READY = Condition(type="Ready", status="True")
NOT_READY = Condition(type="Ready", status="False")


def replica(
    name: str,
    *,
    phase: str = "Running",
    ready: bool = True,
    created: dt.datetime | None = None,
    owned_by: str = "web-5d8f7",
    kind: str = "ReplicaSet",
    labels: dict[str, str] | None = None,
) -> Pod:
    """A pod of the copy, owned by `owned_by`, in that phase."""
    built = pod(name, node="c1", owners=[owner(kind, owned_by)], labels=labels)
    conditions = (READY if ready else NOT_READY,) if phase == "Running" else ()
    return dataclasses.replace(
        built, phase=phase, conditions=conditions, created=created or minutes_ago(10)
    )


def ray_pod(name: str, *, group: str, created: dt.datetime | None = None, **kw: object) -> Pod:
    labels = {"ray.io/cluster": "ray-pred-c10ud", "ray.io/group": group}
    return replica(
        name,
        owned_by="ray-pred-c10ud",
        kind="RayCluster",
        labels=labels,
        created=created,
        **kw,  # type: ignore[arg-type]
    )


CASES = [
    pytest.param(
        [
            replica("web-a"),
            replica("web-b"),
            replica("web-old", phase="Failed", created=minutes_ago(30)),
        ],
        {"expected": 2},
        True,
        "1 failed pod(s) replaced by newer ones",
        id="evicted-pod-replaced-does-not-block",
    ),
    pytest.param(
        [replica("web-a"), replica("migrate-x", phase="Succeeded", owned_by="migrate", kind="Job")],
        {"expected": 2},
        True,
        "1 finished (Succeeded) pod(s) done",
        id="succeeded-job-pod-counts-as-done",
    ),
    pytest.param(
        [ray_pod("head", group="headgroup"), ray_pod("w1", group="cpu-workers")],
        {
            "expected": 4,
            "ray_workers": 3,
            "ray_clusters": [
                RayClusterStatus(namespace="default", name="ray-pred-c10ud", desired_workers=1)
            ],
        },
        True,
        "the Ray autoscaler asks for 1 worker(s), the manifests 3",
        id="autoscaled-down-worker-group-counts-what-the-autoscaler-asks",
    ),
    pytest.param(
        [replica("web-a"), replica("web-b", ready=False)],
        {"expected": 2},
        False,
        "not ready: web-b (Running, not Ready)",
        id="a-not-ready-pod-blocks",
    ),
    pytest.param(
        [replica("web-a"), replica("web-b", phase="Failed")],
        {"expected": 2},
        False,
        "not ready: web-b (Failed)",
        id="a-failed-pod-not-replaced-blocks",
    ),
    pytest.param(
        [
            ray_pod("w-new", group="cpu-workers"),
            ray_pod("head-old", group="headgroup", phase="Failed", created=minutes_ago(30)),
        ],
        {"expected": 2, "ray_workers": 1},
        False,
        "not ready: head-old (Failed)",
        id="a-new-worker-does-not-replace-a-failed-head",
    ),
    pytest.param(
        [ray_pod("head", group="headgroup"), ray_pod("w1", group="cpu-workers")],
        {"expected": 4, "ray_workers": 3},
        False,
        "2/4 pods ready",
        id="without-the-autoscalers-report-the-manifests-count-stands",
    ),
]


@pytest.mark.parametrize(("pods", "args", "healthy", "words"), CASES)
def test_the_copy_is_healthy_when_every_pod_that_should_run_is_ready(
    pods: list[Pod], args: dict[str, object], healthy: bool, words: str
) -> None:
    health = target_health(pods, ray_services=(), **args)  # type: ignore[arg-type]
    assert health.healthy is healthy, health.detail
    assert words in health.detail


def test_two_ready_and_one_evicted_reads_two_of_two_and_finishes() -> None:
    pods = [
        replica("web-a"),
        replica("web-b"),
        replica("web-evicted", phase="Failed", created=minutes_ago(30)),
    ]
    health = target_health(pods, expected=2, ray_services=())
    assert health.healthy and health.detail.startswith("2/2 pods ready")


def test_ray_worker_shapes_are_counted_by_their_name() -> None:
    shapes = [
        shape("ns/ray-pred head", "1", "1Gi"),
        shape("ns/ray-pred cpu-workers worker 1", "1", "1Gi"),
        shape("ns/ray-pred cpu-workers worker 2", "1", "1Gi"),
        shape("ns/web replica 1", "1", "1Gi"),
    ]
    assert ray_worker_shapes(shapes) == 2
