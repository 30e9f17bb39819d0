"""strategy auto: make-before-break while the group's current copy serves, recreate otherwise."""

from __future__ import annotations

import dataclasses

from reconciler.plan.phases import RayClusterStatus
from reconciler.plan.planner import make_plan
from reconciler.plan.strategy import choose_strategy
from reconciler.status.model import Condition, KubeObject, Pod

from .builders import (
    NOW,
    cluster_state,
    deployment_pods,
    fleet,
    node,
    owner,
    pod,
    ray_service_object,
    stalled_ray_group,
    stalled_ray_onprem,
)

READY = Condition(type="Ready", status="True")
SERVICE = ray_service_object("ray-pred", active="ray-pred-aaaaa", pending="ray-pred-bbbbb")


def ready(pods: list[Pod]) -> list[Pod]:
    return [dataclasses.replace(p, conditions=(*p.conditions, READY)) for p in pods]


def ray_cluster(*conditions: tuple[str, str], state: str = "") -> RayClusterStatus:
    return RayClusterStatus(
        namespace="default",
        name="ray-pred-aaaaa",
        state=state,
        conditions=tuple(Condition(type=kind, status=status) for kind, status in conditions),
    )


def auto(
    *,
    pods: list[Pod] | None = None,
    services: list[KubeObject] | None = None,
    clusters: list[RayClusterStatus] | None = None,
) -> tuple[str, str]:
    choice = choose_strategy(
        "auto", pods=pods or [], ray_services=services or [], ray_clusters=clusters or []
    )
    return choice.strategy, choice.why


def test_an_active_ray_cluster_that_is_provisioned_with_a_ready_head_is_serving() -> None:
    serving = ray_cluster(("HeadPodReady", "True"), ("RayClusterProvisioned", "True"))
    strategy, why = auto(services=[SERVICE], clusters=[serving])
    assert strategy == "make-before-break"
    assert why == (
        "make-before-break: the active RayCluster ray-pred-aaaaa of RayService ray-pred is "
        "serving; recreate would cut it"
    )


def test_ray_cluster_state_ready_is_serving_and_another_state_is_not() -> None:
    assert auto(services=[SERVICE], clusters=[ray_cluster(state="ready")])[0] == (
        "make-before-break"
    )
    assert auto(services=[SERVICE], clusters=[ray_cluster(state="failed")])[0] == "recreate"


def test_an_active_ray_cluster_whose_head_is_not_ready_is_not_serving() -> None:
    down = ray_cluster(("HeadPodReady", "False"), ("RayClusterProvisioned", "True"))
    strategy, why = auto(services=[SERVICE], clusters=[down])
    assert strategy == "recreate"
    assert why == "recreate: nothing of the group serves on its cluster, so nothing is cut"


def test_without_ray_cluster_status_its_ready_head_pod_is_the_evidence() -> None:
    head = pod(
        "ray-pred-aaaaa-head",
        node="o1",
        labels={"ray.io/cluster": "ray-pred-aaaaa", "ray.io/node-type": "head"},
    )
    assert auto(services=[SERVICE], pods=ready([head]))[0] == "make-before-break"
    assert auto(services=[SERVICE], pods=[head])[0] == "recreate"  # Running, not Ready


def test_a_ready_deployment_pod_is_serving_even_when_the_rest_is_stuck() -> None:
    pods = ready(deployment_pods("web", node="o1")) + deployment_pods(
        "web", first=1, unschedulable="0/1 nodes are available: 1 Insufficient cpu."
    )
    strategy, why = auto(pods=pods)
    assert strategy == "make-before-break"
    assert "pod default/web-5d8f7-00000 is Running and Ready" in why


def test_batch_pods_do_not_count_as_serving() -> None:
    job_pod = pod("etl-x", node="o1", owners=[owner("Job", "etl")])
    assert auto(pods=ready([job_pod]))[0] == "recreate"


def test_recreate_and_make_before_break_stay_available_explicitly() -> None:
    serving = ray_cluster(state="ready")
    recreate = choose_strategy("recreate", pods=[], ray_services=[SERVICE], ray_clusters=[serving])
    assert recreate.strategy == "recreate" and "cut" in recreate.why
    mbb = choose_strategy("make-before-break", pods=[], ray_services=[], ray_clusters=[])
    assert mbb.strategy == "make-before-break"


def test_the_planner_copies_a_stalled_ray_service_whose_active_cluster_serves() -> None:
    onprem = stalled_ray_onprem()
    serving = (
        Condition(type="HeadPodReady", status="True"),
        Condition(type="RayClusterProvisioned", status="True"),
    )
    objects = tuple(
        dataclasses.replace(o, conditions=serving) if o.name == "ray-pred-aaaaa" else o
        for o in onprem.objects
    )
    states = {
        "onprem": dataclasses.replace(onprem, objects=objects),
        "cloud": cluster_state("cloud", [node(f"c{i}", cpu="16", memory="64Gi") for i in range(3)]),
    }
    (move,) = make_plan(fleet(groups=[stalled_ray_group()]), states, now=NOW).moves
    assert move.phase == "copy"
    assert move.strategy.startswith("make-before-break: the active RayCluster ray-pred-aaaaa")


def test_the_planner_recreates_when_the_active_cluster_does_not_serve() -> None:
    states = {
        "onprem": stalled_ray_onprem(),
        "cloud": cluster_state("cloud", [node(f"c{i}", cpu="16", memory="64Gi") for i in range(3)]),
    }
    (move,) = make_plan(fleet(groups=[stalled_ray_group()]), states, now=NOW).moves
    assert move.phase == ""
    assert move.strategy.startswith("recreate: nothing of the group serves")
