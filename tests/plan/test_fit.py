"""Node-level fit: the filters kube-scheduler applies, its score, and its greedy placement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from reconciler.plan.fit import (
    FitResult,
    best_node,
    eligible,
    fits_group,
    free_on_nodes,
    node_score,
)
from reconciler.plan.scheduler.tolerations import tolerates
from reconciler.status.model import Node, Pod
from reconciler.workloads.shapes import PodShape

from .builders import (
    GI,
    Requirement,
    Taint,
    Toleration,
    cluster_state,
    cores,
    node,
    pod,
    resources,
    shape,
)


def fit(
    shapes: Sequence[PodShape],
    nodes: Sequence[Node],
    pods: Sequence[Pod] = (),
    *,
    reserve: Mapping[str, int] | None = None,
) -> FitResult:
    state = cluster_state("c", nodes, pods)
    return fits_group(
        shapes, cluster="c", nodes=state.nodes, free=free_on_nodes(state), reserve=reserve or {}
    )


# ---- free capacity ---------------------------------------------------------------------


def test_free_is_allocatable_minus_bound_running_pods() -> None:
    state = cluster_state(
        "c",
        [node("n1", cpu="8", memory="32Gi")],
        [
            pod("running", node="n1", cpu="3", memory="4Gi"),
            pod("bound-not-started", node="n1", cpu="1", memory="1Gi", scheduled=True),
            pod("done", node="n1", cpu="2", phase="Succeeded"),
            pod("failed", node="n1", cpu="2", phase="Failed"),
            pod("pending", cpu="2"),
            pod("elsewhere", node="gone", cpu="2"),
        ],
    )
    free = free_on_nodes(state)
    assert free == {"n1": {"cpu": cores(4), "memory": 27 * GI, "pods": 108_000}}


def test_free_adds_back_the_pods_asked_for() -> None:
    state = cluster_state("c", [node("n1")], [pod("mine", node="n1", cpu="3")])
    free = free_on_nodes(state, without_pods=frozenset({("default", "mine")}))
    assert free["n1"]["cpu"] == cores(8)
    assert free["n1"]["pods"] == 110_000


# ---- taints and tolerations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("taint", "tolerations", "accepted"),
    [
        pytest.param(Taint("gpu", "true", "NoSchedule"), (), False, id="NoSchedule-untolerated"),
        pytest.param(Taint("gpu", "true", "NoExecute"), (), False, id="NoExecute-untolerated"),
        pytest.param(Taint("gpu", "true", "PreferNoSchedule"), (), True, id="PreferNoSchedule"),
        pytest.param(
            Taint("gpu", "true", "NoSchedule"),
            (Toleration(key="gpu", operator="Exists"),),
            True,
            id="Exists-same-key",
        ),
        pytest.param(
            Taint("gpu", "true", "NoSchedule"),
            (Toleration(key="other", operator="Exists"),),
            False,
            id="Exists-other-key",
        ),
        pytest.param(
            Taint("anything", "x", "NoExecute"),
            (Toleration(operator="Exists"),),
            True,
            id="Exists-empty-key-tolerates-all",
        ),
        pytest.param(
            Taint("gpu", "true", "NoSchedule"),
            (Toleration(key="gpu", operator="Equal", value="true", effect="NoSchedule"),),
            True,
            id="Equal-same-value",
        ),
        pytest.param(
            Taint("gpu", "true", "NoSchedule"),
            (Toleration(key="gpu", operator="Equal", value="false", effect="NoSchedule"),),
            False,
            id="Equal-other-value",
        ),
        pytest.param(
            Taint("gpu", "true", "NoExecute"),
            (Toleration(key="gpu", operator="Equal", value="true"),),
            True,
            id="empty-effect-matches-every-effect",
        ),
        pytest.param(
            Taint("gpu", "true", "NoExecute"),
            (Toleration(key="gpu", operator="Equal", value="true", effect="NoSchedule"),),
            False,
            id="other-effect",
        ),
        pytest.param(
            Taint("gpu", "true", "NoSchedule"),
            (
                Toleration(key="other", operator="Exists"),
                Toleration(key="gpu", operator="Exists"),
            ),
            True,
            id="any-toleration-matches",
        ),
    ],
)
def test_taints_keep_away_pods_that_do_not_tolerate_them(
    taint: Taint, tolerations: tuple[Toleration, ...], accepted: bool
) -> None:
    tainted = node("n1", taints=[taint])
    assert eligible(shape(tolerations=tolerations), tainted) is accepted
    assert fit([shape(tolerations=tolerations)], [tainted]).fits is accepted


def test_every_hard_taint_must_be_tolerated() -> None:
    tainted = node("n1", taints=[Taint("a", "", "NoSchedule"), Taint("b", "", "NoExecute")])
    only_a = (Toleration(key="a", operator="Exists"),)
    both = (*only_a, Toleration(key="b", operator="Exists"))
    assert not eligible(shape(tolerations=only_a), tainted)
    assert eligible(shape(tolerations=both), tainted)


def test_tolerates_is_kubernetes_rule_for_one_taint() -> None:
    assert (
        tolerates([Toleration(key="k", operator="Exists", effect="NoExecute")], Taint("k")) is False
    )
    assert tolerates([Toleration(key="k", value="")], Taint("k", "", "NoSchedule"))
    assert not tolerates([], Taint("k"))


def test_untolerated_taint_is_named_when_no_node_accepts_the_pod() -> None:
    result = fit([shape("default/p")], [node("n1", taints=[Taint("dedicated", "ml")])])
    assert not result.fits
    assert "no node accepts default/p" in result.short
    # TaintToleration's reason (plugins/tainttoleration/taint_toleration.go).
    assert "1 node(s) had untolerated taint {dedicated: ml}" in result.short


# ---- nodeSelector and required node affinity -------------------------------------------


def test_node_selector_must_match_every_label() -> None:
    labelled = node("n1", labels={"zone": "a", "disk": "ssd"})
    assert eligible(shape(node_selector={"zone": "a"}), labelled)
    assert eligible(shape(node_selector={"zone": "a", "disk": "ssd"}), labelled)
    assert not eligible(shape(node_selector={"zone": "b"}), labelled)
    assert not eligible(shape(node_selector={"gpu": "yes"}), labelled)
    result = fit([shape(node_selector={"zone": "b"})], [labelled])
    assert not result.fits
    assert "1 node(s) didn't match Pod's node affinity/selector" in result.short


LABELS = {"zone": "a", "cores": "16"}


@pytest.mark.parametrize(
    ("requirement", "matches"),
    [
        (Requirement("zone", "In", ("a", "b")), True),
        (Requirement("zone", "In", ("b",)), False),
        (Requirement("missing", "In", ("a",)), False),
        (Requirement("zone", "NotIn", ("b",)), True),
        (Requirement("zone", "NotIn", ("a",)), False),
        (Requirement("missing", "NotIn", ("a",)), True),
        (Requirement("zone", "Exists"), True),
        (Requirement("missing", "Exists"), False),
        (Requirement("zone", "DoesNotExist"), False),
        (Requirement("missing", "DoesNotExist"), True),
        (Requirement("cores", "Gt", ("8",)), True),
        (Requirement("cores", "Gt", ("16",)), False),
        (Requirement("cores", "Lt", ("32",)), True),
        (Requirement("cores", "Lt", ("16",)), False),
        (Requirement("zone", "Gt", ("1",)), False),  # not an integer label
        (Requirement("missing", "Lt", ("1",)), False),
    ],
    ids=lambda value: (
        f"{value.key}-{value.operator}-{','.join(value.values)}"
        if isinstance(value, Requirement)
        else str(value)
    ),
)
def test_required_node_affinity_operators(requirement: Requirement, matches: bool) -> None:
    assert eligible(shape(affinity=[[requirement]]), node("n1", labels=LABELS)) is matches


def test_affinity_terms_are_ored_and_requirements_anded() -> None:
    labelled = node("n1", labels=LABELS)
    zone_a = Requirement("zone", "In", ("a",))
    zone_b = Requirement("zone", "In", ("b",))
    big = Requirement("cores", "Gt", ("8",))
    assert eligible(shape(affinity=[[zone_b], [zone_a]]), labelled)
    assert not eligible(
        shape(affinity=[[zone_b], [zone_a, Requirement("gpu", "Exists")]]), labelled
    )
    assert eligible(shape(affinity=[[zone_a, big]]), labelled)
    assert not eligible(shape(affinity=[[zone_a, zone_b]]), labelled)


# ---- node condition, extended resources, pod count -------------------------------------


def test_not_ready_and_cordoned_nodes_take_nothing() -> None:
    result = fit([shape()], [node("a", ready=False), node("b", unschedulable=True)])
    assert not result.fits
    # NodeUnschedulable's reason; a node that is not Ready carries the not-ready taint.
    assert "1 node(s) were unschedulable" in result.short
    assert "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }" in result.short
    assert fit([shape()], [node("a", ready=False), node("b")]).placements[0].node == "b"


def test_gpu_pod_needs_a_node_with_the_extended_resource() -> None:
    gpu_pod = shape("default/trainer", cpu="4", memory="16Gi", gpu="1")
    without = fit([gpu_pod], [node("cpu-only", cpu="64", memory="256Gi")])
    assert not without.fits
    assert without.short == (
        "short 1 nvidia.com/gpu on the best node (cpu-only) for default/trainer; "
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
    )
    with_gpu = fit([gpu_pod], [node("cpu-only", cpu="64"), node("gpu-1", gpu="1")])
    assert with_gpu.fits
    assert with_gpu.placements[0].node == "gpu-1"


def test_gpus_in_use_are_not_free() -> None:
    busy = pod("other", node="gpu-1", cpu="1", gpu="2")
    two = [shape(f"default/t{i}", gpu="1") for i in range(2)]
    assert fit(two, [node("gpu-1", gpu="4")], [busy]).fits
    assert not fit([*two, shape("default/t2", gpu="1")], [node("gpu-1", gpu="4")], [busy]).fits


def test_pod_count_is_a_resource_too() -> None:
    full = node("n1", cpu="64", memory="256Gi", pods="2")
    bound = [pod("a", node="n1", cpu="100m"), pod("b", node="n1", cpu="100m")]
    result = fit([shape(cpu="100m")], [full], bound)
    assert not result.fits
    assert result.short == (
        "short 1 pod slot(s) on the best node (n1) for default/p; "
        "0/1 nodes are available: 1 Too many pods."
    )
    assert fit([shape(cpu="100m")], [full], bound[:1]).fits


def test_pods_of_one_group_use_up_pod_slots() -> None:
    small = node("n1", cpu="64", memory="256Gi", pods="3")
    assert fit([shape(f"default/p{i}", cpu="100m") for i in range(3)], [small]).fits
    assert not fit([shape(f"default/p{i}", cpu="100m") for i in range(4)], [small]).fits


# ---- shortages ---------------------------------------------------------------------------


def test_a_sum_of_free_capacity_is_not_a_fit() -> None:
    # 8 CPU free in total, but no node has the 6 a pod needs.
    nodes = [node("a", cpu="4"), node("b", cpu="4")]
    result = fit([shape("default/big", cpu="6")], nodes)
    assert not result.fits
    assert result.short == (
        "short 2 CPU on the best node (a) for default/big; "
        "0/2 nodes are available: 2 Insufficient cpu."
    )


def test_short_names_what_is_missing_on_the_closest_node() -> None:
    nodes = [node("small", cpu="2", memory="8Gi"), node("tiny", cpu="1", memory="2Gi")]
    result = fit([shape("ray/head", cpu="8", memory="8Gi")], nodes)
    assert result.short.startswith("short 6 CPU on the best node (small) for ray/head; ")
    both = fit([shape("ray/head", cpu="8", memory="16Gi")], nodes)
    # Every short resource of every node counts, sorted as FitError sorts them.
    assert both.short == (
        "short 6 CPU, 8Gi memory on the best node (small) for ray/head; "
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory."
    )


def test_short_counts_what_earlier_pods_of_the_group_took() -> None:
    result = fit(
        [shape("default/one", cpu="6"), shape("default/two", cpu="6")], [node("n1", cpu="8")]
    )
    assert not result.fits
    assert result.short.startswith("short 4 CPU on the best node (n1) for default/two; ")


def test_cluster_without_nodes_says_so() -> None:
    result = fit([shape()], [])
    assert not result.fits
    assert "0/0 nodes are available." in result.short


def test_empty_group_fits_anywhere() -> None:
    assert fit([], [node("n1")]).fits


# ---- the reserve -----------------------------------------------------------------------


def test_reserve_is_kept_free_after_the_group_lands() -> None:
    nodes = [node("a", cpu="4"), node("b", cpu="4")]
    group = [shape("default/w1", cpu="3"), shape("default/w2", cpu="3")]
    assert fit(group, nodes).fits  # by nodes alone it fits, leaving 2 CPU
    assert fit(group, nodes, reserve={"cpu": cores(2)}).fits
    result = fit(group, nodes, reserve={"cpu": cores(3)})
    assert not result.fits
    assert result.short == "would leave 2 CPU free, under the reserve of 3"
    assert not result.placements


def test_reserve_counts_only_nodes_that_take_pods() -> None:
    nodes = [node("a", cpu="4"), node("cordoned", cpu="64", unschedulable=True)]
    result = fit([shape(cpu="3")], nodes, reserve={"cpu": cores(2)})
    assert not result.fits
    assert "reserve of 2" in result.short


def test_reserve_of_memory_names_memory() -> None:
    result = fit([shape(memory="30Gi")], [node("a", memory="32Gi")], reserve={"memory": 4 * GI})
    assert result.short == "would leave 2Gi memory free, under the reserve of 4Gi"


def test_free_after_is_the_cluster_total() -> None:
    result = fit([shape(cpu="1", memory="2Gi")], [node("a"), node("b")])
    assert result.free_after["cpu"] == cores(15)
    assert result.free_after["memory"] == 62 * GI
    assert result.free_after["pods"] == 219_000


# ---- the scheduler's score ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "memory", "kube_minor", "score"),
    [
        # 2 of 8 CPU, 8 of 32Gi: 75% left of both → LeastAllocated 75, Balanced 100.
        ("2", "8Gi", None, 175),
        ("2", "8Gi", 20, 175),
        # 4 of 8 CPU, 4 of 32Gi: left 50% and 87% → 68. Used 50% vs 12.5%: since 1.22
        # (balanced_allocation.go, standard deviation) 100 * (1 - 0.375 / 2) = 81; up to
        # 1.21, 100 * (1 - 0.375) = 62.
        ("4", "4Gi", None, 149),
        ("4", "4Gi", 22, 149),
        ("4", "4Gi", 21, 130),
        # Full: up to 1.21 a fraction of 1 scores 0 for balance; since then it is balanced.
        ("8", "32Gi", None, 100),
        ("8", "32Gi", 20, 0),
    ],
)
def test_score_is_least_allocated_plus_balanced_of_the_clusters_version(
    cpu: str, memory: str, kube_minor: int | None, score: int
) -> None:
    empty = node("n", cpu="8", memory="32Gi")
    requests = resources(cpu, memory)
    assert node_score(requests, node=empty, room=empty.allocatable, kube_minor=kube_minor) == score


def test_most_free_node_wins_when_both_are_balanced() -> None:
    nodes = [node("a"), node("b")]
    busy = [pod("x", node="a", cpu="4", memory="16Gi")]
    assert fit([shape()], nodes, busy).placements[0].node == "b"


def test_balanced_allocation_can_outweigh_least_allocated() -> None:
    # "a" has more free CPU but its memory is nearly gone; "b" stays balanced.
    nodes = [node("a"), node("b")]
    usage = [
        pod("mem-hog", node="a", cpu=None, memory="24Gi"),
        pod("even", node="b", cpu="4", memory="16Gi"),
    ]
    state = cluster_state("c", nodes, usage)
    room = free_on_nodes(state)
    requests = resources("1", "1Gi")
    assert node_score(requests, node=nodes[0], room=room["a"]) == 121
    assert node_score(requests, node=nodes[1], room=room["b"]) == 136
    assert fit([shape()], nodes, usage).placements[0].node == "b"


def test_ties_go_to_the_first_node_by_name_whatever_the_listing_order() -> None:
    nodes = [node("c"), node("a"), node("b")]
    state = cluster_state("c", nodes)
    chosen = best_node(shape(), nodes=state.nodes, room=free_on_nodes(state))
    assert chosen is not None and chosen.name == "a"


def test_each_pod_goes_to_the_best_node_after_the_previous_ones() -> None:
    nodes = [node("a"), node("b")]
    result = fit([shape(f"default/r{i}", cpu="2", memory="8Gi") for i in range(4)], nodes)
    assert [p.node for p in result.placements] == ["a", "b", "a", "b"]


def test_a_node_over_its_allocatable_can_still_take_a_pod_that_does_not_ask_for_it() -> None:
    # Bound pods may exceed allocatable (kubelet reserved changed, static pods): such a node
    # scores 0 for that resource but still passes the filter for a memory-only pod.
    nodes = [node("a", cpu="1")]
    usage = [pod("x", node="a", cpu="2", memory="1Gi")]
    memory_only = shape("default/m", cpu=None, memory="1Gi")
    result = fit([memory_only], nodes, usage)
    assert result.fits
    assert result.placements[0].node == "a"


# ---- greedy placement, not a packing search --------------------------------------------


def largest_first(shapes: Sequence[PodShape], nodes: Sequence[Node]) -> dict[str, str] | None:
    """A first-fit-decreasing packing by CPU: what a 'clever' planner would find."""
    room = {n.name: dict(n.allocatable) for n in nodes}
    packing: dict[str, str] = {}
    for s in sorted(shapes, key=lambda s: -s.requests.get("cpu", 0)):
        target = next(
            (
                name
                for name in sorted(room)
                if all(room[name].get(r, 0) >= a for r, a in s.requests.items())
            ),
            None,
        )
        if target is None:
            return None
        for r, a in s.requests.items():
            room[target][r] -= a
        packing[s.name] = target
    return packing


def test_greedy_creation_order_can_fail_where_largest_first_packs() -> None:
    # The small pod is created first and scores best on the roomier node "b"; the big pod
    # then needs all of b's 8 CPU and finds 7. The scheduler will not undo the first choice.
    nodes = [node("a", cpu="4", memory="16Gi"), node("b", cpu="8", memory="16Gi")]
    small = shape("default/small", cpu="1", memory="1Gi")
    big = shape("default/big", cpu="8", memory="4Gi")

    packing = largest_first([small, big], nodes)
    assert packing == {"default/big": "b", "default/small": "a"}

    state = cluster_state("c", nodes)
    first = best_node(small, nodes=state.nodes, room=free_on_nodes(state))
    assert first is not None and first.name == "b"

    result = fit([small, big], nodes)
    assert result.fits is False
    assert result.short.startswith("short 1 CPU on the best node (b) for default/big; ")
    # The same pods created biggest first do land: order is part of the prediction.
    assert fit([big, small], nodes).fits
