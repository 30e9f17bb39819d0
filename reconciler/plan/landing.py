"""Landing: whether a group that moved has arrived on its cluster, and whether it is there at all.

After a move reaches the branch the group is `arriving` on its (new) cluster; it has
`landed` once something of it is seen there, every pod of it seen is scheduled and every
RayService it declares is Ready; past the arrival deadline without that it has
`not-arrived`, with the evidence. The landing window (while a move counts as recent) is
the longer of the arrival deadline and the cooldown: within the cooldown no second move
could be made anyway, and after it the group is judged as usual again. Outside the window
a group of which nothing is seen is `absent`, never `running`. Pure: pods, objects and
times in, a verdict out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence

from reconciler.core.config import format_duration
from reconciler.fleet.model import Group
from reconciler.plan.stuck import unschedulable
from reconciler.status.model import KubeObject, Pod
from reconciler.status.wire import OWNER_KINDS, RAY_KINDS

ARRIVING = "arriving"
LANDED = "landed"
NOT_ARRIVED = "not-arrived"
ABSENT = "absent"
# The group declares no kind the status reads (only ConfigMaps, Services, ...): whether it
# is there cannot be seen, so it is neither landed nor absent.
NOT_OBSERVED = "not-observed"
LANDING_STATES = (ARRIVING, LANDED, NOT_ARRIVED, ABSENT, NOT_OBSERVED)

# What a cluster's status holds besides nodes: pods, their owners, the KubeRay objects.
OBSERVED_KINDS = frozenset({"Pod"}) | OWNER_KINDS | RAY_KINDS
_LISTED = 3


@dataclasses.dataclass(frozen=True)
class Landing:
    """Where a group stands on its cluster after a move (or without one): state and evidence."""

    state: str  # arriving | landed | not-arrived | absent | not-observed | "" (judge as usual)
    summary: str = ""  # one plain sentence
    evidence: tuple[str, ...] = ()  # why it has not landed (yet), one fact a line
    moved_at: dt.datetime | None = None  # when the move reached the branch
    deadline: dt.datetime | None = None  # when an arriving group becomes not-arrived
    window_end: dt.datetime | None = None  # when the group is judged as usual again


ObjectIndex = Mapping[tuple[str, str, str], KubeObject]


def index_objects(objects: Sequence[KubeObject]) -> ObjectIndex:
    """A cluster's objects by identity (kind, namespace, name), built once per pass: looking
    up each group's few manifests beats scanning every object of the cluster per group."""
    return {(o.kind, o.namespace, o.name): o for o in objects}


def own_objects(group: Group, index: ObjectIndex) -> list[KubeObject]:
    """The live objects the group declares, found by their identity (kind, namespace, name)."""
    declared = dict.fromkeys((m.kind, m.namespace, m.name) for m in group.manifests)
    return [index[key] for key in declared if key in index]


def judge_landing(
    group: Group,
    *,
    pods: Sequence[Pod],
    objects: Sequence[KubeObject],
    last_move: dt.datetime | None,
    now: dt.datetime,
) -> Landing:
    """The group's landing on its cluster from its pods and declared objects seen there.

    `pods` and `objects` are the group's own, on its current cluster only: a copy still
    being pruned on the cluster it left is not the group. "" means nothing to say: the
    move (if any) is out of the window and something of the group is seen.
    """
    if not any(m.kind in OBSERVED_KINDS for m in group.manifests):
        return Landing(
            NOT_OBSERVED,
            summary="its manifests hold no kind the status reads (pods, workloads, Ray "
            "objects), so whether it is there cannot be seen",
        )
    policy, cluster = group.policy, group.cluster
    window = max(policy.arrival_deadline, policy.cooldown)
    recent = last_move is not None and dt.timedelta(0) <= now - last_move < window
    if last_move is None or not recent:
        if pods or objects:
            return Landing("")
        return Landing(
            ABSENT,
            summary=f"absent: nothing of it is seen on {cluster} and it did not move there "
            "recently",
            evidence=(_nothing_seen(group),),
        )
    deadline = last_move + policy.arrival_deadline
    gaps = _gaps(group, pods=pods, objects=objects, now=now)
    ago = format_duration(now - last_move)
    timing = functools.partial(
        Landing, moved_at=last_move, deadline=deadline, window_end=last_move + window
    )
    if not gaps:
        return timing(
            LANDED,
            summary=f"landed on {cluster}: moved {ago} ago, every pod seen there is scheduled",
        )
    if now < deadline:
        return timing(
            ARRIVING,
            summary=f"arriving on {cluster}: moved {ago} ago, given until {deadline:%H:%M}Z "
            f"to land ({gaps[0]})",
            evidence=tuple(gaps),
        )
    return timing(
        NOT_ARRIVED,
        summary=f"not arrived on {cluster}: moved {ago} ago, past the "
        f"{format_duration(policy.arrival_deadline)} arrival deadline ({gaps[0]})",
        evidence=tuple(gaps),
    )


def _gaps(
    group: Group, *, pods: Sequence[Pod], objects: Sequence[KubeObject], now: dt.datetime
) -> list[str]:
    """Why the group has not landed yet, most telling first; empty when it has."""
    if not pods and not objects:
        return [_nothing_seen(group)]
    gaps = []
    grace = group.policy.pending_grace_period
    stuck = []
    waiting = []
    for pod in sorted(pods, key=lambda p: (p.namespace, p.name)):  # the same words every pass
        if _scheduled(pod) or pod.phase in {"Succeeded", "Failed"}:
            continue
        found = unschedulable(pod, now=now, grace=grace)
        if found is None:
            waiting.append(pod)
        else:
            stuck.append(found)
    if stuck:
        names = ", ".join(f"{s.namespace}/{s.name}" for s in stuck[:_LISTED])
        more = f" and {len(stuck) - _LISTED} more" if len(stuck) > _LISTED else ""
        message = stuck[0].message.split(" preemption:")[0].rstrip(".") or "no message"
        gaps.append(
            f"{len(stuck)} pod(s) unschedulable on {group.cluster} ({names}{more}); the "
            f"scheduler says: {message}"
        )
    if waiting:
        gaps.append(f"{len(waiting)} pod(s) not scheduled yet on {group.cluster}")
    seen = {(o.namespace, o.name): o for o in objects if o.kind == "RayService"}
    for manifest in group.manifests:
        if manifest.kind != "RayService":
            continue
        service = seen.get((manifest.namespace, manifest.name))
        label = f"RayService {manifest.namespace}/{manifest.name}"
        if service is None:
            gaps.append(f"{label} not seen on {group.cluster}")
        elif not _ready(service):
            gaps.append(f"{label} not Ready on {group.cluster}")
    return gaps


def _nothing_seen(group: Group) -> str:
    return (
        f"no object of {group.name} seen on {group.cluster}: the GitOps engine has not "
        f"applied it there (check Argo CD's Application {group.cluster}-{group.name}, or the "
        f"Flux Kustomization that applies it on {group.cluster})"
    )


def _scheduled(pod: Pod) -> bool:
    """Bound to a node, or told so by its PodScheduled condition."""
    if pod.node:
        return True
    condition = pod.condition("PodScheduled")
    return condition is not None and condition.status == "True"


def _ready(service: KubeObject) -> bool:
    condition = service.condition("Ready")
    return condition is not None and condition.status == "True"
