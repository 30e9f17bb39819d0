"""Stuck detection: short of capacity past the grace period, and stalled Ray upgrades."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.plan.stuck import judge, unschedulable
from reconciler.status.model import KubeObject, Pod

from .builders import CAPACITY_MESSAGE, NOW, minutes_ago, pod, ray_service_object

GRACE = dt.timedelta(minutes=5)
TOO_MANY_PODS = "0/3 nodes are available: 3 Too many pods."
GPU_SHORT = "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."
MIXED = (
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}, "
    "2 Insufficient memory."
)
VOLUME_AFFINITY = "0/3 nodes are available: 3 node(s) had volume node affinity conflict."
TAINTS = "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: ml}."
UNBOUND_PVC = (
    "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
    "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
)


def judged(*pods: Pod, ray_services: tuple[KubeObject, ...] = ()) -> str:
    return judge(pods, ray_services=ray_services, now=NOW, grace=GRACE).state


def test_unschedulable_past_the_grace_period_is_stuck() -> None:
    health = judge(
        [pod("web-1", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(6))],
        ray_services=(),
        now=NOW,
        grace=GRACE,
    )
    assert health.state == "stuck"
    assert health.movable
    (stuck,) = health.stuck_pods
    assert (stuck.namespace, stuck.name) == ("default", "web-1")
    assert stuck.message == CAPACITY_MESSAGE
    assert stuck.capacity and stuck.past_grace
    assert stuck.pending_for(NOW) == dt.timedelta(minutes=6)


def test_exactly_the_grace_period_is_past_it() -> None:
    assert judged(pod("p", unschedulable=CAPACITY_MESSAGE, since=NOW - GRACE)) == "stuck"


def test_within_the_grace_period_the_group_waits() -> None:
    health = judge(
        [pod("p", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(4))],
        ray_services=(),
        now=NOW,
        grace=GRACE,
    )
    assert health.state == "waiting"
    assert not health.movable
    assert health.stuck_pods[0].past_grace is False


def test_grace_is_counted_from_the_condition_not_the_pod() -> None:
    # The pod is an hour old (builders.pod), but unschedulable only for two minutes.
    assert judged(pod("p", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(2))) == "waiting"


def test_without_a_transition_time_the_creation_time_counts() -> None:
    fresh = pod("p", unschedulable=CAPACITY_MESSAGE)
    condition = fresh.condition("PodScheduled")
    assert condition is not None
    bare = Pod(
        namespace=fresh.namespace,
        name=fresh.name,
        shape=fresh.shape,
        conditions=(
            type(condition)(
                type="PodScheduled",
                status="False",
                reason="Unschedulable",
                message=CAPACITY_MESSAGE,
            ),
        ),
        created=minutes_ago(60),
    )
    found = unschedulable(bare, now=NOW, grace=GRACE)
    assert found is not None and found.since == minutes_ago(60) and found.past_grace


def test_running_and_bound_pods_are_not_stuck() -> None:
    assert judged(pod("up", node="n1")) == "running"
    # Pending but bound (PodScheduled=True): containers starting, images pulling.
    bound = pod("starting", node="n1", scheduled=True)
    assert bound.phase == "Pending"
    assert unschedulable(bound, now=NOW, grace=GRACE) is None
    assert judged(bound) == "running"
    assert judged() == "running"


def test_pending_without_an_unschedulable_condition_is_not_stuck() -> None:
    assert judged(pod("new")) == "running"  # no condition yet
    gated = pod("gated", unschedulable="waiting for gates", reason="SchedulingGated")
    assert unschedulable(gated, now=NOW, grace=GRACE) is None
    assert judged(gated) == "running"


@pytest.mark.parametrize(
    "message", [CAPACITY_MESSAGE, TOO_MANY_PODS, GPU_SHORT, MIXED], ids=str.split
)
def test_capacity_shortages_count(message: str) -> None:
    found = unschedulable(pod("p", unschedulable=message), now=NOW, grace=GRACE)
    assert found is not None and found.capacity
    assert judged(pod("p", unschedulable=message)) == "stuck"


@pytest.mark.parametrize(
    "message", [VOLUME_AFFINITY, TAINTS, UNBOUND_PVC, ""], ids=["volume", "taints", "pvc", "none"]
)
def test_other_reasons_are_reported_not_moved(message: str) -> None:
    health = judge(
        [pod("p", unschedulable=message, since=minutes_ago(60))],
        ray_services=(),
        now=NOW,
        grace=GRACE,
    )
    assert health.state == "pending-other"
    assert not health.movable
    assert health.stuck_pods[0].capacity is False


def test_one_capacity_pod_past_grace_makes_the_group_stuck() -> None:
    state = judged(
        pod("a", unschedulable=VOLUME_AFFINITY, since=minutes_ago(60)),
        pod("b", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(1)),
        pod("c", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(9)),
        pod("d", node="n1"),
    )
    assert state == "stuck"


def test_capacity_within_grace_beside_other_reasons_waits() -> None:
    state = judged(
        pod("a", unschedulable=VOLUME_AFFINITY, since=minutes_ago(60)),
        pod("b", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(1)),
    )
    assert state == "waiting"


def test_stuck_pods_are_listed_in_name_order() -> None:
    health = judge(
        [
            pod("b", unschedulable=CAPACITY_MESSAGE),
            pod("a", unschedulable=CAPACITY_MESSAGE),
            pod("c", namespace="aaa", unschedulable=CAPACITY_MESSAGE),
        ],
        ray_services=(),
        now=NOW,
        grace=GRACE,
    )
    assert [(s.namespace, s.name) for s in health.stuck_pods] == [
        ("aaa", "c"),
        ("default", "a"),
        ("default", "b"),
    ]


# ---- stalled RayService upgrades -------------------------------------------------------


def ray_pod(name: str, cluster: str, *, pending: bool) -> Pod:
    labels = {"ray.io/cluster": cluster, "ray.io/node-type": "worker"}
    if pending:
        return pod(name, unschedulable=CAPACITY_MESSAGE, since=minutes_ago(7), labels=labels)
    return pod(name, node="n1", labels=labels)


def test_upgrade_stalled_when_the_pending_cluster_cannot_schedule() -> None:
    service = ray_service_object("ray-pred", active="ray-pred-aaaaa", pending="ray-pred-bbbbb")
    health = judge(
        [
            ray_pod("ray-pred-aaaaa-head", "ray-pred-aaaaa", pending=False),
            ray_pod("ray-pred-bbbbb-head", "ray-pred-bbbbb", pending=True),
            ray_pod("ray-pred-bbbbb-worker", "ray-pred-bbbbb", pending=True),
        ],
        ray_services=(service,),
        now=NOW,
        grace=GRACE,
    )
    assert health.state == "upgrade-stalled"
    assert health.movable
    assert health.ray_service == "default/ray-pred"
    assert {s.ray_cluster for s in health.stuck_pods} == {"ray-pred-bbbbb"}


def test_no_upgrade_in_progress_is_plain_stuck() -> None:
    service = ray_service_object(
        "ray-pred", upgrade_in_progress=False, active="ray-pred-aaaaa", pending="ray-pred-bbbbb"
    )
    health = judge(
        [ray_pod("ray-pred-bbbbb-head", "ray-pred-bbbbb", pending=True)],
        ray_services=(service,),
        now=NOW,
        grace=GRACE,
    )
    assert health.state == "stuck"
    assert health.ray_service == ""


@pytest.mark.parametrize(
    "service",
    [
        ray_service_object("ray-pred", upgrade_in_progress=None, pending="ray-pred-bbbbb"),
        ray_service_object("ray-pred", upgrade_in_progress=True, pending=""),
        ray_service_object("ray-pred", upgrade_in_progress=True, pending="ray-pred-ccccc"),
        ray_service_object(
            "ray-pred", namespace="other", upgrade_in_progress=True, pending="ray-pred-bbbbb"
        ),
    ],
    ids=["no-condition", "no-pending-cluster", "other-pending-cluster", "other-namespace"],
)
def test_upgrade_stalled_needs_every_part_of_the_signature(service: KubeObject) -> None:
    state = judged(
        ray_pod("ray-pred-bbbbb-head", "ray-pred-bbbbb", pending=True), ray_services=(service,)
    )
    assert state == "stuck"


def test_stalled_upgrade_within_grace_still_waits() -> None:
    service = ray_service_object("ray-pred", pending="ray-pred-bbbbb")
    young = pod(
        "ray-pred-bbbbb-head",
        unschedulable=CAPACITY_MESSAGE,
        since=minutes_ago(1),
        labels={"ray.io/cluster": "ray-pred-bbbbb"},
    )
    assert judged(young, ray_services=(service,)) == "waiting"
