"""A Deployment that leaves replicas to an HPA: its demand is what its cluster runs now,
else its HPA's minReplicas, else Kubernetes' default of one."""

from __future__ import annotations

from typing import Any

from reconciler.fleet.model import Group
from reconciler.plan.autoscaled import LiveScale, live_scale
from reconciler.plan.demand import group_demand
from reconciler.plan.planner import make_plan
from reconciler.status.model import KubeObject

from .builders import (
    CAPACITY_MESSAGE,
    NOW,
    cluster_state,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
)


def autoscaled(**hpa: Any) -> Group:
    """Deployment web (2 CPU a pod) without replicas, and its HPA when `hpa` is given."""
    manifest = deployment_manifest("web", namespace="shop", cpu="2")
    del manifest["spec"]["replicas"]
    manifests: list[dict[str, Any]] = [manifest]
    if hpa:
        spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}
        spec.update(maxReplicas=10, **hpa)
        manifests.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": spec,
            }
        )
    return group("web", "onprem", manifests)


def live_deployment(replicas: int | None) -> KubeObject:
    return KubeObject(kind="Deployment", namespace="shop", name="web", replicas=replicas)


def live_hpa(min_replicas: int | None, *, target: str = "Deployment/web") -> KubeObject:
    return KubeObject(
        kind="HorizontalPodAutoscaler",
        namespace="shop",
        name="web",
        scale_target=target,
        min_replicas=min_replicas,
    )


def pods_of(objects: list[KubeObject], web: Group | None = None) -> int:
    state = cluster_state("onprem", [], [], objects)
    return len(group_demand(web or autoscaled(), live=live_scale(state)).shapes)


def test_the_live_replicas_count_first() -> None:
    assert pods_of([live_deployment(4), live_hpa(2)]) == 4


def test_without_the_live_deployment_the_live_hpas_min_replicas() -> None:
    assert pods_of([live_hpa(3)]) == 3
    assert pods_of([live_hpa(None)]) == 1  # minReplicas defaults to 1


def test_an_hpa_of_another_kind_or_name_does_not_count() -> None:
    assert (
        pods_of([live_hpa(5, target="StatefulSet/web"), live_hpa(6, target="Deployment/api")]) == 1
    )


def test_without_anything_live_the_groups_own_hpa() -> None:
    assert pods_of([], autoscaled(minReplicas=3)) == 3
    assert pods_of([], autoscaled()) == 1  # no HPA at all: Kubernetes' default


def test_replicas_in_the_manifest_are_kept() -> None:
    manifest = deployment_manifest("web", namespace="shop", replicas=2, cpu="2")
    demand = group_demand(group("web", "onprem", [manifest]), live=LiveScale({("shop", "web"): 7}))
    assert len(demand.shapes) == 2 and demand.notes == ()


def test_the_demand_says_where_the_count_came_from() -> None:
    state = cluster_state("onprem", [], [], [live_deployment(4)])
    notes = group_demand(autoscaled(), live=live_scale(state)).notes
    assert notes == (
        "Deployment shop/web leaves replicas to an HPA: 4 from the live Deployment's spec.replicas",
    )


def test_a_group_the_hpa_scaled_up_no_longer_fits_where_its_manifest_would() -> None:
    stuck = deployment_pods(
        "web",
        namespace="shop",
        count=4,
        cpu="2",
        unschedulable=CAPACITY_MESSAGE,
        since=minutes_ago(10),
    )
    cloud = cluster_state("cloud", [node("c1", cpu="6")])

    def decide(replicas: int) -> tuple[str, str, int]:
        onprem = cluster_state("onprem", [node("o1", cpu="1")], stuck, [live_deployment(replicas)])
        states = {"onprem": onprem, "cloud": cloud}
        decided = make_plan(
            fleet(("onprem", "cloud"), [autoscaled(minReplicas=1)]), states, now=NOW
        ).decisions[0]
        assert decided.demand is not None
        return decided.action, decided.target, len(decided.demand.shapes)

    # Four live replicas (8 CPU) do not fit in cloud's 6 CPU; the manifest alone said one.
    assert decide(4) == ("report", "", 4)
    assert decide(2) == ("move", "cloud", 2)


def test_explain_tells_where_the_count_came_from() -> None:
    from reconciler.plan.explain_group import explain_group

    stuck = deployment_pods(
        "web",
        namespace="shop",
        count=3,
        cpu="2",
        unschedulable=CAPACITY_MESSAGE,
        since=minutes_ago(10),
    )
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], stuck, [live_deployment(3)]),
        "cloud": cluster_state("cloud", [node("c1", cpu="8")]),
    }
    web = autoscaled()
    decided = make_plan(fleet(("onprem", "cloud"), [web]), states, now=NOW).decisions[0]

    told = explain_group(web, decided, states=states, now=NOW)

    assert "Demand, one copy: 3 pods, 6 CPU" in told
    assert (
        "note: Deployment shop/web leaves replicas to an HPA: 3 from the live Deployment's" in told
    )
