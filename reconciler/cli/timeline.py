"""`history` as data and as a picture: each group's placements, step by step.

The records come from the move commits' trailers (gitrepo/history.py); this module only
arranges them per group, says where the group is after each step (a make-before-break copy
puts it on two clusters at once), and renders that as JSON or as a Mermaid timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from reconciler.gitrepo.history import MoveRecord

_STEP_WORDS = {
    "move": "move",
    "copy": "copy (make-before-break 1/2)",
    "finish": "finish (make-before-break 2/2)",
    "revert": "revert the copy",
}


def placed_on(record: MoveRecord) -> list[str]:
    """The clusters the group is on once this step has landed."""
    if record.phase == "copy":
        return [record.source, record.target]
    if record.phase == "revert":
        return [record.source]
    return [record.target]


def history_json(records: Sequence[MoveRecord]) -> dict[str, Any]:
    """Every group's placements as JSON-ready data, oldest step first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.group, []).append(
            {
                "reached": f"{record.when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
                "step": record.step,
                "from": record.source,
                "to": record.target,
                "reason": record.reason or None,
                "on": placed_on(record),
                "pullRequest": record.pull_request or None,
                "commit": record.commit,
            }
        )
    return {"groups": [{"group": name, "steps": steps} for name, steps in sorted(groups.items())]}


def history_mermaid(records: Sequence[MoveRecord]) -> str:
    """A Mermaid timeline: one section per group, one period per step (UTC, to the minute),
    its events the move, the reason, where the group is after it, and its pull request."""
    lines = ["timeline", "    title Placement history (times in UTC)"]
    if not records:
        lines[1] = "    title No placement moves in the history"
    for entry in history_json(records)["groups"]:
        lines.append(f"    section {_words(entry['group'])}")
        for step in entry["steps"]:
            when = step["reached"][:16].replace("T", " ").replace(":", "h")
            events = [
                f"{_STEP_WORDS.get(step['step'], step['step'])} {step['from']} → {step['to']}",
                step["reason"] or "no reason recorded",
                "on " + " + ".join(step["on"]),
            ]
            if step["pullRequest"]:
                events.append(f"pull request #{step['pullRequest']}")
            lines.append(f"        {when} : " + " : ".join(_words(e) for e in events))
    return "\n".join(lines) + "\n"


def _words(text: str) -> str:
    """Text for a timeline line: no line breaks, no ':' (it separates events), no '#' at the
    start (a comment) and no ';' (it ends a statement)."""
    text = " ".join(text.split()).replace(":", " ").replace(";", ",")
    return text.lstrip("#") or "-"
