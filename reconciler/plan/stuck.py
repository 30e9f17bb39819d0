"""Stuck detection: a group's pods unschedulable for lack of capacity past the grace period."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence

from reconciler.status.model import KubeObject, Pod

_CAPACITY = re.compile(r"Insufficient [\w./-]+|Too many pods")


@dataclasses.dataclass(frozen=True)
class StuckPod:
    """A pod the scheduler cannot place, with its own words for why."""

    namespace: str
    name: str
    message: str
    since: dt.datetime | None
    capacity: bool  # the scheduler named a resource shortage: a move can fix it
    past_grace: bool
    ray_cluster: str = ""  # the pod's ray.io/cluster label, for KubeRay pods

    def pending_for(self, now: dt.datetime) -> dt.timedelta:
        """How long the pod has been unschedulable."""
        return now - self.since if self.since else dt.timedelta(0)


@dataclasses.dataclass(frozen=True)
class Health:
    """What the pods say about a group on its cluster."""

    state: str  # running | stuck | upgrade-stalled | waiting | pending-other
    stuck_pods: tuple[StuckPod, ...] = ()
    ray_service: str = ""  # "<namespace>/<name>" of a stalled RayService upgrade

    @property
    def movable(self) -> bool:
        """A capacity shortage past the grace period: relocation can help."""
        return self.state in {"stuck", "upgrade-stalled"}


def unschedulable(pod: Pod, *, now: dt.datetime, grace: dt.timedelta) -> StuckPod | None:
    """The pod as a StuckPod if its PodScheduled condition is False/Unschedulable."""
    if pod.node or pod.phase not in {"Pending", ""}:
        return None
    condition = pod.condition("PodScheduled")
    if condition is None or condition.status != "False" or condition.reason != "Unschedulable":
        return None
    since = condition.last_transition or pod.created
    return StuckPod(
        namespace=pod.namespace,
        name=pod.name,
        message=condition.message,
        since=since,
        capacity=bool(_CAPACITY.search(condition.message)),
        past_grace=since is not None and now - since >= grace,
        ray_cluster=pod.labels.get("ray.io/cluster", ""),
    )


def judge(
    pods: Iterable[Pod],
    *,
    ray_services: Sequence[KubeObject],
    now: dt.datetime,
    grace: dt.timedelta,
) -> Health:
    """Judge a group from its pods on its own cluster (and its RayServices' status)."""
    stuck = [s for pod in pods if (s := unschedulable(pod, now=now, grace=grace)) is not None]
    stuck.sort(key=lambda s: (s.namespace, s.name))
    if not stuck:
        return Health(state="running")
    movable = [s for s in stuck if s.capacity and s.past_grace]
    if not movable:
        waiting = any(s.capacity for s in stuck)
        return Health(state="waiting" if waiting else "pending-other", stuck_pods=tuple(stuck))
    stalled = next((rs for rs in ray_services if _upgrade_stalled(rs, stuck)), None)
    if stalled is not None:
        return Health(
            state="upgrade-stalled",
            stuck_pods=tuple(stuck),
            ray_service=f"{stalled.namespace}/{stalled.name}",
        )
    return Health(state="stuck", stuck_pods=tuple(stuck))


def _upgrade_stalled(service: KubeObject, stuck: Sequence[StuckPod]) -> bool:
    condition = service.condition("UpgradeInProgress")
    if condition is None or condition.status != "True" or not service.pending_cluster:
        return False
    return any(
        s.namespace == service.namespace and s.ray_cluster == service.pending_cluster for s in stuck
    )
