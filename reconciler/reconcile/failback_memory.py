"""Failback's only memory kept outside git: how many passes in a row home has fitted.

It lives in the checkout's git directory (`.git/placement-reconciler/home-streaks.json`),
so a daemon or a scheduled job reusing its clone keeps it. Losing it is safe: failback
then waits two more passes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reconciler.plan.planner import Plan

_FILE = Path("placement-reconciler") / "home-streaks.json"


def streaks_path(checkout: Path) -> Path | None:
    """Where a checkout keeps its streaks (None for a checkout without a .git directory)."""
    git_dir = checkout / ".git"
    return git_dir / _FILE if git_dir.is_dir() else None


def load_streaks(checkout: Path) -> dict[str, int]:
    """The streaks saved by the last pass; empty when there are none or they are unreadable."""
    path = streaks_path(checkout)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v > 0}


def next_streaks(plan: Plan, previous: Mapping[str, int]) -> dict[str, int]:
    """After a pass: a group whose home fitted and that did not move counts one more pass."""
    return {
        d.group: previous.get(d.group, 0) + 1
        for d in plan.decisions
        if d.home_fits and d.action != "move"
    }


def save_streaks(checkout: Path, streaks: Mapping[str, int]) -> None:
    """Write the streaks atomically (a crash leaves the old file or the new one)."""
    path = streaks_path(checkout)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".streaks-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(dict(sorted(streaks.items())), out)
    os.replace(temporary, path)
