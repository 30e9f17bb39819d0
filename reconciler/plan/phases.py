"""Make-before-break: when to finish a move in progress, wait for it, or revert it.

Phase one (the copy) put the group under the target next to the source. Phase two (the
finish) is decided only once every pod of the copy that should run is Running and Ready
on the target and its RayServices report Ready; if that does not happen within the
deadline, the copy is reverted instead. Pure: pods and objects in, a verdict out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence

from reconciler.core.config import format_duration
from reconciler.status.model import Condition, KubeObject, Pod
from reconciler.workloads.shapes import PodShape


@dataclasses.dataclass(frozen=True)
class RayClusterStatus:
    """What a RayCluster's status says about it: state, conditions, the workers it wants.

    `desired_workers` is status.desiredWorkerReplicas: the worker pods of every group
    (replicas x numOfHosts), where replicas is what the Ray autoscaler last asked for.
    """

    namespace: str
    name: str
    state: str = ""  # status.state: ready | failed | suspended ("" when not reported)
    conditions: tuple[Condition, ...] = ()
    desired_workers: int | None = None  # None: not reported

    def condition_true(self, kind: str) -> bool:
        """Whether the status has that condition and it is True."""
        return any(c.type == kind and c.status == "True" for c in self.conditions)


def ray_cluster_status(obj: KubeObject) -> RayClusterStatus:
    """A RayCluster object read from a cluster, as RayClusterStatus."""
    return RayClusterStatus(
        namespace=obj.namespace,
        name=obj.name,
        state=obj.state,
        conditions=obj.conditions,
        desired_workers=obj.desired_workers,
    )


@dataclasses.dataclass(frozen=True)
class TargetHealth:
    """How the copy on the target is doing."""

    healthy: bool
    ready: int  # pods Running and Ready
    expected: int  # pods that should be Running and Ready
    detail: str


# Ray worker shapes are named "<namespace>/<name> <groupName> worker <n>" (workloads/ray.py);
# names hold no spaces, so no other workload's shape ends that way.
_RAY_WORKER_SHAPE = re.compile(r"^\S+ \S+ worker \d+$")
_LISTED = 3


def ray_worker_shapes(shapes: Sequence[PodShape]) -> int:
    """How many of a demand's pods are Ray workers (what the autoscaler may scale)."""
    return sum(1 for shape in shapes if _RAY_WORKER_SHAPE.match(shape.name))


def target_health(
    pods: Sequence[Pod],
    *,
    expected: int,
    ray_services: Sequence[KubeObject],
    ray_workers: int = 0,
    ray_clusters: Sequence[RayClusterStatus] = (),
) -> TargetHealth:
    """Healthy: every pod that should run is Running and Ready, enough of them, RayServices Ready.

    `expected` pods come from the manifests, `ray_workers` of them Ray workers. Pods that
    need not run do not block: Succeeded pods (finished Jobs; they count as done) and
    Failed pods that were replaced (their owner has a newer pod). When every RayCluster
    of the copy reports the workers its autoscaler asks for, that number replaces the
    manifests' worker count.
    """
    finished = [p for p in pods if p.phase == "Succeeded"]
    replaced = [p for p in pods if p.phase == "Failed" and _replaced(p, pods=pods)]
    aside = {id(p) for p in finished + replaced}
    should_run = [p for p in pods if id(p) not in aside]
    ready = [p for p in should_run if p.phase == "Running" and _is_ready(p)]
    blocking = [p for p in should_run if not (p.phase == "Running" and _is_ready(p))]
    needed, asked = expected, _workers_asked(ray_clusters, pods=pods)
    notes = []
    if asked is not None and ray_workers and asked != ray_workers:
        needed = expected - ray_workers + asked
        notes.append(f"the Ray autoscaler asks for {asked} worker(s), the manifests {ray_workers}")
    needed = max(needed - len(finished), 0)
    detail = f"{len(ready)}/{needed} pods ready"
    if finished:
        notes.append(f"{len(finished)} finished (Succeeded) pod(s) done")
    if replaced:
        notes.append(f"{len(replaced)} failed pod(s) replaced by newer ones")
    not_ready = [rs.name for rs in ray_services if not _condition_true(rs, "Ready")]
    if not_ready:
        notes.insert(0, f"RayService {', '.join(not_ready)} not Ready")
    if blocking:
        shown = ", ".join(f"{p.name} ({_why_blocking(p)})" for p in blocking[:_LISTED])
        more = f" and {len(blocking) - _LISTED} more" if len(blocking) > _LISTED else ""
        notes.append(f"not ready: {shown}{more}")
    detail = "; ".join([detail, *notes])
    healthy = len(ready) >= needed and not blocking and not not_ready
    return TargetHealth(healthy, len(ready), needed, detail)


def phase_verdict(
    health: TargetHealth,
    *,
    started: dt.datetime | None,
    now: dt.datetime,
    deadline: dt.timedelta,
) -> tuple[str, str]:
    """("finish" | "revert" | "wait", plain words) for a move in progress."""
    if health.healthy:
        return "finish", f"the copy is healthy ({health.detail})"
    if started is not None and now - started >= deadline:
        return "revert", (
            f"the copy did not turn healthy within {format_duration(deadline)} ({health.detail})"
        )
    until = f" until {started + deadline:%H:%M}Z" if started is not None else ""
    return "wait", f"waiting for the copy to turn healthy{until} ({health.detail})"


def _replaced(pod: Pod, *, pods: Sequence[Pod]) -> bool:
    """A failed pod whose owner made a newer pod in its place (an evicted replica, a Job's
    retry). Ray pods must also share their group (ray.io/group): a new worker does not
    replace a failed head."""
    owner = _controller(pod)
    if owner is None:
        return False
    group = pod.labels.get("ray.io/group", "")
    for other in pods:
        if other is pod or other.phase == "Failed" or _controller(other) != owner:
            continue
        if other.labels.get("ray.io/group", "") != group:
            continue
        if pod.created is None or other.created is None or other.created > pod.created:
            return True
    return False


def _controller(pod: Pod) -> tuple[str, str, str] | None:
    owner = next((o for o in pod.owners if o.controller), pod.owners[0] if pod.owners else None)
    return None if owner is None else (owner.kind, owner.name, owner.uid)


def _workers_asked(clusters: Sequence[RayClusterStatus], *, pods: Sequence[Pod]) -> int | None:
    """The Ray workers the copy's autoscalers ask for: None unless every RayCluster that
    has pods in the copy reports it."""
    named = {p.labels["ray.io/cluster"] for p in pods if p.labels.get("ray.io/cluster")}
    if not named:
        return None
    reports = {c.name: c.desired_workers for c in clusters if c.name in named}
    if set(reports) != named or any(count is None for count in reports.values()):
        return None
    return sum(count for count in reports.values() if count is not None)


def _why_blocking(pod: Pod) -> str:
    if pod.phase == "Running":
        return "Running, not Ready"
    return pod.phase


def _is_ready(pod: Pod) -> bool:
    condition = pod.condition("Ready")
    return condition is not None and condition.status == "True"


def _condition_true(obj: KubeObject, kind: str) -> bool:
    condition = obj.condition(kind)
    return condition is not None and condition.status == "True"
