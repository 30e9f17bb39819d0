"""Make-before-break: when to finish a move in progress, wait for it, or revert it.

Phase one (the copy) put the group under the target next to the source. Phase two (the
finish) is decided only once every pod of the group runs and is Ready on the target and
its RayServices report Ready; if that does not happen within the deadline, the copy is
reverted instead. Pure: pods and objects in, a verdict out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from reconciler.core.config import format_duration
from reconciler.status.model import KubeObject, Pod


@dataclasses.dataclass(frozen=True)
class TargetHealth:
    """How the copy on the target is doing."""

    healthy: bool
    ready: int  # pods Running and Ready
    expected: int  # pods the manifests create
    detail: str


def target_health(
    pods: Sequence[Pod], *, expected: int, ray_services: Sequence[KubeObject]
) -> TargetHealth:
    """Healthy: at least `expected` pods, every one Running and Ready; RayServices Ready."""
    ready = [p for p in pods if p.phase == "Running" and _is_ready(p)]
    waiting = [p for p in pods if p not in ready and p.phase not in {"Succeeded"}]
    services_ready = all(_condition_true(rs, "Ready") for rs in ray_services)
    if len(ready) >= expected and not waiting and services_ready:
        return TargetHealth(True, len(ready), expected, f"{len(ready)}/{expected} pods ready")
    detail = f"{len(ready)}/{expected} pods ready"
    not_ready = [rs.name for rs in ray_services if not _condition_true(rs, "Ready")]
    if not_ready:
        detail += f"; RayService {', '.join(not_ready)} not Ready"
    return TargetHealth(False, len(ready), expected, detail)


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


def _is_ready(pod: Pod) -> bool:
    condition = pod.condition("Ready")
    return condition is not None and condition.status == "True"


def _condition_true(obj: KubeObject, kind: str) -> bool:
    condition = obj.condition(kind)
    return condition is not None and condition.status == "True"
