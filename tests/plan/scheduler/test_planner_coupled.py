"""The planner with pod-to-pod rules: candidates are provisional until simulated."""

from __future__ import annotations

from reconciler.plan.planner import make_plan
from tests.plan.builders import (
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
from tests.plan.scheduler.kit import HOST

ANTI = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOST}
        ]
    }
}


def _web(replicas: int) -> dict[str, object]:
    manifest = deployment_manifest("web", replicas=replicas, cpu="1", affinity=ANTI)
    manifest["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}  # type: ignore[index]
    return manifest


def _hosts(cluster: str, count: int) -> list[object]:
    return [node(f"{cluster}{i}", labels={HOST: f"{cluster}{i}"}) for i in range(count)]


def test_a_roomy_cluster_that_anti_affinity_rules_out_is_simulated_then_passed_over() -> None:
    # "big" has room for all three replicas on one node, but they need three hosts.
    stuck = deployment_pods(
        "web", count=3, cpu="1", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(10)
    )
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], stuck),
        "big": cluster_state("big", [node("b0", cpu="64", memory="256Gi", labels={HOST: "b0"})]),
        "small": cluster_state("small", _hosts("s", 3)),  # type: ignore[arg-type]
    }
    web = group("web", "onprem", [_web(3)], preferred_clusters=["big", "small"])
    plan = make_plan(fleet(["onprem", "big", "small"], [web]), states, now=NOW)
    (decision,) = plan.decisions
    assert decision.action == "move"
    verdicts = {c.cluster: c for c in decision.candidates}
    assert not verdicts["big"].fits
    assert "didn't match pod anti-affinity rules" in verdicts["big"].detail
    assert verdicts["small"].fits and verdicts["small"].placed
    assert sorted(p.node for p in verdicts["small"].placements) == ["s0", "s1", "s2"]


def test_a_candidate_ranked_by_the_fast_path_is_provisional_until_simulated() -> None:
    # Default spreading (a Deployment's selector) changes only the scores: a candidate the
    # choice may not reach gets the fast path's verdict, marked provisional.
    import dataclasses

    from reconciler.plan.fit import free_on_nodes
    from reconciler.plan.scheduler.board import view_of
    from reconciler.plan.scheduler.place import fits_cluster
    from reconciler.workloads.shapes import LabelSelector, Requirement
    from tests.plan.scheduler.kit import incoming, spec

    selector = LabelSelector((Requirement("app", "In", ("web",)),))
    shapes = [
        dataclasses.replace(
            incoming(f"w{i}", spec(), labels={"app": "web"}), default_spread=selector
        )
        for i in range(2)
    ]
    state = cluster_state("c", _hosts("n", 2))  # type: ignore[arg-type]
    common = {"cluster": "c", "nodes": state.nodes, "free": free_on_nodes(state), "reserve": {}}
    rough = fits_cluster(shapes, view=view_of(state), exact=False, **common)  # type: ignore[arg-type]
    assert rough.fits and rough.provisional and not rough.placed
    exact = fits_cluster(shapes, view=view_of(state), **common)  # type: ignore[arg-type]
    assert exact.fits and exact.placed
    assert len(exact.placements) == 2  # placed node by node


def _plain_web(replicas: int) -> dict[str, object]:
    manifest = deployment_manifest("web", replicas=replicas, cpu="1")
    manifest["spec"]["template"]["metadata"] = {"labels": {"app": "web"}}  # type: ignore[index]
    return manifest


def _guard(node_name: str, *, keeps_away: str) -> object:
    """A running pod whose required anti-affinity keeps pods labelled app=`keeps_away` off
    its host (InterPodAffinity: existing pods' anti-affinity)."""
    from tests.plan.scheduler.kit import bound, spec

    term = {"labelSelector": {"matchLabels": {"app": keeps_away}}, "topologyKey": HOST}
    affinity = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    return bound(f"guard-{node_name}", node_name, spec(affinity=affinity), labels={"app": "guard"})


def _stuck_web_plan(guard_selects: str) -> dict[str, object]:
    stuck = deployment_pods(
        "web", count=2, cpu="1", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(10)
    )
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], stuck),
        "a": cluster_state("a", _hosts("a", 1), [_guard("a0", keeps_away=guard_selects)]),  # type: ignore[arg-type, list-item]
        "b": cluster_state("b", _hosts("b", 2), [_guard("b0", keeps_away=guard_selects)]),  # type: ignore[arg-type, list-item]
    }
    web = group("web", "onprem", [_plain_web(2)], preferred_clusters=["a", "b"])
    (decision,) = make_plan(fleet(["onprem", "a", "b"], [web]), states, now=NOW).decisions
    return {"decision": decision, **{c.cluster: c for c in decision.candidates}}


def test_a_bound_pods_anti_affinity_that_selects_none_of_the_group_keeps_the_sure_bound() -> None:
    # The guards keep app=db away: nothing about web's pods, so the bound still proves "b".
    found = _stuck_web_plan("db")
    assert found["decision"].target == "a"  # type: ignore[attr-defined]
    b = found["b"]
    assert b.fits and not b.provisional  # type: ignore[attr-defined]
    assert "enough nodes have room for every pod" in b.detail  # type: ignore[attr-defined]


def test_a_bound_pods_anti_affinity_that_selects_the_group_is_simulated() -> None:
    # The guards keep app=web off their hosts: "a" has one host, the guard's, so no pod
    # lands; on "b" both replicas go to the host without a guard.
    found = _stuck_web_plan("web")
    assert found["decision"].target == "b"  # type: ignore[attr-defined]
    a, b = found["a"], found["b"]
    assert not a.fits  # type: ignore[attr-defined]
    assert "didn't satisfy existing pods anti-affinity rules" in a.detail  # type: ignore[attr-defined]
    assert b.placed  # type: ignore[attr-defined]
    assert [p.node for p in b.placements] == ["b1", "b1"]  # type: ignore[attr-defined]
