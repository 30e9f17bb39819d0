"""A group's demand: the pod shapes its manifests will create on a new cluster."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from reconciler.core.problems import Problem
from reconciler.fleet.model import Group, Manifest
from reconciler.plan.autoscaled import (
    LiveScale,
    autoscaled_replicas,
    left_to_autoscaler,
    with_replicas,
)
from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of
from reconciler.workloads.shapes import PodShape


@dataclasses.dataclass(frozen=True)
class Demand:
    """What one copy of the group needs: pods in creation order, and whether it holds data.

    `daemon_sets` holds each DaemonSet's pod with its position among `shapes`: how many
    it makes depends on the target's nodes (plan/daemon_sets.py places them per cluster).
    `notes` say where a count came from when the manifests do not say it (an HPA's).
    """

    shapes: tuple[PodShape, ...]
    stateful: bool = False
    problems: tuple[Problem, ...] = ()
    daemon_sets: tuple[tuple[int, PodShape], ...] = ()
    notes: tuple[str, ...] = ()

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


def group_demand(group: Group, *, live: LiveScale | None = None) -> Demand:
    """Turn a group's manifests into its demand; bad manifests become Problems.

    `live`: the Deployments and HPAs on the group's current cluster, for Deployments that
    leave their replicas to an HPA (see plan/autoscaled.py).
    """
    shapes: list[PodShape] = []
    daemon_sets: list[tuple[int, PodShape]] = []
    notes: list[str] = []
    stateful = False
    problems: list[Problem] = []
    for manifest in group.manifests:
        body = manifest.body
        if left_to_autoscaler(manifest):
            count, source = autoscaled_replicas(
                manifest, live=live or LiveScale(), rendered=group.manifests
            )
            body = with_replicas(body, count)
            notes.append(
                f"Deployment {manifest.namespace}/{manifest.name} leaves replicas to an HPA: "
                f"{count} from {source}"
            )
        try:
            workload = demand_of(body, default_namespace=manifest.namespace)
        except WorkloadError as error:
            problems.append(_problem(group, manifest, error))
            continue
        if workload is None:
            continue
        shapes.extend(workload.shapes)
        if workload.per_node is not None:
            daemon_sets.append((len(shapes), workload.per_node))
        stateful = stateful or workload.stateful
    return Demand(
        shapes=tuple(shapes),
        stateful=stateful,
        problems=tuple(problems),
        daemon_sets=tuple(daemon_sets),
        notes=tuple(notes),
    )


def _problem(group: Group, manifest: Manifest, error: WorkloadError) -> Problem:
    return Problem(
        manifest.file,
        f"{manifest.kind} {manifest.name}: {error.field}".rstrip(": "),
        error.message,
        group=group.name,
    )
