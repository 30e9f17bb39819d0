"""The Markdown a reviewer reads: the pull request body, `plan -o markdown`, `explain -o markdown`.

One assembly of the pieces in picture.py, so the three agree: what `plan -o markdown`
prints for a move is the body of the pull request the bot opens for it. A body stays under
GitHub's limit by showing fewer rows of detail; the verdict (what moves where, and why) is
never cut.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from reconciler.core.config import format_duration
from reconciler.plan.explain import amounts, pull_request_title, why_line
from reconciler.plan.picture import capacity_table, cell, placement_flowchart, placements_table
from reconciler.plan.planner import ClusterSummary, Decision, Plan

BODY_LIMIT = 56_000  # GitHub refuses bodies over 65,536 characters; room for the marker
DETAIL_ROWS = (None, 50, 20, 5, 0)  # rows per table, tried in turn until the body fits
_CLOSING = (
    "Close this pull request without merging to refuse the move: the same move is not "
    "proposed again during the veto window. The bot rebuilds this branch on every pass "
    "while the group stays stuck, and closes this pull request if the move is no longer needed."
)


def pull_request_body(
    decision: Decision, *, clusters: Sequence[ClusterSummary], now: dt.datetime, policy: str
) -> str:
    """The body of a move's pull request, under BODY_LIMIT: fewer rows until it fits."""
    for rows in DETAIL_ROWS:
        body = decision_markdown(decision, clusters=clusters, now=now, policy=policy, rows=rows)
        if len(body) <= BODY_LIMIT:
            return body
    verdict = _verdict(decision, now=now)
    return "\n".join([*verdict, "", "(The detail is left out: it is over GitHub's size limit.)"])


def decision_markdown(
    decision: Decision,
    *,
    clusters: Sequence[ClusterSummary],
    now: dt.datetime,
    policy: str = "",
    rows: int | None = None,
) -> str:
    """One group's decision in Markdown: verdict, flowchart, capacity, pods, candidates."""
    lines = _verdict(decision, now=now)
    if decision.state != "unknown":
        lines += ["", "### Capacity", "", capacity_table(decision, clusters=clusters, rows=rows)]
        lines += ["", _capacity_note(decision)]
    placed = placements_table(decision, rows=rows)
    if placed:
        lines += ["", f"### Where the pods land on `{decision.target}`", "", placed]
        lines += [
            "",
            "The scheduler simulation places them in creation order, as kube-scheduler would.",
        ]
    lines += _stuck_pods(decision, now=now, rows=rows)
    if decision.candidates:
        lines += ["", "### Candidate clusters", "", "| cluster | fits | detail |", "|---|---|---|"]
        shown = decision.candidates if rows is None else decision.candidates[: rows + 1]
        for candidate in shown:
            chosen = " (chosen)" if candidate.cluster == decision.target else ""
            lines.append(
                f"| `{candidate.cluster}`{chosen} | {'yes' if candidate.fits else 'no'} "
                f"| {cell(candidate.detail)} |"
            )
        if len(shown) < len(decision.candidates):
            lines.append(f"| … {len(decision.candidates) - len(shown)} more | | |")
    if decision.guards:
        lines += ["", "### Held back", ""] + [f"- {cell(g)}" for g in decision.guards]
    if policy:
        lines += ["", "### Policy", "", policy]
    if decision.action == "move":
        lines += ["", _CLOSING]
    return "\n".join(lines)


def plan_markdown(plan: Plan, *, policies: Mapping[str, str]) -> str:
    """The whole plan: a table of every group, then each move as its pull request shows it,
    then each group held back with its candidates."""
    when = plan.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"# Placement plan at {when}", "", "| group | cluster | state | decision |"]
    lines.append("|---|---|---|---|")
    for decision in plan.decisions:
        lines.append(
            f"| `{decision.group}` | `{decision.cluster}` | {decision.state} "
            f"| {decision.action}: {cell(decision.summary)} |"
        )
    unknown = [c for c in plan.clusters if not c.known]
    lines += [""] + [f"Cluster `{c.name}` is unknown: {cell(c.reason)}." for c in unknown]
    shown = [d for d in plan.decisions if d.action == "move"]
    shown += [d for d in plan.decisions if d.action != "move" and d.candidates]
    for decision in shown:
        policy = policies.get(decision.group, "")
        lines += ["", group_markdown(decision, plan=plan, policy=policy).rstrip()]
    return "\n".join(lines).rstrip() + "\n"


def group_markdown(decision: Decision, *, plan: Plan, policy: str) -> str:
    """One group under its own heading: a move exactly as its pull request shows it (the
    title, then the body), any other group with the same pieces."""
    if decision.action == "move":
        heading = pull_request_title(decision)
        body = pull_request_body(decision, clusters=plan.clusters, now=plan.now, policy=policy)
    else:
        stays = "stays" if decision.action == "stay" else "not moved"
        heading = f"{decision.group}: {decision.state} on {decision.cluster}, {stays}"
        body = decision_markdown(decision, clusters=plan.clusters, now=plan.now, policy=policy)
    return f"## {heading}\n\n{body}\n"


def _verdict(decision: Decision, *, now: dt.datetime) -> list[str]:
    """What never gets trimmed: where the group is, what happens, why, and the flowchart."""
    lines = [f"**{decision.group}** {_situation(decision)}. {_what_happens(decision)}"]
    if decision.stuck_pods or decision.reason == "failback" or decision.phase:
        lines += ["", f"> {why_line(decision, now=now)}"]
    if decision.strategy:
        lines += ["", f"Strategy {decision.strategy}."]
    if decision.demand is not None and decision.demand.shapes and decision.candidates:
        lines += ["", f"One copy asks for {amounts(decision.demand.total)}."]
    if decision.target or decision.candidates:
        lines += ["", placement_flowchart(decision)]
    return lines


def _situation(decision: Decision) -> str:
    if decision.reason == "failback":
        runs = "is absent from" if decision.state == "absent" else "runs on"
        return f"{runs} `{decision.cluster}`, away from its home cluster"
    if decision.state in {"stuck", "upgrade-stalled"}:
        return f"is {decision.state} on `{decision.cluster}`"
    return f"is on `{decision.cluster}` ({decision.state})"


def _what_happens(decision: Decision) -> str:
    source, target = f"`{decision.cluster}`", f"`{decision.target}`"
    if decision.action == "stay":
        return f"It stays: {decision.summary}."
    if decision.action != "move":
        return f"Not moved: {decision.guards[0] if decision.guards else decision.summary}."
    if decision.phase == "copy":
        return (
            f"This pull request copies the group to {target}, which fits one copy of it, and "
            f"keeps it on {source} (make-before-break, phase 1 of 2). Once the copy is healthy "
            f"the bot proposes removing it from {source}; with a global service across "
            "clusters the relocation has no downtime."
        )
    if decision.phase == "finish":
        return f"This pull request removes it from {source}: the copy on {target} is healthy."
    if decision.phase == "revert":
        return f"This pull request removes the unhealthy copy from {target}; {source} keeps it."
    return (
        f"This pull request moves the group directory to {target}, which fits one copy of it. "
        f"Merging it is the relocation: Argo CD or Flux starts the group on {target} and "
        f"prunes it from {source} (with downtime)."
    )


def _capacity_note(decision: Decision) -> str:
    note = (
        "Totals over each cluster's Ready, schedulable nodes; used = the requests of the pods "
        "bound there."
    )
    if decision.target:
        note += (
            " After the move: the target adds one copy of the group, the source frees what the "
            "group's pods take there now. Whether it fits is the scheduler simulation's verdict, "
            "pod by pod, not these sums."
        )
    return note


def _stuck_pods(decision: Decision, *, now: dt.datetime, rows: int | None) -> list[str]:
    pods = decision.stuck_pods
    if not pods:
        return []
    lines = ["", "### Pods that cannot be scheduled", ""]
    lines += ["| pod | pending for | scheduler says |", "|---|---|---|"]
    shown = pods if rows is None else pods[: max(rows, 1)]
    for pod in shown:
        lines.append(
            f"| `{pod.namespace}/{pod.name}` | {format_duration(pod.pending_for(now))} "
            f"| {cell(pod.message)} |"
        )
    if len(shown) < len(pods):
        lines.append(f"| … {len(pods) - len(shown)} more | | |")
    return lines
