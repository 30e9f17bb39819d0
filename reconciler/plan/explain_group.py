"""`explain GROUP`: everything about one group's decision, down to node classes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from reconciler.core.config import format_duration
from reconciler.fleet.model import Group
from reconciler.plan.autoscaled import live_scale
from reconciler.plan.demand import group_demand
from reconciler.plan.explain import amounts, policy_summary
from reconciler.plan.fit import eligible, free_on_nodes, why_no_node
from reconciler.plan.planner import Decision
from reconciler.plan.tracking import RULE_WORDS
from reconciler.status.model import ClusterState, Node
from reconciler.workloads.shapes import PodShape

_INSTANCE_TYPE = "node.kubernetes.io/instance-type"


def explain_group(
    group: Group,
    decision: Decision,
    *,
    states: Mapping[str, ClusterState],
    now: dt.datetime,
    last_move: dt.datetime | None = None,
    open_pull_request: str = "",
) -> str:
    """The full story of one group: where, state, stuck pods, demand, candidates, guards."""
    lines = [
        f"Group {group.name} ({group.path})",
        f"  cluster:   {group.cluster}",
        f"  state:     {decision.state}",
        f"  decision:  {decision.action.upper()}: {decision.summary}",
        f"  policy:    {policy_summary(group.policy)}",
    ]
    if last_move is not None:
        until = last_move + group.policy.cooldown
        still = "in cooldown" if now < until else "cooldown over"
        lines.append(f"  last move: {last_move:%Y-%m-%dT%H:%M:%SZ} ({still}; until {until:%H:%M}Z)")
    lines += _landing(decision)
    lines.append(f"  members:   {_membership(decision)}")
    if open_pull_request:
        lines.append(f"  open pull request: {open_pull_request}")
    lines += _stuck(decision, now=now)
    demand = decision.demand or group_demand(group, live=live_scale(states.get(group.cluster)))
    lines += ["", f"Demand, one copy: {len(demand.shapes)} pods, {amounts(demand.total)}"]
    for shape, count in _distinct(demand.shapes):
        lines.append(f"  {count} x {_shape_label(shape)}: {amounts(shape.requests)}")
    for _, shape in demand.daemon_sets:
        lines.append(
            f"  plus, on each node it runs on, {shape.name.removesuffix(' on')} (DaemonSet): "
            f"{amounts(shape.requests)}"
        )
    lines += [f"  note: {note}" for note in demand.notes]
    for problem in demand.problems:
        lines.append(f"  problem: {problem}")
    lines += ["", "Clusters:"]
    for name, state in states.items():
        lines += _cluster(name, state, group=group, decision=decision, shapes=demand.shapes)
    lines += ["", "Guards:"]
    lines += [f"  {guard}" for guard in decision.guards] or ["  none held this group back"]
    return "\n".join(lines)


def _membership(decision: Decision) -> str:
    """Which rule found the group's live pods on its cluster, in words."""
    if not decision.membership:
        return f"no live pod of it seen on {decision.cluster}"
    found = [f"{count} pod(s) by {RULE_WORDS[rule]}" for rule, count in decision.membership]
    return "; ".join(found)


def _landing(decision: Decision) -> list[str]:
    """When the move reached the branch, until when it may land, and what was seen."""
    landing = decision.landing
    if landing is None:
        return []
    lines = []
    if landing.moved_at is not None and landing.deadline is not None:
        lines.append(
            f"  landing:   {landing.state}; the move reached the branch at "
            f"{landing.moved_at:%Y-%m-%dT%H:%M:%SZ}, arrival deadline {landing.deadline:%H:%M}Z"
        )
    else:
        lines.append(f"  landing:   {landing.state}")
    lines += [f"  evidence:  {fact}" for fact in landing.evidence]
    return lines


def _stuck(decision: Decision, *, now: dt.datetime) -> list[str]:
    if not decision.stuck_pods:
        return ["", "Pods: none pending"]
    lines = ["", f"Pods pending ({len(decision.stuck_pods)}):"]
    for pod in decision.stuck_pods:
        kind = "capacity" if pod.capacity else "not capacity"
        lines.append(
            f"  {pod.namespace}/{pod.name}, {format_duration(pod.pending_for(now))} ({kind}): "
            f"{pod.message or 'no message'}"
        )
    return lines


def _cluster(
    name: str, state: ClusterState, *, group: Group, decision: Decision, shapes: Sequence[PodShape]
) -> list[str]:
    candidate = next((c for c in decision.candidates if c.cluster == name), None)
    role = "current" if name == group.cluster else "candidate"
    if not state.known:
        return [f"  {name} ({role}): UNKNOWN: {state.reason}"]
    verdict = ""
    if candidate is not None:
        verdict = f": {'fits' if candidate.fits else 'no'}: {candidate.detail}"
    lines = [f"  {name} ({role}){verdict}"]
    room = free_on_nodes(state)
    for label, nodes in _node_classes(state.nodes):
        lines.append(f"    {len(nodes)} x {label}")
        for shape, _ in _distinct(shapes):
            lines.append(f"      {_shape_label(shape)}: {_fit_in_class(shape, nodes, room)}")
    return lines


def _node_classes(nodes: Sequence[Node]) -> list[tuple[str, list[Node]]]:
    """Nodes grouped by what the scheduler cares about: size, taints, readiness, type."""
    classes: dict[str, list[Node]] = {}
    for node in nodes:
        taints = ",".join(sorted(f"{t.key}={t.value}:{t.effect}" for t in node.taints))
        state = "" if node.ready and not node.unschedulable else " (not schedulable)"
        kind = node.labels.get(_INSTANCE_TYPE, "")
        label = f"{kind + ' ' if kind else ''}[{amounts(_sized(node.allocatable))}]"
        label += f" taints {taints}" if taints else ""
        classes.setdefault(label + state, []).append(node)
    return sorted(classes.items())


def _fit_in_class(
    shape: PodShape, nodes: Sequence[Node], room: Mapping[str, Mapping[str, int]]
) -> str:
    usable = [n for n in nodes if eligible(shape, n)]
    fits_now = [
        n
        for n in usable
        if all(room[n.name].get(r, 0) >= a for r, a in shape.requests.items())
        and room[n.name].get("pods", 0) >= 1000
    ]
    if fits_now:
        return f"fits on {len(fits_now)} of {len(nodes)} now"
    return why_no_node(shape, nodes=nodes, room=room) or "no node accepts it"


def _distinct(shapes: Sequence[PodShape]) -> list[tuple[PodShape, int]]:
    seen: dict[tuple[object, ...], tuple[PodShape, int]] = {}
    for shape in shapes:
        key = (
            tuple(sorted(shape.requests.items())),
            shape.tolerations,
            tuple(sorted(shape.node_selector.items())),
            shape.required_affinity,
            _shape_label(shape),
        )
        first, count = seen.get(key, (shape, 0))
        seen[key] = (first, count + 1)
    return list(seen.values())


def _shape_label(shape: PodShape) -> str:
    """The pod's role without its ordinal: "ns/x cpu-workers worker" for "... worker 2"."""
    words = shape.name.split(" ")
    return " ".join(words[:-1]) if len(words) > 2 and words[-1].isdigit() else shape.name


def _sized(allocatable: Mapping[str, int]) -> dict[str, int]:
    return {r: a for r, a in allocatable.items() if r in {"cpu", "memory"} or "gpu" in r}
