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


def headroom(fit: FitResult, nodes: Sequence[Node]) -> float:
    """Mean over CPU and memory of the fraction of the cluster left free after placing."""
    fractions = []
    for resource in ("cpu", "memory"):
        capacity = sum(
            n.allocatable.get(resource, 0) for n in nodes if n.ready and not n.unschedulable
        )
        if capacity > 0:
            fractions.append(fit.free_after.get(resource, 0) / capacity)
    return sum(fractions) / len(fractions) if fractions else 0.0


def pick_target(candidates: Sequence[Candidate], *, preferred: Sequence[str]) -> Candidate | None:
    """Preferred order first, then the most headroom left, ties by name: deterministic."""
    rank: Mapping[str, int] = {name: index for index, name in enumerate(preferred)}
    fitting = [c for c in candidates if c.fits]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (rank.get(c.cluster, len(rank)), -c.headroom, c.cluster))
