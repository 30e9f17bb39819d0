"""A group's demand: the pod shapes its manifests will create on a new cluster."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from reconciler.core.problems import Problem
from reconciler.fleet.model import Group
from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of
from reconciler.workloads.shapes import PodShape


@dataclasses.dataclass(frozen=True)
class Demand:
    """What one copy of the group needs: pods in creation order, and whether it holds data."""

    shapes: tuple[PodShape, ...]
    stateful: bool = False
    problems: tuple[Problem, ...] = ()

    @property
    def total(self) -> dict[str, int]:
        """Requests summed over every pod, per resource (milli-units)."""
        return requests_summed(self.shapes)


def requests_summed(shapes: Iterable[PodShape]) -> dict[str, int]:
    """The pods' requests summed per resource (milli-units)."""
    total: dict[str, int] = {}
    for shape in shapes:
        for resource, amount in shape.requests.items():
            total[resource] = total.get(resource, 0) + amount
    return total


def group_demand(group: Group) -> Demand:
    """Turn a group's manifests into its demand; bad manifests become Problems."""
    shapes: list[PodShape] = []
    stateful = False
    problems: list[Problem] = []
    for manifest in group.manifests:
        try:
            workload = demand_of(manifest.body, default_namespace=manifest.namespace)
        except WorkloadError as error:
            problems.append(
                Problem(
                    manifest.file,
                    f"{manifest.kind} {manifest.name}: {error.field}".rstrip(": "),
                    error.message,
                    group=group.name,
                )
            )
            continue
        if workload is None:
            continue
        shapes.extend(workload.shapes)
        stateful = stateful or workload.stateful
    return Demand(shapes=tuple(shapes), stateful=stateful, problems=tuple(problems))
