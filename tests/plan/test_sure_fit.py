"""The sure verdict: a bound that proves a fit without simulating, and never disagrees with it."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.fit import free_on_nodes
from reconciler.plan.planner import make_plan
from reconciler.plan.sure_fit import FilterIds, RoomBounds, needs_of, surely_fits
from reconciler.status.model import Node, Pod
from reconciler.workloads.shapes import PodShape

from .builders import (
    CAPACITY_MESSAGE,
    NOW,
    Taint,
    Toleration,
    cluster_state,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
    pod,
    resources,
    shape,
    sure,
)
from .test_fit import fit

# ---- when the bound proves a fit, and when it leaves it to the simulation --------------


def test_three_pods_with_room_on_three_nodes_each_surely_fit() -> None:
    shapes = [shape(f"p{i}", cpu="2") for i in range(3)]
    nodes = [node(f"n{i}", cpu="4") for i in range(3)]
    verdict = sure(shapes, nodes)
    assert verdict is not None and verdict.fits and not verdict.placed
    assert verdict.placements == ()
    assert verdict.free_after == fit(shapes, nodes).free_after


def test_too_few_nodes_with_room_is_left_to_the_simulation() -> None:
    # Three pods, two roomy nodes and one full: the simulation may still fit them (two on
    # one node), but the bound cannot say so.
    shapes = [shape(f"p{i}", cpu="2") for i in range(3)]
    nodes = [node("n0", cpu="8"), node("n1", cpu="8"), node("n2", cpu="1")]
    assert sure(shapes, nodes) is None
    assert fit(shapes, nodes).fits


def test_nodes_failing_the_filters_are_not_counted() -> None:
    shapes = [shape(f"p{i}", cpu="1") for i in range(2)]
    nodes = [
        node("n0"),
        node("n1", taints=[Taint("dedicated", "gpu")]),
        node("n2", ready=False),
        node("n3", unschedulable=True),
    ]
    assert sure(shapes, nodes) is None
    tolerant = [
        shape(f"p{i}", cpu="1", tolerations=[Toleration("dedicated", "Equal", "gpu")])
        for i in range(2)
    ]
    assert sure(tolerant, nodes) is not None


def test_a_node_short_of_any_resource_or_a_pod_slot_is_not_counted() -> None:
    shapes = [shape(f"p{i}", cpu="1", gpu=1) for i in range(2)]
    assert sure(shapes, [node("n0", gpu=1), node("n1")]) is None
    assert sure(shapes, [node("n0", gpu=1), node("n1", gpu=1)]) is not None
    full = [node("n0", pods="1"), node("n1")]
    one_pod = [pod("old", node="n0", cpu="100m")]
    assert sure([shape("a"), shape("b")], full, one_pod) is None


def test_the_reserve_is_left_to_the_simulation_which_words_it() -> None:
    shapes = [shape("p0", cpu="2")]
    nodes = [node("n0", cpu="4"), node("n1", cpu="4")]
    reserve = resources(cpu="7")
    assert sure(shapes, nodes, reserve=reserve) is None
    assert fit(shapes, nodes, reserve=reserve).short.startswith("would leave 6 CPU free")
    assert sure(shapes, nodes, reserve=resources(cpu="6")) is not None


def test_kinds_that_cannot_share_a_node_are_counted_apart() -> None:
    # One head and three GPU workers; two plain nodes and three tainted GPU nodes. Fewer
    # nodes than pods take either kind, but no head can take a GPU node (the taint) and no
    # worker a plain one (no GPU there), so each kind has a node per pod of its own.
    gpu_taint, tolerate = Taint("dedicated", "gpu"), Toleration("dedicated", "Equal", "gpu")
    head = shape("head", cpu="2")
    workers = [shape(f"w{i}", cpu="1", gpu=1, tolerations=[tolerate]) for i in range(3)]
    nodes = [node("plain0"), node("plain1")]
    nodes += [node(f"gpu{i}", gpu=1, taints=[gpu_taint]) for i in range(3)]
    verdict = sure([head, *workers], nodes)
    assert verdict is not None and verdict.fits
    assert verdict.free_after == fit([head, *workers], nodes).free_after
    # Without the taint the head could take a GPU node first: three nodes for four pods.
    open_nodes = [node("plain0"), node("plain1")] + [node(f"gpu{i}", gpu=1) for i in range(3)]
    assert sure([head, *workers], open_nodes) is None
    assert sure([*workers, head], open_nodes) is None  # the order of creation is no matter


def test_needs_and_bounds_must_number_filters_alike() -> None:
    state = cluster_state("c", [node("n0")])
    needs = needs_of([shape()], filter_ids=FilterIds())
    with pytest.raises(ValueError, match="number filter classes differently"):
        surely_fits(
            needs,
            cluster="c",
            free=free_on_nodes(state),
            reserve={},
            bounds=RoomBounds(state.nodes, FilterIds()),
        )


def test_an_empty_group_is_left_to_the_simulation() -> None:
    assert sure([], [node("n0")]) is None


# ---- the bound never disagrees with the simulation ---------------------------------------


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[PodShape], list[Node], list[Pod]]:
    gpu_taint = Taint("dedicated", "gpu")
    nodes = [
        node(
            f"n{index}",
            cpu=draw(st.integers(1, 8)),
            memory=f"{draw(st.integers(1, 16))}Gi",
            gpu=draw(st.sampled_from([None, 1, 2])),
            pods=draw(st.integers(1, 6)),
            labels={"zone": draw(st.sampled_from(["a", "b"]))},
            taints=[gpu_taint] if draw(st.integers(0, 4)) == 0 else [],
            ready=draw(st.integers(0, 6)) != 0,
            unschedulable=draw(st.integers(0, 6)) == 0,
        )
        for index in range(draw(st.integers(0, 8)))
    ]
    pods = [
        pod(
            f"old{index}",
            node=draw(st.sampled_from([n.name for n in nodes])),
            cpu=f"{draw(st.integers(1, 8)) * 250}m",
            memory=f"{draw(st.integers(1, 8))}Gi",
        )
        for index in range(draw(st.integers(0, 6)) if nodes else 0)
    ]
    kinds = [
        shape(
            cpu=f"{draw(st.integers(0, 8)) * 250}m",
            memory=f"{draw(st.integers(0, 4))}Gi",
            gpu=draw(st.sampled_from([None, None, 1])),
            tolerations=[Toleration("dedicated", "Equal", "gpu")] if draw(st.booleans()) else [],
            node_selector={"zone": "a"} if draw(st.integers(0, 3)) == 0 else {},
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    shapes = [
        draw(st.sampled_from(kinds)).renamed(f"p{index}")
        for index in range(draw(st.integers(0, 6)))
    ]
    return shapes, nodes, pods


@settings(max_examples=400)
@given(clusters(), st.sampled_from([{}, {"cpu": "1"}, {"memory": "4Gi"}, {"pods": "2"}]))
def test_a_sure_verdict_is_always_the_simulations(
    cluster: tuple[list[PodShape], list[Node], list[Pod]], reserve_text: Mapping[str, str]
) -> None:
    shapes, nodes, pods = cluster
    reserve = resources(**reserve_text)
    verdict = sure(shapes, nodes, pods, reserve=reserve)
    if verdict is None:
        return  # the simulation decides; nothing to compare
    full = fit(shapes, nodes, pods, reserve=reserve)
    assert full.fits
    assert dict(verdict.free_after) == dict(full.free_after)


# ---- in a plan: only the chosen target is placed node by node --------------------------


def test_other_fitting_clusters_get_a_sure_verdict_and_the_target_its_placements() -> None:
    web = group("web", "onprem", [deployment_manifest("web", replicas=2, cpu="2")])
    stuck = deployment_pods(
        "web", count=2, cpu="2", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(10)
    )
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], stuck),
        "big": cluster_state("big", [node(f"b{i}", cpu="16") for i in range(3)]),
        "small": cluster_state("small", [node(f"s{i}", cpu="4") for i in range(2)]),
    }
    plan = make_plan(fleet(("onprem", "big", "small"), [web]), states, now=NOW)
    (decision,) = plan.decisions
    assert (decision.action, decision.target) == ("move", "big")  # the most headroom
    by_cluster = {c.cluster: c for c in decision.candidates}
    target, other = by_cluster["big"], by_cluster["small"]
    assert target.placed and len(target.placements) == 2
    assert target.detail.startswith("fits one copy (2 pods on b")
    assert other.fits and not other.placed and other.placements == ()
    assert other.detail == (
        "fits one copy (2 pods; enough nodes have room for every pod, not placed one by one)"
    )
    # Left free after the move: 4 of 8 CPU, 62 of 64Gi (each pod asks 2 CPU and 1Gi).
    assert other.headroom == (4 / 8 + 62 / 64) / 2
