"""Decisions in plain words: plan output, commit messages, JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.core.config import GroupPolicy, format_duration
from reconciler.core.quantity import format_amount
from reconciler.plan.landing import Landing
from reconciler.plan.planner import Decision, Plan
from reconciler.plan.stuck import StuckPod

_MAX_PODS_LISTED = 10


def amounts(resources: Mapping[str, int]) -> str:
    """Render `{cpu: 12000, memory: ...}` as "12 CPU, 48Gi memory, 2 nvidia.com/gpu"."""
    order = sorted(resources, key=lambda r: ({"cpu": 0, "memory": 1}.get(r, 2), r))
    parts = []
    for resource in order:
        label = {"cpu": "CPU", "memory": "memory"}.get(resource, resource)
        parts.append(f"{format_amount(resource, resources[resource])} {label}")
    return ", ".join(parts) or "nothing"


def stuck_line(decision: Decision, *, now: dt.datetime) -> str:
    """One sentence on what is stuck, e.g. "RayService ns/x: upgrade stalled, 3 pods ..."."""
    pods = decision.stuck_pods
    longest = max((p.pending_for(now) for p in pods), default=dt.timedelta(0))
    subject = (
        f"RayService {decision.ray_service}" if decision.ray_service else f"group {decision.group}"
    )
    what = "upgrade stalled" if decision.state == "upgrade-stalled" else "stuck"
    message = _first_message(pods)
    tail = f" ({message})" if message else ""
    return (
        f"{subject}: {what}, {len(pods)} pod{'s' if len(pods) != 1 else ''} unschedulable "
        f"for {format_duration(longest)}{tail}."
    )


def why_line(decision: Decision, *, now: dt.datetime) -> str:
    """Why the group moves, in one sentence: what is stuck, or why it goes home."""
    if decision.phase in {"finish", "revert"}:
        return f"group {decision.group}: {decision.summary}."
    if decision.reason == "failback":
        home = next((c for c in decision.candidates if c.cluster == decision.target), None)
        fit = f" ({home.detail})" if home is not None else ""
        where = {"absent": "absent from", "landed": "landed on"}.get(decision.state, "running on")
        return (
            f"group {decision.group}: {where} {decision.cluster}, away from its home "
            f"{decision.target}, which fits it again{fit} on consecutive passes."
        )
    return stuck_line(decision, now=now)


def commit_message(decision: Decision, *, now: dt.datetime) -> str:
    """The commit message of a move: title, evidence, and the trailers history reads back."""
    demand = decision.demand
    copy = f" ({amounts(_cpu_memory(demand.total))})" if demand is not None else ""
    target = next((c for c in decision.candidates if c.cluster == decision.target), None)
    landing = ""
    if target is not None and target.placements:
        landing = (
            "\nWhere kube-scheduler would put it: "
            + ", ".join(f"{p.pod} on {p.node}" for p in target.placements)
            + "."
        )
    if decision.phase in {"finish", "revert"}:
        body = f"group {decision.group}: {decision.summary}."
    else:
        body = f"{why_line(decision, now=now)}\n{decision.target} fits one copy{copy}.{landing}"
        others = [c for c in decision.candidates if c.cluster != decision.target]
        if others:
            listed = "; ".join(f"{c.cluster}: {c.detail}" for c in others)
            body += f"\nOther candidates: {listed}."
        if decision.strategy:
            body += f"\nStrategy {decision.strategy}."
    phase = f"Placement-Phase: {decision.phase}\n" if decision.phase else ""
    return (
        f"{pull_request_title(decision)}\n\n"
        f"{body}\n\n"
        f"Placement-Group: {decision.group}\n"
        f"Placement-From: {decision.cluster}\n"
        f"Placement-To: {decision.target}\n"
        f"Placement-Reason: {decision.reason}\n"
        f"{phase}"
    )


def plan_text(plan: Plan) -> str:
    """The plan as people read it: clusters, then one block per group, then problems."""
    lines = [f"Plan at {plan.now.strftime('%Y-%m-%dT%H:%M:%SZ')}", "", "Clusters:"]
    for cluster in plan.clusters:
        if cluster.known:
            lines.append(f"  {cluster.name}: {cluster.nodes} nodes, {cluster.pods} pods")
            lines += [f"    skipped {item}" for item in cluster.skipped[:_MAX_PODS_LISTED]]
        else:
            lines.append(f"  {cluster.name}: UNKNOWN ({cluster.reason}); never judged nor targeted")
    lines += ["", "Groups:"]
    for decision in plan.decisions:
        lines += ["", *decision_text(decision, now=plan.now)]
    if plan.problems:
        lines += ["", f"Problems ({len(plan.problems)}):"]
        lines += [f"  {problem}" for problem in plan.problems]
    moves = plan.moves
    lines += ["", f"{len(moves)} move{'s' if len(moves) != 1 else ''} decided."]
    return "\n".join(lines)


def decision_text(decision: Decision, *, now: dt.datetime) -> list[str]:
    """The block of lines explaining one group's decision."""
    verb = {"move": "MOVE", "stay": "stay", "report": "report"}[decision.action]
    lines = [f"  {decision.group} on {decision.cluster}: {verb}: {decision.summary}"]
    if decision.landing is not None:
        lines += [f"    evidence: {fact}" for fact in decision.landing.evidence]
    if decision.stuck_pods and decision.state in {"stuck", "upgrade-stalled", "invalid"}:
        lines.append(f"    {stuck_line(decision, now=now)}")
    for pod in decision.stuck_pods[:_MAX_PODS_LISTED]:
        lines.append(
            f"    pending {pod.namespace}/{pod.name} for {format_duration(pod.pending_for(now))}: "
            f"{pod.message or 'no message'}"
        )
    if len(decision.stuck_pods) > _MAX_PODS_LISTED:
        lines.append(f"    ... and {len(decision.stuck_pods) - _MAX_PODS_LISTED} more")
    if decision.demand is not None and decision.demand.shapes:
        lines.append(
            f"    demand (one copy): {len(decision.demand.shapes)} pods, "
            f"{amounts(decision.demand.total)}"
        )
    for candidate in decision.candidates:
        mark = "fits" if candidate.fits else "no"
        lines.append(f"    candidate {candidate.cluster}: {mark}: {candidate.detail}")
    if decision.strategy:
        lines.append(f"    strategy {decision.strategy}")
    for guard in decision.guards:
        lines.append(f"    held back: {guard}")
    return lines


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (stable keys, amounts as strings)."""
    return {
        "now": plan.now.isoformat().replace("+00:00", "Z"),
        "clusters": [
            {
                "name": c.name,
                "known": c.known,
                "reason": c.reason,
                "nodes": c.nodes,
                "pods": c.pods,
                "skipped": list(c.skipped),
            }
            for c in plan.clusters
        ],
        "decisions": [_decision_json(d, now=plan.now) for d in plan.decisions],
        "problems": [
            {
                "file": p.file,
                "field": p.field,
                "message": p.message,
                "group": p.group,
                "severity": p.severity,
            }
            for p in plan.problems
        ],
    }


def _decision_json(decision: Decision, *, now: dt.datetime) -> dict[str, Any]:
    demand = decision.demand
    return {
        "group": decision.group,
        "cluster": decision.cluster,
        "state": decision.state,
        "action": decision.action,
        "target": decision.target or None,
        "reason": decision.reason or None,
        "summary": decision.summary,
        "rayService": decision.ray_service or None,
        "stuckPods": [
            {
                "namespace": p.namespace,
                "name": p.name,
                "message": p.message,
                "pendingSeconds": int(p.pending_for(now).total_seconds()),
                "capacity": p.capacity,
            }
            for p in decision.stuck_pods
        ],
        "demand": None
        if demand is None
        else {
            "pods": len(demand.shapes),
            "total": {r: format_amount(r, a) for r, a in sorted(demand.total.items())},
            "stateful": demand.stateful,
            # DaemonSets: one more pod on each node of the target they run on.
            "perNode": [shape.name.removesuffix(" on") for _, shape in demand.daemon_sets],
            "notes": list(demand.notes),
        },
        "candidates": [
            {
                "cluster": c.cluster,
                "fits": c.fits,
                "detail": c.detail,
                "placements": [{"pod": p.pod, "node": p.node} for p in c.placements],
                # False: the fit is sure without placing each pod (only the target is placed).
                "placed": c.placed,
            }
            for c in decision.candidates
        ],
        "guards": list(decision.guards),
        "strategy": decision.strategy or None,
        "landing": _landing_json(decision.landing),
        # Which rule found the group's live pods: the GitOps engine's tracking or identity.
        "membership": dict(decision.membership),
    }


def _landing_json(landing: Landing | None) -> dict[str, Any] | None:
    """A landing state's times and evidence (None for the states of the pods)."""
    if landing is None:
        return None
    return {
        "state": landing.state,
        "movedAt": _rfc3339(landing.moved_at),
        "deadline": _rfc3339(landing.deadline),
        "evidence": list(landing.evidence),
    }


def _rfc3339(when: dt.datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_message(pods: Iterable[StuckPod]) -> str:
    for pod in pods:
        if pod.message:
            return pod.message.split(" preemption:")[0].rstrip(".")
    return ""


def _cpu_memory(total: Mapping[str, int]) -> dict[str, int]:
    return {r: a for r, a in total.items() if r in {"cpu", "memory"} or "gpu" in r}


def pull_request_title(decision: Decision) -> str:
    """The subject line of a move commit and the title of its pull request."""
    group, source, target = decision.group, decision.cluster, decision.target
    if decision.phase == "copy":
        return f"placement: copy {group} to {target} (make-before-break 1/2, from {source})"
    if decision.phase == "finish":
        return f"placement: move {group} from {source} to {target} (make-before-break 2/2)"
    if decision.phase == "revert":
        return f"placement: revert the copy of {group} on {target} (not healthy in time)"
    return f"placement: move {group} from {source} to {target}"


def policy_summary(policy: GroupPolicy) -> str:
    """The placement policy that applied to a group, in one line."""
    allowed = ", ".join(policy.allowed_clusters) if policy.allowed_clusters is not None else "any"
    selector = ", ".join(f"{k}={v}" for k, v in sorted(policy.cluster_selector.items()))
    parts = [
        f"allowed clusters: {allowed}" + (f" (selector {selector})" if selector else ""),
        f"preferred: {', '.join(policy.preferred_clusters) or 'none'}",
        f"grace period {format_duration(policy.pending_grace_period)}",
        f"cooldown {format_duration(policy.cooldown)}",
        f"veto window {format_duration(policy.veto_window)}",
        f"strategy {policy.strategy}",
        f"arrival deadline {format_duration(policy.arrival_deadline)}",
    ]
    return "; ".join(parts) + "."
