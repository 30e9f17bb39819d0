"""What `run` tells after each pass: the plan and every write, in words, and its numbers."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TextIO

from reconciler.ops.metrics import STUCK_STATES
from reconciler.plan.explain import plan_text
from reconciler.reconcile.outcome import PassOutcome, WriteResult

log = logging.getLogger("reconciler")


def report_pass(outcome: PassOutcome, out: TextIO) -> None:
    """Print what a pass decided and did."""
    print(plan_text(outcome.plan), file=out)
    for result in outcome.results:
        print(f"\n{written(result, mode=outcome.mode)}", file=out)
    if outcome.stopped:
        print(f"\n{outcome.stopped}", file=out)


def written(result: WriteResult, *, mode: str) -> str:
    """One write in plain words."""
    if mode == "pr":
        where = f" #{result.number} {result.url}".rstrip() if result.number else ""
        detail = f": {result.error}" if result.error else ""
        return f"{result.group}: pull request{where} {_pr_action(result)}{detail}"
    if result.action == "shown":
        return f"(dry-run: nothing written)\n{result.diff}"
    if result.failed:
        return f"{result.group}: NOT written: {result.error}"
    if result.action == "already-moved":
        return (
            f"{result.group}: already moved on origin as {result.commit[:12]} "
            "(by another writer); nothing written"
        )
    where = "committed and pushed" if result.pushed else "committed (no remote to push to)"
    return f"{result.group}: {where} as {result.commit[:12]}"


def _pr_action(result: WriteResult) -> str:
    """What was done to a pull request, in words: left-alone is "left open" when the bot
    no longer wants the move but a person's commit keeps it from closing the PR."""
    if result.action == "left-alone":
        return "left open" if result.withdrawal else "left alone"
    return result.action


def pass_fields(outcome: PassOutcome) -> dict[str, int]:
    """A pass in numbers, for the summary log line."""
    plan = outcome.plan
    stuck = sum(1 for d in plan.decisions if d.state in STUCK_STATES)
    unknown = sum(1 for c in plan.clusters if not c.known)
    return {
        "groups": len(plan.decisions),
        "stuck": stuck,
        "moves": len(plan.moves),
        "failed": len(outcome.failed),
        "unknown_clusters": unknown,
    }


def pass_reporter(*, out: TextIO, log_format: str, summary: bool) -> Callable[[PassOutcome], None]:
    """Report each pass: printed, or logged as one record with --log-format json.

    With `summary`, one line of numbers is logged too (the daemon's heartbeat in the log).
    """

    def report(outcome: PassOutcome) -> None:
        text = io.StringIO()
        report_pass(outcome, text)
        fields = pass_fields(outcome)
        if log_format == "json":
            log.info(text.getvalue().rstrip("\n"), extra={"event": "pass", **fields})
        else:
            out.write(text.getvalue())
            out.flush()
        if summary:
            line = " ".join(f"{key}={value}" for key, value in fields.items())
            log.info("pass done: %s", line, extra={"event": "pass-summary"})

    return report
