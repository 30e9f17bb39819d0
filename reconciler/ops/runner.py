"""How `run` runs the pass: once or every interval, each pass observed by the metrics.

`run --once` and the daemon run the same pass function, `observed_pass`: the pipeline's
pass, then its metrics, then its report.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from reconciler.core.errors import in_plain_words
from reconciler.gitrepo.history import read_moves
from reconciler.ops.daemon import PassFunction, serving
from reconciler.ops.health import Health
from reconciler.ops.lease import OPEN_GATE, LeaderElector, WriteGate
from reconciler.ops.metrics import Metrics
from reconciler.reconcile.outcome import PassOutcome
from reconciler.reconcile.run import Pipeline

log = logging.getLogger("reconciler")

ONCE_STALE_AFTER = 3600.0  # a single pass answers /healthz for at most this long


def observed_pass(
    pipeline: Pipeline, *, metrics: Metrics, report: Callable[[PassOutcome], None]
) -> PassFunction:
    """The pass at a time: run it, record its metrics, report it; its exit code (0 ok,
    1 a write failed, 3 nothing could be judged: every cluster unknown)."""

    def one_pass(now: dt.datetime) -> int:
        outcome = pipeline.run(now)
        metrics.record_outcome(outcome)
        try:
            metrics.record_history(read_moves(pipeline.workspace.path))
        except Exception as error:  # the history is for metrics only here
            log.warning("history not read for metrics: %s", in_plain_words(error))
        report(outcome)
        if outcome.plan.nothing_judged:
            log.error("nothing could be judged: %s", outcome.plan.nothing_judged)
        return outcome.exit_code

    return one_pass


def run_once(
    one_pass: PassFunction, *, now: dt.datetime, metrics: Metrics, port: int, host: str
) -> int:
    """One pass, with /metrics and the probes served while it runs (port 0: not served)."""
    with serving(metrics, Health(stale_after=ONCE_STALE_AFTER), port=port, host=host):
        return one_pass(now)


def write_gate(elector: LeaderElector | None, *, metrics: Metrics) -> WriteGate:
    """The gate every write passes: open, or open only while the elector holds the Lease."""
    gate = WriteGate(elector.is_leader) if elector else OPEN_GATE
    metrics.leader.set_function(lambda: 1.0 if gate.allows() else 0.0)
    return gate
