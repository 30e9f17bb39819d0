"""A move drawn for reviewers: a Mermaid flowchart, a capacity table, where each pod lands.

Pure pieces of Markdown, each from a Decision and the pass's cluster summaries: the pull
request body, `plan -o markdown`, `explain -o markdown` and the pre-merge check put them
together (plan/markdown.py). Mermaid text sticks to the plainest grammar: generated node
ids, every label quoted, the characters Mermaid reads specially written as entity codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.core.quantity import format_amount
from reconciler.plan.choice import Candidate
from reconciler.plan.planner import ClusterSummary, Decision
from reconciler.plan.usage import shifted

FLOW_CANDIDATES = 8  # other candidates drawn; the tables list them all
# "#" first: the codes written for the others start with it.
_ENTITIES: tuple[tuple[str, str], ...] = (
    ("#", "#35;"),
    ('"', "#quot;"),
    ("<", "#lt;"),
    (">", "#gt;"),
    ("|", "#124;"),
    ("`", "#96;"),
)


def placement_flowchart(decision: Decision, *, others: int = FLOW_CANDIDATES) -> str:
    """A fenced Mermaid flowchart: source ==> target (group and reason on the arrow), and
    up to `others` other candidates, each with the one-line reason it was not chosen."""
    lines = ["```mermaid", "flowchart LR", f'    src["{mermaid_text(decision.cluster)} (now)"]']
    if decision.target:
        lines.append(f'    dst["{mermaid_text(decision.target)}"]')
        arrow = mermaid_text(f"{decision.group}: {_reason_words(decision)}")
        lines.append(f'    src ==>|"{arrow}"| dst')
    rest = [c for c in decision.candidates if c.cluster != decision.target]
    for index, candidate in enumerate(rest[:others], start=1):
        lines.append(f'    c{index}["{mermaid_text(candidate.cluster)}"]')
        why = mermaid_text(_not_chosen(candidate, decision=decision))
        lines.append(f'    src -.->|"{why}"| c{index}')
    if len(rest) > others:
        more = f"{len(rest) - others} more candidates (see the tables)"
        lines += [f'    more["{mermaid_text(more)}"]', "    src -.- more"]
    lines += [
        "    classDef target fill:#dafbe1,stroke:#1a7f37",
        "    classDef other fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3",
    ]
    if decision.target:
        lines.append("    class dst target")
    drawn = [f"c{i}" for i in range(1, min(len(rest), others) + 1)]
    drawn += ["more"] if len(rest) > others else []
    if drawn:
        lines.append(f"    class {','.join(drawn)} other")
    return "\n".join([*lines, "```"])


def mermaid_text(text: str, *, limit: int = 90) -> str:
    """Text safe inside a quoted Mermaid label: one line, short, special characters coded."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    for raw, code in _ENTITIES:
        text = text.replace(raw, code)
    return text


def capacity_table(
    decision: Decision, *, clusters: Sequence[ClusterSummary], rows: int | None = None
) -> str:
    """Per cluster, for each resource the group asks for: allocatable, used now and, for a
    move, used after it; the source, the target, then up to `rows` other candidates."""
    resources = _resources(decision)
    summaries = {c.name: c for c in clusters}
    after = bool(decision.target)
    head = ["cluster", "role", "fits"]
    for resource in resources:
        label = _resource_label(resource)
        head += [f"{label} allocatable", f"{label} used now"]
        head += [f"{label} after the move"] if after else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = [(decision.cluster, "source" if decision.target else "current", "")]
    if decision.target:
        order.append((decision.target, "target", "yes"))
    rest = [c for c in decision.candidates if c.cluster != decision.target]
    shown = rest if rows is None else rest[:rows]
    order += [(c.cluster, "candidate", "yes" if c.fits else "no") for c in shown]
    for name, role, fits in order:
        cells = [f"`{name}`", role, fits or "—"]
        usage = summaries[name].usage if name in summaries else None
        for resource in resources:
            if usage is None:
                cells += ["unknown"] * (3 if after else 2)
                continue
            now = usage.used.get(resource, 0)
            cells += [_amount(resource, usage.allocatable.get(resource, 0)), _amount(resource, now)]
            if after:
                cells.append(_after(resource, now, _change(decision, name, resource)))
        lines.append("| " + " | ".join(cells) + " |")
    if len(shown) < len(rest):
        fitting = sum(1 for c in rest[len(shown) :] if c.fits)
        lines.append(
            f"| … {len(rest) - len(shown)} more candidates ({fitting} of them fit) |"
            + " |" * (len(head) - 1)
        )
    return "\n".join(lines)


def placements_table(decision: Decision, *, rows: int | None = None) -> str:
    """The group's pods in creation order, what each asks for, and the node the scheduler
    simulation puts it on in the target ('' when nothing was placed)."""
    target = next((c for c in decision.candidates if c.cluster == decision.target), None)
    if target is None or not target.placements:
        return ""
    shapes = decision.demand.shapes if decision.demand is not None else ()
    # Shapes and placements pair by position (names are not unique), when both are whole.
    asks = [s.requests for s in shapes] if len(shapes) == len(target.placements) else []
    lines = ["| pod | asks for | lands on |", "|---|---|---|"]
    shown = target.placements if rows is None else target.placements[:rows]
    for index, placement in enumerate(shown):
        ask = _amounts(asks[index]) if index < len(asks) else ""
        lines.append(f"| `{cell(placement.pod)}` | {ask} | `{placement.node}` |")
    if len(shown) < len(target.placements):
        lines.append(f"| … {len(target.placements) - len(shown)} more pods | | |")
    return "\n".join(lines)


def cell(text: str, *, limit: int = 300) -> str:
    """Text safe in a Markdown table cell: one line, pipes escaped, cut when very long."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("|", "\\|")


def _reason_words(decision: Decision) -> str:
    reason = decision.reason or "move"
    if decision.phase == "copy":
        return f"{reason}, make-before-break 1/2: copy"
    if decision.phase == "finish":
        return "make-before-break 2/2: remove the source copy"
    if decision.phase == "revert":
        return f"{reason}: revert the copy, the source keeps the group"
    return reason


def _not_chosen(candidate: Candidate, *, decision: Decision) -> str:
    if candidate.fits and decision.target:
        return "fits too, not chosen: preferred order, then most room left"
    if candidate.fits:
        return "fits one copy"
    return f"no: {candidate.detail}"


def _resources(decision: Decision) -> list[str]:
    asked = decision.demand.total if decision.demand is not None else {}
    names = [r for r, amount in asked.items() if amount > 0 and r != "pods"] or ["cpu", "memory"]
    return sorted(names, key=lambda r: ({"cpu": 0, "memory": 1}.get(r, 2), r))


def _change(decision: Decision, cluster: str, resource: str) -> int:
    """How much of `resource` the move adds to (or frees on) `cluster`."""
    adds = decision.demand.total.get(resource, 0) if decision.demand is not None else 0
    frees = decision.own_use.get(cluster, {}).get(resource, 0)
    if cluster == decision.target:
        return {"finish": 0, "revert": -frees}.get(decision.phase, adds)
    if cluster == decision.cluster:
        return 0 if decision.phase in {"copy", "revert"} else -frees
    return 0


def _after(resource: str, now: int, change: int) -> str:
    after = shifted({resource: now}, {resource: change}, sign=1)[resource]
    if change == 0:
        return _amount(resource, after)
    sign = "+" if change > 0 else "-"
    return f"**{_amount(resource, after)}** ({sign}{format_amount(resource, abs(change))})"


def _amount(resource: str, milli: int) -> str:
    amount = format_amount(resource, milli)
    return f"{amount} CPU" if resource == "cpu" else amount


def _amounts(requests: Mapping[str, int]) -> str:
    order = sorted(requests, key=lambda r: ({"cpu": 0, "memory": 1}.get(r, 2), r))
    return ", ".join(
        _amount(r, requests[r]) + ("" if r in {"cpu", "memory"} else f" {r}")
        for r in order
        if r != "pods"
    )


def _resource_label(resource: str) -> str:
    return {"cpu": "CPU", "memory": "memory"}.get(resource, resource)
