"""What a pass returns in every mode: the plan, and what the writer did about each group."""

from __future__ import annotations

import dataclasses

from reconciler.plan.planner import Plan

# What a writer did about one group, by mode:
#   dry-run: shown
#   direct:  committed | already-moved (another writer made this very move) | failed
#   pr:      opened | updated | adopted | unchanged | left-alone | closed | failed
WRITTEN = frozenset({"committed", "already-moved", "opened", "adopted"})  # a move made or new PR


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """What the writer did about one group; `error` says why when it could not."""

    group: str
    action: str
    error: str = ""
    commit: str = ""  # direct: the move commit (already-moved: the other writer's)
    pushed: bool = False  # direct: origin has the commit
    number: int = 0  # pr: the pull request
    url: str = ""
    diff: str = ""  # dry-run: what the move would change
    withdrawal: bool = False  # pr: closing a move pull request no longer wanted

    @property
    def failed(self) -> bool:
        """True when a decided write could not be done."""
        return self.action == "failed"


@dataclasses.dataclass(frozen=True)
class PassOutcome:
    """What one pass decided, in which mode, and what it wrote (or showed)."""

    plan: Plan
    mode: str
    results: tuple[WriteResult, ...] = ()
    stopped: str = ""  # why writing stopped early (a GitHub rate limit), if it did

    @property
    def failed(self) -> tuple[WriteResult, ...]:
        """Writes that were decided but could not be done."""
        return tuple(result for result in self.results if result.failed)

    @property
    def exit_code(self) -> int:
        """The pass as `run --once` exits: 1 a write failed, 3 nothing could be judged, else 0
        (the table of every exit code is reconciler.cli.exit_codes)."""
        if self.failed:
            return 1
        return 3 if self.plan.nothing_judged else 0
