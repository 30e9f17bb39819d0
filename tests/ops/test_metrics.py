"""Metrics derived from pass outcomes, served with the probes on one port over real HTTP."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.gitrepo.history import MoveRecord
from reconciler.ops.health import Health, HealthServer, serve
from reconciler.ops.metrics import Metrics, error_kind, reason_class
from reconciler.plan.landing import Landing
from reconciler.plan.planner import ClusterSummary, Decision, Plan
from reconciler.reconcile.outcome import PassOutcome, WriteResult

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def decision(group: str, cluster: str, state: str, action: str = "stay", **extra: str) -> Decision:
    return Decision(group=group, cluster=cluster, state=state, action=action, summary="", **extra)


def a_plan() -> Plan:
    return Plan(
        now=NOW,
        decisions=(
            decision(
                "ray-pred",
                "onprem",
                "upgrade-stalled",
                "move",
                target="cloud",
                reason="upgrade-stalled",
            ),
            decision("batch-etl", "onprem", "stuck", "report"),
            decision("web", "cloud", "running"),
            decision("edge", "edge", "unknown", "report"),
        ),
        clusters=(
            ClusterSummary("onprem", known=True, nodes=2),
            ClusterSummary("cloud", known=True, nodes=3),
            ClusterSummary("edge", known=False, reason="unreachable: connection refused"),
        ),
    )


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_groups_by_state_stuck_groups_and_cluster_reads_come_from_the_plan() -> None:
    metrics = Metrics()
    metrics.record_plan(a_plan())
    assert value(metrics, "placement_reconciler_groups", state="upgrade-stalled") == 1
    assert value(metrics, "placement_reconciler_groups", state="stuck") == 1
    assert value(metrics, "placement_reconciler_groups", state="waiting") == 0
    assert value(metrics, "placement_reconciler_stuck_groups", cluster="onprem") == 2
    assert value(metrics, "placement_reconciler_stuck_groups", cluster="cloud") == 0
    assert value(metrics, "placement_reconciler_cluster_up", cluster="edge") == 0
    failures = "placement_reconciler_cluster_read_failures_total"
    assert value(metrics, failures, cluster="edge", reason="unreachable") == 1
    metrics.record_plan(a_plan())
    assert value(metrics, failures, cluster="edge", reason="unreachable") == 2
    assert value(metrics, "placement_reconciler_groups", state="stuck") == 1  # a gauge


def test_the_gauges_show_the_last_pass_only() -> None:
    metrics = Metrics()
    metrics.record_plan(a_plan())
    metrics.record_plan(Plan(now=NOW, decisions=(), clusters=(ClusterSummary("cloud", True),)))
    assert value(metrics, "placement_reconciler_stuck_groups", cluster="onprem") is None
    assert value(metrics, "placement_reconciler_cluster_up", cluster="edge") is None
    assert value(metrics, "placement_reconciler_groups", state="stuck") == 0


def test_a_direct_pass_counts_written_moves_and_git_errors() -> None:
    metrics = Metrics()
    results = (
        WriteResult("ray-pred", "committed", commit="abc123", pushed=True),
        WriteResult("batch-etl", "failed", error="cannot move batch-etl: push refused"),
    )
    metrics.record_outcome(PassOutcome(plan=a_plan(), mode="direct", results=results))
    proposed = "placement_reconciler_moves_proposed_total"
    assert value(metrics, proposed, mode="direct", reason="upgrade-stalled") == 1
    assert value(metrics, "placement_reconciler_git_errors_total", operation="move") == 1


def test_a_pr_pass_counts_new_pull_requests_and_github_errors() -> None:
    metrics = Metrics()
    outcome = PassOutcome(
        plan=a_plan(),
        mode="pr",
        results=(
            WriteResult("ray-pred", "opened", number=7),
            WriteResult("batch-etl", "unchanged", number=3),
            WriteResult("web", "failed", error="GitHub said 502"),
            WriteResult("edge", "failed", error="GitHub said 502", withdrawal=True),
        ),
        stopped="GitHub rate limit reached",
    )
    metrics.record_outcome(outcome)
    proposed = "placement_reconciler_moves_proposed_total"
    assert value(metrics, proposed, mode="pr", reason="upgrade-stalled") == 1
    assert value(metrics, proposed, mode="pr", reason="capacity") is None  # unchanged: not new
    errors = "placement_reconciler_github_errors_total"
    assert value(metrics, errors, operation="propose") == 1
    assert value(metrics, errors, operation="withdraw") == 1
    assert value(metrics, errors, operation="rate-limit") == 1


def test_a_dry_run_pass_counts_no_move_and_no_error() -> None:
    metrics = Metrics()
    shown = (WriteResult("ray-pred", "shown", diff="a diff"),)
    metrics.record_outcome(PassOutcome(plan=a_plan(), mode="dry-run", results=shown))
    proposed = "placement_reconciler_moves_proposed_total"
    assert value(metrics, proposed, mode="dry-run", reason="upgrade-stalled") is None
    assert value(metrics, "placement_reconciler_git_errors_total", operation="move") is None


def move(commit: str, reason: str = "capacity") -> MoveRecord:
    return MoveRecord("g", "a", "b", reason, commit, NOW, "placement: move g from a to b")


def test_merged_moves_are_those_new_on_the_branch_since_the_start() -> None:
    metrics = Metrics()
    metrics.record_history([move("old1"), move("old2")])  # the baseline, not counted
    assert value(metrics, "placement_reconciler_moves_merged_total", reason="capacity") is None
    metrics.record_history([move("new1", "upgrade-stalled"), move("old1"), move("old2")])
    metrics.record_history([move("new1", "upgrade-stalled"), move("old1"), move("old2")])
    merged = "placement_reconciler_moves_merged_total"
    assert value(metrics, merged, reason="upgrade-stalled") == 1


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("unreachable: connection refused", "unreachable"),
        ("timed out after 5s listing pods (3 attempts)", "timeout"),
        ("deadline of 30s exceeded", "timeout"),
        ("unauthorized (401): the cluster rejected the credentials", "unauthorized"),
        ("forbidden (403): not allowed listing pods (see deploy/rbac-reader.yaml)", "forbidden"),
        ("TLS error: certificate verify failed", "tls"),
        ("server error (503) listing nodes (3 attempts)", "server-error"),
        ("list of pods cut short: continue token repeated", "list-cut-short"),
        ("malformed response listing pods: bad JSON", "malformed-response"),
        ("kubeconfig: no context 'x' in ~/.kube/config", "config"),
        ("no snapshot file edge.yaml in /tmp/s", "snapshot"),
        ("something new", "other"),
    ],
)
def test_read_failure_reasons_become_a_few_label_values(reason: str, label: str) -> None:
    assert reason_class(reason) == label


def test_pass_errors_are_told_apart() -> None:
    from github import GithubException

    from reconciler.github.move_pull_request import GitHubUnavailable
    from reconciler.gitrepo.git_command import GitError
    from reconciler.gitrepo.workspace import WorkspaceError

    assert error_kind(GitError(["push"], 1, "rejected")) == "git"
    assert error_kind(WorkspaceError("cannot fetch")) == "git"
    assert error_kind(GitHubUnavailable("502")) == "github"
    assert error_kind(GithubException(500, "oops", None)) == "github"
    assert error_kind(ValueError("x")) == "other"


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # the default registry would refuse the second
    first.record_plan(a_plan())
    assert value(second, "placement_reconciler_groups", state="stuck") is None


# --- over HTTP ------------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def served(ticks: Ticks) -> Iterator[tuple[Metrics, Health, HealthServer]]:
    metrics, health = Metrics(), Health(stale_after=180, monotonic=ticks)
    with serve(metrics.registry, health, port=0, host="127.0.0.1") as server:
        yield metrics, health, server


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read().decode()


def test_metrics_are_scraped_over_http(served: tuple[Metrics, Health, HealthServer]) -> None:
    metrics, _, server = served
    assert server.port > 0
    metrics.record_plan(a_plan())
    metrics.record_pass(mode="pr", result="ok", seconds=1.5, finished_at=NOW.timestamp())
    metrics.leader.set_function(lambda: 1.0)

    status, content_type, body = get(f"{server.url}/metrics")

    assert status == 200 and content_type.startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    assert samples[("placement_reconciler_passes_total", (("mode", "pr"), ("result", "ok")))] == 1
    assert samples[("placement_reconciler_pass_duration_seconds_sum", (("mode", "pr"),))] == 1.5
    assert samples[("placement_reconciler_groups", (("state", "upgrade-stalled"),))] == 1
    assert samples[("placement_reconciler_stuck_groups", (("cluster", "onprem"),))] == 2
    key = (
        "placement_reconciler_cluster_read_failures_total",
        (("cluster", "edge"), ("reason", "unreachable")),
    )
    assert samples[key] == 1
    assert samples[("placement_reconciler_leader", ())] == 1
    assert "python_gc_objects_collected_total" not in body  # not the process-wide registry


def test_readyz_waits_for_the_first_pass_and_fails_while_stopping(
    served: tuple[Metrics, Health, HealthServer],
) -> None:
    _, health, server = served
    assert get(f"{server.url}/readyz")[0::2] == (503, "first pass not finished yet\n")
    health.beat(role="leader")
    health.mark_ready()
    assert get(f"{server.url}/readyz")[0::2] == (200, "ok (leader)\n")
    health.mark_stopping()
    assert get(f"{server.url}/readyz")[0::2] == (503, "shutting down\n")


def test_healthz_fails_when_the_loop_stopped_turning(
    served: tuple[Metrics, Health, HealthServer], ticks: Ticks
) -> None:
    _, health, server = served
    assert get(f"{server.url}/healthz")[0::2] == (200, "ok\n")
    ticks.now += 200
    status, _, body = get(f"{server.url}/healthz")
    assert status == 503 and "no loop heartbeat for 200s" in body
    health.beat(role="standby")
    assert get(f"{server.url}/healthz")[0] == 200
    assert get(f"{server.url}/nope")[0] == 404


def test_groups_by_landing_state_are_reported_every_pass() -> None:
    metrics = Metrics()
    metrics.record_plan(a_plan())  # no group in a landing state: every series at zero
    for state in ("arriving", "landed", "not-arrived", "absent", "not-observed"):
        assert value(metrics, "placement_reconciler_landing_groups", state=state) == 0
    landing = Landing("not-arrived", evidence=("no object of ray-pred seen on cloud",))
    moved = Plan(
        now=NOW,
        decisions=(
            Decision("ray-pred", "cloud", "not-arrived", "report", "", landing=landing),
            Decision("web", "cloud", "absent", "report", "", landing=Landing("absent")),
            decision("batch-etl", "onprem", "running"),
        ),
        clusters=(ClusterSummary("cloud", known=True), ClusterSummary("onprem", known=True)),
    )
    metrics.record_plan(moved)
    assert value(metrics, "placement_reconciler_landing_groups", state="not-arrived") == 1
    assert value(metrics, "placement_reconciler_landing_groups", state="absent") == 1
    assert value(metrics, "placement_reconciler_landing_groups", state="arriving") == 0
    assert value(metrics, "placement_reconciler_groups", state="not-arrived") == 1
