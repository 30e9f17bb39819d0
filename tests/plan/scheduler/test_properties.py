"""Invariants of the full simulation on random constrained clusters (hypothesis)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.scheduler.board import view_of
from reconciler.plan.scheduler.place import hazard_matches
from reconciler.workloads.shapes import PodShape
from tests.plan.builders import cluster_state, node, sure
from tests.plan.scheduler.kit import HOST, ZONE, bound, fit, incoming, spec

KEYS = st.sampled_from([HOST, ZONE])


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[Any], list[Any], list[PodShape]]:
    """Random nodes, a few bound pods, and a group whose pods may carry constraints."""
    count = draw(st.integers(1, 4))
    nodes = [
        node(
            f"n{i}",
            cpu=draw(st.sampled_from(["1", "2", "4"])),
            memory=draw(st.sampled_from(["2Gi", "4Gi"])),
            labels={HOST: f"n{i}", ZONE: draw(st.sampled_from(["a", "b"]))},
        )
        for i in range(count)
    ]
    # A bound pod may keep pods off its domain: the group's (app=w) or others (app=db).
    guard: dict[str, Any] = {}
    kept_away = draw(st.sampled_from(["", "w", "db"]))
    if kept_away:
        term = {"labelSelector": {"matchLabels": {"app": kept_away}}, "topologyKey": draw(KEYS)}
        guard["affinity"] = {
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        }
    pods = [
        bound(
            f"old{i}",
            f"n{draw(st.integers(0, count - 1))}",
            spec(cpu="500m", **guard),
            labels={"app": "w"},
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    fields: dict[str, Any] = {}
    kind = draw(st.sampled_from(["none", "anti", "spread", "port"]))
    selector = {"matchLabels": {"app": "w"}}
    if kind == "anti":
        term = {"labelSelector": selector, "topologyKey": draw(KEYS)}
        fields["affinity"] = {
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        }
    elif kind == "spread":
        fields["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": draw(KEYS),
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": selector,
            }
        ]
    elif kind == "port":
        fields["ports"] = [{"containerPort": 80, "hostPort": 80}]
    cpu = draw(st.sampled_from(["250m", "500m", "1"]))
    shapes = [
        incoming(f"w{i}", spec(cpu=cpu, memory="512Mi", **dict(fields)), labels={"app": "w"})
        for i in range(draw(st.integers(1, 5)))
    ]
    return nodes, pods, shapes


@settings(max_examples=150, deadline=None)
@given(clusters())
def test_a_plan_never_breaks_a_required_rule_nor_overcommits_a_node(case: Any) -> None:
    nodes, pods, shapes = case
    result = fit(shapes, nodes, pods)
    if not result.fits:
        return
    by_name = {n.name: n for n in nodes}
    used: dict[str, Counter[str]] = {n.name: Counter() for n in nodes}
    for pod in pods:
        used[pod.node].update(pod.shape.requests)
    placed = [(s, p.node) for s, p in zip(shapes, result.placements, strict=True)]
    for shape, where in placed:
        used[where].update(shape.requests)
    for name, amounts in used.items():
        for resource, amount in amounts.items():
            assert amount <= by_name[name].allocatable[resource], (name, resource)
    coupling = shapes[0].coupling
    for pod in pods:  # existing pods' anti-affinity keeps the group's pods off their domain
        for term in pod.shape.coupling.anti_affinity if pod.shape.coupling else ():
            if kept_away(pod) == "w":
                domain = by_name[pod.node].labels[term.topology_key]
                assert all(by_name[w].labels[term.topology_key] != domain for _, w in placed)
    if coupling is None:
        return
    for term in coupling.anti_affinity:
        # Every placed pod is alone in its domain among the pods its term selects.
        mine = [by_name[where].labels[term.topology_key] for _, where in placed]
        others = Counter(mine) + Counter(by_name[p.node].labels[term.topology_key] for p in pods)
        assert all(others[domain] == 1 for domain in mine), others
    if coupling.host_ports:
        assert len({where for _, where in placed}) == len(placed)
    for constraint in coupling.spread:
        counts = Counter(by_name[where].labels[constraint.topology_key] for _, where in placed)
        counts.update(by_name[p.node].labels[constraint.topology_key] for p in pods)
        domains = {n.labels[constraint.topology_key] for n in nodes}
        if not pods:  # the group's own pods alone keep every step within maxSkew
            low = min(counts.get(d, 0) for d in domains)
            assert max(counts.values()) - low <= constraint.max_skew


@settings(max_examples=150, deadline=None)
@given(clusters())
def test_the_sure_bound_never_says_fits_where_the_simulation_does_not(case: Any) -> None:
    nodes, pods, shapes = case
    verdict = sure(shapes, nodes, pods)
    # The planner asks the bound only where no bound pod's anti-affinity selects the group.
    hazard = hazard_matches(shapes, view=view_of(cluster_state("c", nodes, pods)))
    assert hazard == any(p.shape.coupling is not None for p in pods if kept_away(p) == "w")
    if verdict is not None and verdict.fits and not hazard:
        assert fit(shapes, nodes, pods).fits
    if any(s.coupling is not None and s.coupling.filters for s in shapes):
        assert verdict is None  # a coupled pod switches the bound off


def kept_away(pod: Any) -> str:
    """The app label a bound pod's anti-affinity keeps away ('' when it has none)."""
    coupling = pod.shape.coupling
    if coupling is None or not coupling.anti_affinity:
        return ""
    selector = coupling.anti_affinity[0].selector
    return selector.requirements[0].values[0] if selector is not None else ""
