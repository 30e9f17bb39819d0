"""Target choice: among the clusters where the group fits, the preferred, then the roomiest."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.plan.fit import FitResult, Placement
from reconciler.status.model import Node


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One other cluster considered for a group, and the verdict."""

    cluster: str
    fits: bool
    detail: str  # plain words: where it would land, or what is short, or why it was not tried
    placements: tuple[Placement, ...] = ()
    headroom: float = 0.0  # mean fraction of CPU and memory left free after the move
    # False for a sure verdict (sure_fit): it fits, the pods were not placed node by node.
    placed: bool = True
    # A "may fit" not proven (pod-to-pod rules, or scores only the full simulation reads):
    # the planner simulates it in full before choosing it.
    provisional: bool = False


def headroom(fit: FitResult, nodes: Sequence[Node]) -> float:
    """Mean over CPU and memory of the fraction of the cluster left free after placing."""
    fractions = []
    for resource, capacity in zip(_RESOURCES, _capacity(nodes), strict=True):
        if capacity > 0:
            fractions.append(fit.free_after.get(resource, 0) / capacity)
    return sum(fractions) / len(fractions) if fractions else 0.0


_RESOURCES = ("cpu", "memory")
# A cluster's schedulable capacity, by the identity of its node sequence (kept alive here so
# that the identity is not reused): every fitting candidate of a pass asks for it again.
_CAPACITIES: dict[int, tuple[Sequence[Node], tuple[int, ...]]] = {}
_CAPACITIES_LIMIT = 1024


def _capacity(nodes: Sequence[Node]) -> tuple[int, ...]:
    cached = _CAPACITIES.get(id(nodes))
    if cached is not None and cached[0] is nodes:
        return cached[1]
    capacity = tuple(
        sum(n.allocatable.get(resource, 0) for n in nodes if n.ready and not n.unschedulable)
        for resource in _RESOURCES
    )
    if isinstance(nodes, tuple):  # only an immutable sequence can be remembered
        if len(_CAPACITIES) >= _CAPACITIES_LIMIT:
            _CAPACITIES.clear()
        _CAPACITIES[id(nodes)] = (nodes, capacity)
    return capacity


def pick_target(candidates: Sequence[Candidate], *, preferred: Sequence[str]) -> Candidate | None:
    """Preferred order first, then the most headroom left, ties by name: deterministic."""
    rank: Mapping[str, int] = {name: index for index, name in enumerate(preferred)}
    fitting = [c for c in candidates if c.fits]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (rank.get(c.cluster, len(rank)), -c.headroom, c.cluster))
