"""Target choice: preferred clusters first, then the most headroom, ties by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.config import ClusterConfig
from reconciler.plan.choice import Candidate, headroom, pick_target
from reconciler.plan.fit import FitResult
from reconciler.plan.planner import Decision, make_plan
from reconciler.status.model import ClusterState

from .builders import (
    CAPACITY_MESSAGE,
    GI,
    NOW,
    cluster_config,
    cluster_state,
    cores,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    node,
)


def fits(cluster: str, room: float) -> Candidate:
    return Candidate(cluster, fits=True, detail="fits", headroom=room)


def no_fit(cluster: str) -> Candidate:
    return Candidate(cluster, fits=False, detail="short")


def test_preferred_order_comes_first_even_with_less_headroom() -> None:
    candidates = [fits("big", 0.9), fits("small", 0.1), fits("mid", 0.5)]
    chosen = pick_target(candidates, preferred=["small", "mid"])
    assert chosen is not None and chosen.cluster == "small"


def test_a_preferred_cluster_that_does_not_fit_is_skipped() -> None:
    chosen = pick_target(
        [no_fit("small"), fits("mid", 0.2), fits("big", 0.9)], preferred=["small", "mid"]
    )
    assert chosen is not None and chosen.cluster == "mid"


def test_without_preference_the_most_headroom_wins() -> None:
    chosen = pick_target([fits("a", 0.3), fits("b", 0.7), fits("c", 0.5)], preferred=[])
    assert chosen is not None and chosen.cluster == "b"


def test_clusters_outside_the_preference_rank_after_it_by_headroom() -> None:
    chosen = pick_target([fits("a", 0.3), fits("b", 0.7), fits("pref", 0.01)], preferred=["pref"])
    assert chosen is not None and chosen.cluster == "pref"
    rest = pick_target([fits("a", 0.3), fits("b", 0.7)], preferred=["pref"])
    assert rest is not None and rest.cluster == "b"


def test_ties_go_by_name_whatever_the_order() -> None:
    for order in (["b", "a", "c"], ["c", "b", "a"], ["a", "c", "b"]):
        chosen = pick_target([fits(name, 0.5) for name in order], preferred=[])
        assert chosen is not None and chosen.cluster == "a"


def test_nothing_fits_nothing_chosen() -> None:
    assert pick_target([no_fit("a"), no_fit("b")], preferred=["a"]) is None
    assert pick_target([], preferred=[]) is None


def test_headroom_is_the_mean_free_fraction_of_cpu_and_memory() -> None:
    nodes = [node("a", cpu="8", memory="32Gi"), node("cordoned", unschedulable=True)]
    result = FitResult("c", fits=True, free_after={"cpu": cores(2), "memory": 16 * GI})
    assert headroom(result, nodes) == (2 / 8 + 16 / 32) / 2


# ---- through the planner: policy and reachability -------------------------------------


def plan_web(
    clusters: Sequence[ClusterConfig | str],
    states: Mapping[str, ClusterState],
    **policy: Any,
) -> Decision:
    web = group("web", "onprem", [deployment_manifest("web", replicas=1, cpu="2")], **policy)
    plan = make_plan(fleet(clusters, [web]), states, now=NOW)
    (decision,) = plan.decisions
    return decision


def onprem_full() -> ClusterState:
    return cluster_state(
        "onprem",
        [node("o1", cpu="1")],
        deployment_pods("web", unschedulable=CAPACITY_MESSAGE, cpu="2"),
    )


def roomy(name: str, cpu: str = "8") -> ClusterState:
    return cluster_state(name, [node(f"{name}-1", cpu=cpu)])


def test_the_current_cluster_is_never_a_candidate() -> None:
    decision = plan_web(["onprem", "cloud"], {"onprem": onprem_full(), "cloud": roomy("cloud")})
    assert [c.cluster for c in decision.candidates] == ["cloud"]
    assert decision.target == "cloud"


def test_an_unknown_cluster_is_never_a_candidate() -> None:
    states = {
        "onprem": onprem_full(),
        "edge": ClusterState.unknown("edge", "connection refused"),
        "cloud": roomy("cloud", cpu="4"),
    }
    decision = plan_web(["onprem", "edge", "cloud"], states, preferred_clusters=("edge",))
    assert decision.target == "cloud"
    edge = next(c for c in decision.candidates if c.cluster == "edge")
    assert not edge.fits and "unknown" in edge.detail


def test_a_cluster_without_status_is_never_a_candidate() -> None:
    decision = plan_web(["onprem", "cloud"], {"onprem": onprem_full()})
    assert decision.action == "report"
    assert decision.candidates[0].fits is False
    assert "unknown" in decision.candidates[0].detail


def test_planner_prefers_the_preferred_cluster() -> None:
    states = {"onprem": onprem_full(), "big": roomy("big", "64"), "small": roomy("small", "4")}
    assert plan_web(["onprem", "big", "small"], states).target == "big"
    preferred = plan_web(["onprem", "big", "small"], states, preferred_clusters=("small", "big"))
    assert preferred.target == "small"


def test_allowed_clusters_limit_the_candidates() -> None:
    states = {"onprem": onprem_full(), "big": roomy("big", "64"), "small": roomy("small", "4")}
    decision = plan_web(["onprem", "big", "small"], states, allowed_clusters=("onprem", "small"))
    assert decision.target == "small"
    big = next(c for c in decision.candidates if c.cluster == "big")
    assert not big.fits and big.detail == "not allowed by the group's policy"


def test_cluster_selector_matches_cluster_labels() -> None:
    clusters = [
        cluster_config("onprem", labels={"site": "onprem"}),
        cluster_config("big", labels={"site": "cloud", "tier": "spot"}),
        cluster_config("small", labels={"site": "cloud", "tier": "ondemand"}),
    ]
    states = {"onprem": onprem_full(), "big": roomy("big", "64"), "small": roomy("small", "4")}
    decision = plan_web(clusters, states, cluster_selector={"tier": "ondemand"})
    assert decision.target == "small"
    none_allowed = plan_web(clusters, states, cluster_selector={"site": "mars"})
    assert none_allowed.action == "report"
    assert all(c.detail == "not allowed by the group's policy" for c in none_allowed.candidates)
