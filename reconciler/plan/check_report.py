"""The pre-merge check in words: plain text, JSON, and a compact Markdown comment."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reconciler.core.quantity import format_amount
from reconciler.plan.check import CheckReport, GroupCheck

_ICONS = {"fits": "✅", "will stall": "⚠️", "fits nowhere": "❌", "unknown": "❔"}


def check_text(report: CheckReport) -> str:
    """The verdicts for a terminal: one paragraph per changed group."""
    if not report.groups:
        return "no placement group changes: nothing to check"
    lines = []
    for check in report.groups:
        lines.append(f"{check.group} ({check.change}, on {check.cluster}): {check.verdict.upper()}")
        lines += [f"  {line}" for line in _evidence(check)]
    lines += [f"problem: {problem}" for problem in report.fleet_problems]
    return "\n".join(lines)


def _evidence(check: GroupCheck) -> list[str]:
    lines = [check.summary]
    if check.demand:
        lines.append(f"one copy: {_amounts(check.demand)}")
    lines += [f"rollout of {r.workload}: {r.why}" for r in check.rollouts if r.why]
    if check.after_merge:
        lines.append(check.after_merge)
    lines += [str(problem) for problem in check.problems]
    return lines


def check_json(report: CheckReport, *, fail_on: Collection[str]) -> dict[str, Any]:
    """The verdicts as data (amounts in milli-units, as everywhere in our JSON)."""
    return {
        "failed": bool(report.failing(fail_on)),
        "groups": [
            {
                "group": c.group,
                "change": c.change,
                "cluster": c.cluster,
                "verdict": c.verdict,
                "summary": c.summary,
                "demand": dict(c.demand),
                "surge": dict(c.surge),
                "free": dict(c.free),
                "short": c.short,
                "rollouts": [
                    {
                        "workload": r.workload,
                        "newPods": len(r.new),
                        "released": r.released,
                        "why": r.why,
                    }
                    for r in c.rollouts
                ],
                "afterMerge": c.after_merge,
                "target": c.target,
                "candidates": [
                    {"cluster": k.cluster, "fits": k.fits, "detail": k.detail} for k in c.candidates
                ],
                "problems": [str(p) for p in c.problems],
            }
            for c in report.groups
        ],
        "problems": [str(p) for p in report.fleet_problems],
    }


def check_markdown(report: CheckReport, *, fail_on: Collection[str]) -> str:
    """A pull-request comment: a headline, one table row per group, the evidence below."""
    failing = report.failing(fail_on)
    if not report.groups:
        return "### Placement capacity check\n\nNo placement group changes: nothing to check."
    headline = (
        f"{len(failing)} of {len(report.groups)} changed group(s) will not roll out as is"
        if failing
        else f"every changed group fits ({len(report.groups)})"
    )
    lines = [
        "### Placement capacity check",
        "",
        f"**{headline}**",
        "",
        "| group | change | cluster | verdict |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.group}` | {c.change} | {c.cluster} | {_ICONS.get(c.verdict, '')} {c.verdict} |"
        for c in report.groups
    ]
    for check in report.groups:
        lines += ["", f"**`{check.group}`**: {_escape(check.summary)}"]
        lines += [f"- {_escape(line)}" for line in _evidence(check)[1:]]
    if report.fleet_problems:
        lines += ["", "Problems in the fleet repo at head:"]
        lines += [f"- {_escape(str(p))}" for p in report.fleet_problems]
    return "\n".join(lines)


def _amounts(amounts: dict[str, int] | Any) -> str:
    return ", ".join(
        f"{format_amount(r, a)} {'CPU' if r == 'cpu' else r if r != 'memory' else ''}".rstrip()
        for r, a in sorted(amounts.items())
        if r != "pods"
    )


def _escape(text: str) -> str:
    """Keep table pipes and HTML out of the comment's structure."""
    return text.replace("|", "\\|").replace("<", "&lt;")
