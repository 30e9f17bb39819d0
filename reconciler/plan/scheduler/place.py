"""Where a group's fit is decided: the fast path of plan/fit.py when it ranks every pod
exactly, else the full simulation of every default plugin (plan/scheduler/simulate.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.plan.fit import FitResult, Rankings, ShapeKey, fits_group
from reconciler.plan.scheduler.board import ClusterView
from reconciler.plan.scheduler.selectors import term_matches_pod
from reconciler.plan.scheduler.simulate import simulate
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape, Resources


def fits_cluster(
    shapes: Sequence[PodShape],
    *,
    cluster: str,
    nodes: Sequence[Node],
    free: Mapping[str, Mapping[str, int]],
    reserve: Resources,
    view: ClusterView,
    runtime_overheads: Mapping[str, Resources] | None = None,
    rankings: Rankings | None = None,
    keys: Sequence[ShapeKey] | None = None,
    exact: bool = True,
    proven: bool = False,
) -> FitResult:
    """Whether the cluster takes the whole group, as kube-scheduler would place it.

    With `exact` False (a candidate the choice may never reach), a group whose filters the
    fast path reads exactly but whose scores it does not (preferences, default spreading,
    PreferNoSchedule taints) is ranked by the fast path: a "fits" is then provisional, and
    the planner runs the full simulation before it chooses that cluster. With `proven`
    (sure_fit's bound already proved the verdict, which no score changes), the fast path's
    placements are kept: extra scores would only move pods between nodes that fit.
    """
    shapes, missing = with_runtime_overhead(shapes, runtime_overheads or {})
    if missing:
        return FitResult(
            cluster=cluster,
            fits=False,
            short=f'pod rejected: RuntimeClass "{missing}" not found on the cluster',
        )
    # A bound pod whose required anti-affinity selects one of the group's pods.
    hazard = hazard_matches(shapes, view=view)
    full = hazard or needs_full_simulation(shapes, nodes=nodes)
    if full and (exact or hazard or filters_coupled(shapes)):
        return simulate(shapes, cluster=cluster, nodes=nodes, free=free, reserve=reserve, view=view)
    fit = fits_group(
        shapes,
        cluster=cluster,
        nodes=nodes,
        free=free,
        reserve=reserve,
        rankings=rankings,
        keys=keys,
        kube_minor=view.kube_minor,
    )
    if full and fit.fits and not proven:
        return dataclasses.replace(fit, placements=(), placed=False, provisional=True)
    return fit


def needs_full_simulation(shapes: Sequence[PodShape], *, nodes: Sequence[Node]) -> bool:
    """Whether the fast path would rank some pod wrongly: a pod with more than resources,
    taints and selectors, or a PreferNoSchedule taint (bound pods' anti-affinity aside)."""
    if any(not shape.scored_alone for shape in shapes):
        return True
    return any(t.effect == "PreferNoSchedule" for node in nodes for t in node.taints)


def filters_coupled(shapes: Sequence[PodShape]) -> bool:
    """Whether some pod's own rules make its filters depend on other pods (bound pods'
    anti-affinity aside): the fast path cannot even filter."""
    return any(shape.coupling is not None and shape.coupling.filters for shape in shapes)


def hazard_matches(shapes: Sequence[PodShape], *, view: ClusterView) -> bool:
    """Whether a bound pod's required anti-affinity selects one of the group's pods."""
    hazards = view.hazards
    if not hazards:
        return False
    kinds = {(shape.namespace, tuple(sorted(shape.labels.items()))) for shape in shapes}
    return any(
        term_matches_pod(
            term,
            owner_namespace=owner,
            namespace=namespace,
            labels=dict(labels),
            namespace_labels=view.namespace_labels,
        )
        for owner, term in hazards
        for namespace, labels in kinds
    )


def with_runtime_overhead(
    shapes: Sequence[PodShape], overheads: Mapping[str, Resources]
) -> tuple[Sequence[PodShape], str]:
    """The shapes with their RuntimeClass's overhead added to their requests (the
    RuntimeClass admission plugin, plugin/pkg/admission/runtimeclass), and the name of a
    RuntimeClass the cluster lacks ('' when none). No RuntimeClass read at all (an older
    snapshot, or none served) adds nothing and refuses nothing."""
    if not any(shape.runtime_class for shape in shapes):
        return shapes, ""
    if not overheads:
        return [dataclasses.replace(s, runtime_class="") for s in shapes], ""
    found = []
    for shape in shapes:
        if not shape.runtime_class:
            found.append(shape)
            continue
        overhead = overheads.get(shape.runtime_class)
        if overhead is None:
            return shapes, shape.runtime_class
        requests = dict(shape.requests)
        for resource, amount in overhead.items():
            requests[resource] = requests.get(resource, 0) + amount
        found.append(dataclasses.replace(shape, requests=requests, runtime_class=""))
    return found, ""
