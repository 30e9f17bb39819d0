"""Prometheus metrics of the reconciler, derived from what each pass returned.

Everything is recorded from what a pass returned (its PassOutcome and Plan) after the
pass: the planner stays pure. Each `Metrics` owns its registry, so tests never share the
process-wide default one. Labels have bounded values: cluster names come from fleet.yaml,
and a read failure's free-text reason is reduced to a short class (`reason_class`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reconciler.core import errors
from reconciler.gitrepo.history import MoveRecord
from reconciler.plan.landing import LANDING_STATES
from reconciler.plan.planner import Plan
from reconciler.reconcile.outcome import WRITTEN, PassOutcome

PREFIX = "placement_reconciler"
# States every pass reports, at zero when no group is in them, so a series never vanishes.
BASE_STATES = ("running", "waiting", "pending-other", "stuck", "upgrade-stalled", "unknown")
STUCK_STATES = frozenset({"stuck", "upgrade-stalled"})
_REASON_CLASSES = (
    ("unreachable", "unreachable"),
    ("timed out", "timeout"),
    ("deadline", "timeout"),
    ("unauthorized", "unauthorized"),
    ("forbidden", "forbidden"),
    ("tls", "tls"),
    ("server error", "server-error"),
    ("too many requests", "rate-limited"),
    ("cut short", "list-cut-short"),
    ("gone (410)", "list-cut-short"),
    ("not found", "not-found"),
    ("malformed", "malformed-response"),
    ("kubeconfig", "config"),
    ("in-cluster", "config"),
    ("context", "config"),
    ("snapshot", "snapshot"),
)


def reason_class(reason: str) -> str:
    """A cluster read failure's reason as one of a few label values ("unreachable", ...)."""
    lowered = reason.lower()
    for needle, label in _REASON_CLASSES:
        if needle in lowered:
            return label
    return "other"


def error_kind(error: BaseException) -> str:
    """Whether a pass failed on git, on GitHub, or on something else."""
    if isinstance(error, errors.GitHubError) or type(error).__module__.startswith("github"):
        return "github"
    if isinstance(error, errors.GitError):
        return "git"
    return "other"


@dataclasses.dataclass(frozen=True)
class _PassSnapshot:
    """The gauges of the last pass, replaced whole so a scrape never sees half a pass."""

    groups_by_state: dict[str, int] = dataclasses.field(default_factory=dict)
    stuck_by_cluster: dict[str, int] = dataclasses.field(default_factory=dict)
    cluster_up: dict[str, int] = dataclasses.field(default_factory=dict)
    landing_by_state: dict[str, int] = dataclasses.field(default_factory=dict)


class _LastPassCollector(Collector):
    """Serves the last pass's per-state and per-cluster gauges."""

    def __init__(self) -> None:
        self.snapshot = _PassSnapshot()

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot
        yield _family(
            "groups", "Groups by state in the last pass", "state", snapshot.groups_by_state
        )
        yield _family(
            "stuck_groups",
            "Groups stuck (or with a stalled upgrade) in the last pass, by their cluster",
            "cluster",
            snapshot.stuck_by_cluster,
        )
        yield _family(
            "landing_groups",
            "Groups by landing state in the last pass: arriving, landed, not-arrived, absent, "
            "not-observed",
            "state",
            snapshot.landing_by_state,
        )
        yield _family(
            "cluster_up",
            "1 when the cluster's status could be read in the last pass, else 0",
            "cluster",
            snapshot.cluster_up,
        )


def _family(name: str, documentation: str, label: str, values: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=[label])
    for key in sorted(values):
        family.add_metric([key], values[key])
    return family


class Metrics:
    """The reconciler's metrics in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.passes = Counter(
            f"{PREFIX}_passes",
            "Reconcile passes run, by mode and result",
            ["mode", "result"],
            registry=reg,
        )
        self.pass_duration = Histogram(
            f"{PREFIX}_pass_duration_seconds",
            "How long a reconcile pass took",
            ["mode"],
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=reg,
        )
        self.last_success = Gauge(
            f"{PREFIX}_last_successful_pass_timestamp_seconds",
            "Unix time at which the last pass without failures finished",
            registry=reg,
        )
        self.moves_proposed = Counter(
            f"{PREFIX}_moves_proposed",
            "Moves written: a commit in direct mode, a new pull request in pr mode",
            ["mode", "reason"],
            registry=reg,
        )
        self.moves_merged = Counter(
            f"{PREFIX}_moves_merged",
            "Move commits that landed on the fleet branch since this process started",
            ["reason"],
            registry=reg,
        )
        self.cluster_read_failures = Counter(
            f"{PREFIX}_cluster_read_failures",
            "Cluster status reads that failed, by cluster and reason class",
            ["cluster", "reason"],
            registry=reg,
        )
        self.git_errors = Counter(
            f"{PREFIX}_git_errors", "git operations that failed", ["operation"], registry=reg
        )
        self.github_errors = Counter(
            f"{PREFIX}_github_errors", "GitHub operations that failed", ["operation"], registry=reg
        )
        self.leader = Gauge(
            f"{PREFIX}_leader",
            "1 while this replica may write (it holds the lease, or runs without election)",
            registry=reg,
        )
        self._last_pass = _LastPassCollector()
        reg.register(self._last_pass)
        self._seen_moves: set[str] | None = None
        self._lock = threading.Lock()

    def record_plan(self, plan: Plan) -> None:
        """Groups by state and by landing state, stuck groups per cluster, and the clusters
        that could not be read."""
        states = dict.fromkeys(BASE_STATES, 0)
        stuck = {cluster.name: 0 for cluster in plan.clusters}
        for decision in plan.decisions:
            states[decision.state] = states.get(decision.state, 0) + 1
            if decision.state in STUCK_STATES:
                stuck[decision.cluster] = stuck.get(decision.cluster, 0) + 1
        up = {cluster.name: int(cluster.known) for cluster in plan.clusters}
        landing = dict.fromkeys(LANDING_STATES, 0)
        for decision in plan.decisions:
            if decision.landing is not None:
                landing[decision.landing.state] += 1
        self._last_pass.snapshot = _PassSnapshot(states, stuck, up, landing)
        for cluster in plan.clusters:
            if not cluster.known:
                self.cluster_read_failures.labels(cluster.name, reason_class(cluster.reason)).inc()

    def record_outcome(self, outcome: PassOutcome) -> None:
        """The plan's gauges plus what the pass wrote and what failed while writing.

        A move written is a commit in mode direct, a new pull request in mode pr; a failed
        write counts against git in mode direct and against GitHub in mode pr.
        """
        self.record_plan(outcome.plan)
        reasons = {d.group: d.reason or "capacity" for d in outcome.plan.decisions}
        for result in outcome.results:
            if result.action in WRITTEN and not result.withdrawal:
                self.moves_proposed.labels(outcome.mode, reasons.get(result.group, "")).inc()
            elif result.failed and outcome.mode == "pr":
                operation = "withdraw" if result.withdrawal else "propose"
                self.github_errors.labels(operation).inc()
            elif result.failed:
                self.git_errors.labels("move").inc()
        if outcome.stopped:
            self.github_errors.labels("rate-limit").inc()

    def record_history(self, moves: Sequence[MoveRecord]) -> None:
        """Count move commits new on the branch; the first call only takes the baseline."""
        with self._lock:
            commits = {move.commit for move in moves}
            if self._seen_moves is None:
                self._seen_moves = commits
                return
            for move in _new(moves, seen=self._seen_moves):
                self.moves_merged.labels(move.reason or "capacity").inc()
            self._seen_moves |= commits

    def record_pass(self, *, mode: str, result: str, seconds: float, finished_at: float) -> None:
        """One pass done: result is ok | failed (a write failed) | error (the pass raised)."""
        self.passes.labels(mode, result).inc()
        self.pass_duration.labels(mode).observe(seconds)
        if result == "ok":
            self.last_success.set(finished_at)

    def record_error(self, error: BaseException) -> None:
        """A pass that raised: count it against git or GitHub when it was theirs."""
        kind = error_kind(error)
        if kind == "git":
            self.git_errors.labels("pass").inc()
        elif kind == "github":
            self.github_errors.labels("pass").inc()

    def set_leader(self, leading: bool) -> None:
        """Whether this replica may write now."""
        self.leader.set(1 if leading else 0)


def _new(moves: Sequence[MoveRecord], *, seen: set[str]) -> Iterator[MoveRecord]:
    for move in moves:
        if move.commit not in seen:
            yield move
