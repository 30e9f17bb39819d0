"""A DaemonSet needs one pod on every node of the target that it runs on: its demand
depends on the target, and each pod must fit on its own node."""

from __future__ import annotations

from typing import Any

from reconciler.fleet.model import Group
from reconciler.plan.daemon_sets import demand_on, pods_per_node
from reconciler.plan.demand import group_demand
from reconciler.plan.explain import plan_json
from reconciler.plan.fit import fits_group, free_on_nodes
from reconciler.plan.planner import Plan, make_plan
from reconciler.status.model import ClusterState, Node, Taint

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
    pod,
    sure,
)


def daemon_set(name: str = "agent", *, cpu: str = "1", **pod_extra: Any) -> dict[str, Any]:
    manifest = deployment_manifest(name, namespace="ops", kind="DaemonSet", cpu=cpu, **pod_extra)
    del manifest["spec"]["replicas"]
    return manifest


def edge_group(**pod_extra: Any) -> Group:
    """A Deployment of one 1-CPU pod, then a DaemonSet of 1-CPU pods."""
    web = deployment_manifest("web", namespace="ops", cpu="1")
    return group("edge", "onprem", [web, daemon_set(**pod_extra)])


def names_on(nodes: list[Node], **pod_extra: Any) -> list[str]:
    demand = group_demand(edge_group(**pod_extra))
    return [shape.name for shape in demand_on(demand, nodes).shapes]


def test_one_pinned_pod_per_node_in_manifest_order() -> None:
    demand = group_demand(edge_group())
    placed = demand_on(demand, [node("b"), node("a")])

    assert [s.name for s in placed.shapes] == [
        "ops/web replica 1",
        "ops/agent on b",
        "ops/agent on a",
    ]
    assert [s.node_name for s in placed.shapes] == ["", "b", "a"]
    assert (
        demand_on(group_demand(group("w", "c", [deployment_manifest()])), [node("a")]).daemon_sets
        == ()
    )


def test_the_nodes_it_runs_on_are_the_daemon_set_controllers() -> None:
    nodes = [
        node("plain"),
        node("tainted", taints=[Taint("dedicated", "gpu", "NoSchedule")]),
        node("soft", taints=[Taint("dedicated", "gpu", "PreferNoSchedule")]),
        node("down", ready=False),  # carries the not-ready NoSchedule taint: no pod
        node("cordoned", unschedulable=True),  # the controller tolerates it: a pod
        node("edge", labels={"role": "edge"}),
    ]

    assert names_on(nodes)[1:] == [
        "ops/agent on plain",
        "ops/agent on soft",
        "ops/agent on cordoned",
        "ops/agent on edge",
    ]
    assert names_on(nodes, nodeSelector={"role": "edge"})[1:] == ["ops/agent on edge"]
    tolerating = [{"key": "dedicated", "operator": "Exists"}]
    assert "ops/agent on tainted" in names_on(nodes, tolerations=tolerating)


def test_a_pinned_pod_lands_on_its_node_or_nowhere() -> None:
    nodes = [node("a", cpu="4"), node("b", cpu="4")]
    state = cluster_state("c", nodes, [pod("busy", cpu="3500m", node="b")])
    shapes = pods_per_node(group_demand(edge_group()).daemon_sets[0][1], nodes)

    fit = fits_group(shapes, cluster="c", nodes=nodes, free=free_on_nodes(state), reserve={})

    # Node a has room for both pods, but b's pod can only go to b.
    assert not fit.fits
    assert "on the best node (b) for ops/agent on b" in fit.short


def test_a_pinned_pod_turns_the_sure_shortcut_off() -> None:
    nodes = [node(f"n{i}", cpu="32") for i in range(4)]
    shapes = pods_per_node(group_demand(edge_group()).daemon_sets[0][1], nodes[:1])

    verdict = sure(shapes, nodes)

    assert verdict is None  # the simulation decides, placing the pod on n0


def plan(targets: dict[str, ClusterState]) -> Plan:
    stuck = deployment_pods(
        "web", namespace="ops", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(10)
    )
    states = {"onprem": cluster_state("onprem", [node("o1", cpu="500m")], stuck), **targets}
    return make_plan(fleet(("onprem", *targets), [edge_group()]), states, now=NOW)


def test_the_demand_differs_per_target_cluster() -> None:
    # big: three 8-CPU nodes, one with half a CPU left: its agent cannot land there.
    # small: two 4-CPU nodes, each with room for its agent.
    big_nodes = [node("big-1"), node("big-2"), node("big-3")]
    big = cluster_state("big", big_nodes, [pod("busy", cpu="7500m", node="big-3")])
    small = cluster_state("small", [node("small-1", cpu="4"), node("small-2", cpu="4")])

    result = plan({"big": big, "small": small})
    decided = result.decisions[0]
    assert plan_json(result)["decisions"][0]["demand"]["perNode"] == ["ops/agent"]

    by_cluster = {c.cluster: c for c in decided.candidates}
    assert not by_cluster["big"].fits
    assert "ops/agent on big-3" in by_cluster["big"].detail
    assert by_cluster["small"].fits and "3 pods" in by_cluster["small"].detail
    assert (decided.action, decided.target) == ("move", "small")
    assert sorted(p.pod for p in by_cluster["small"].placements) == [
        "ops/agent on small-1",
        "ops/agent on small-2",
        "ops/web replica 1",
    ]


def test_a_tainted_busy_node_the_daemon_set_skips_does_not_matter() -> None:
    tainted = node("big-3", taints=[Taint("dedicated", "gpu", "NoSchedule")])
    big = cluster_state("big", [node("big-1"), tainted], [pod("busy", cpu="7500m", node="big-3")])

    decided = plan({"big": big}).decisions[0]

    assert (decided.action, decided.target) == ("move", "big")
    assert "2 pods" in decided.candidates[0].detail


def test_a_cordoned_node_takes_its_agent_but_no_other_pod() -> None:
    nodes = [node("open", cpu="1"), node("cordoned", cpu="4", unschedulable=True)]
    state = cluster_state("c", nodes)
    demand = demand_on(group_demand(edge_group()), nodes)

    fit = fits_group(
        demand.shapes, cluster="c", nodes=nodes, free=free_on_nodes(state), reserve={"cpu": 0}
    )

    # web takes "open" (the cordoned node is not for it), then each agent its own node:
    # "open" has no CPU left for its agent.
    assert not fit.fits and "for ops/agent on open" in fit.short
    roomy = [node("open", cpu="2"), nodes[1]]
    fit = fits_group(
        demand_on(group_demand(edge_group()), roomy).shapes,
        cluster="c",
        nodes=roomy,
        free=free_on_nodes(cluster_state("c", roomy)),
        reserve={"cpu": 0},
    )
    assert fit.fits
    assert [(p.pod, p.node) for p in fit.placements] == [
        ("ops/web replica 1", "open"),
        ("ops/agent on open", "open"),
        ("ops/agent on cordoned", "cordoned"),
    ]
    # The cordoned node's room is not counted free for the reserve, nor charged against it.
    assert fit.free_after["cpu"] == 0
