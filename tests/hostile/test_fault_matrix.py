"""The API fault matrix at the plan level: a bad read never moves a group off or onto a cluster.

Each cell breaks one cluster, the other, or both (the demo: ray-pred stuck on onprem,
cloud with room for one copy), reads them through the real kubernetes client with a short
timeout, and plans with `make_plan`. Expected in every faulty cell: the pass completes,
the broken cluster is unknown with a plain reason (or the bad object is skipped with
one), and no move is proposed off or onto it. The control cells show the move does
happen when the clusters are healthy, or when a fault is transient and retried away.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reconciler.demo import template_dir
from reconciler.fleet.model import Fleet
from reconciler.fleet.reader import read_fleet
from reconciler.plan.explain import plan_json
from reconciler.plan.planner import Plan, make_plan
from reconciler.status import live
from reconciler.status.model import ClusterState, mark_stale

from . import live_rig
from .live_rig import CLUSTERS, KUBE_TOKENS, Breaker, Rig

NOW = dt.datetime(2026, 11, 28, 12, 10, tzinfo=dt.UTC)
MAX_AGE = dt.timedelta(minutes=5)
StateBreaker = Callable[[ClusterState], ClusterState]


@dataclasses.dataclass(frozen=True)
class Fault:
    """A way to break one cluster's read, and what the plan must say about that cluster.

    `reason` must appear in what the plan says about the cluster: its unknown reason,
    its skipped objects, the summaries of the groups on it, or why it is no candidate.
    `unknown`: the whole cluster must be unknown (else only what depends on the broken
    part, e.g. the Ray groups without the KubeRay API, must be left alone).
    """

    name: str
    breaker: Breaker | None = None
    after_read: StateBreaker | None = None
    reason: str = ""
    unknown: bool = True


def _stale(state: ClusterState) -> ClusterState:
    return dataclasses.replace(state, read_at=NOW - dt.timedelta(hours=2))


FAULTS = (
    Fault("connection-refused", live_rig.connection_refused, reason="connection refused"),
    Fault("tls-failure", live_rig.tls_failure, reason="TLS error"),
    Fault("401", live_rig.unauthorized, reason="unauthorized (401)"),
    Fault("403", live_rig.status("pods", 403), reason="forbidden (403)"),
    Fault("404-ray-crds", live_rig.no_ray_crds, reason="KubeRay", unknown=False),
    Fault("429", live_rig.status("pods", 429), reason="too many requests (429)"),
    Fault("500", live_rig.status("pods", 500), reason="server error (500)"),
    Fault("503", live_rig.status("nodes", 503), reason="server error (503)"),
    Fault("read-timeout-mid-list", live_rig.stall_mid_list, reason="timed out after 0.5s"),
    Fault("malformed-json", live_rig.malformed_json, reason="malformed response listing pods"),
    Fault("410-on-continue", live_rig.gone_on_continue, reason="expired twice (410 Gone)"),
    Fault("empty-node-list", live_rig.empty_node_list, reason="missing from the node list"),
    Fault(
        "nodes-without-allocatable",
        live_rig.nodes_without_allocatable,
        reason="no allocatable",
    ),
    Fault(
        "pods-on-unknown-nodes",
        live_rig.pods_on_unknown_nodes,
        reason="missing from the node list",
    ),
    Fault("stale-status", after_read=_stale, reason="stale"),
)
BY_NAME = {fault.name: fault for fault in FAULTS}
# Faults that heal within the pass: the read retries or restarts and the move goes ahead.
TRANSIENT = (
    Fault("503-once-then-ok", live_rig.unavailable_once, unknown=False),
    Fault("410-once-then-ok", live_rig.gone_once, unknown=False),
)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One row of the table: which fault hits which cluster."""

    faults: Mapping[str, Fault]

    @property
    def id(self) -> str:
        if not self.faults:
            return "control-all-healthy"
        names = {fault.name for fault in self.faults.values()}
        if len(self.faults) == 2 and len(names) == 1:
            return f"{names.pop()}@both"
        return "+".join(f"{fault.name}@{where}" for where, fault in self.faults.items())


def _cells() -> Iterator[Cell]:
    yield Cell({})
    for fault in FAULTS:
        yield Cell({"onprem": fault})
        yield Cell({"cloud": fault})
        yield Cell({"onprem": fault, "cloud": fault})
    for first, second in (
        ("401", "read-timeout-mid-list"),
        ("malformed-json", "410-on-continue"),
        ("connection-refused", "503"),
        ("tls-failure", "stale-status"),
    ):
        yield Cell({"onprem": BY_NAME[first], "cloud": BY_NAME[second]})
    for fault in TRANSIENT:
        yield Cell({"onprem": fault})
        yield Cell({"cloud": fault})


def _params() -> list[object]:
    return [pytest.param(cell, id=cell.id) for cell in _cells()]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return read_fleet(template_dir())


@pytest.fixture
def rig(servers: list[HTTPServer], monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    # Small pages, so every list has a continue token to fail on.
    monkeypatch.setattr(live, "PAGE_SIZE", 3)
    yield live_rig.serve_demo(servers)
    for server in servers:
        server.check_handler_errors()


def plan_with(fleet: Fleet, rig: Rig, cell: Cell, tmp_path: Path) -> Plan:
    """Break the clusters as the cell says, read them live, and plan."""
    for where, fault in cell.faults.items():
        if fault.breaker is not None:
            fault.breaker(rig, where)
    states = live.read_live(
        fleet.config.clusters,
        kubeconfig=str(rig.kubeconfig(tmp_path / "kubeconfig")),
        timeout=0.5,
        retries=1,
        sleep=lambda _: None,
        now=lambda: NOW,
    )
    for where, fault in cell.faults.items():
        if fault.after_read is not None:
            states[where] = fault.after_read(states[where])
    states = mark_stale(states, now=NOW, max_age=dict.fromkeys(CLUSTERS, MAX_AGE))
    return make_plan(fleet, states, now=NOW)


def said_about(plan: Plan, cluster: str) -> str:
    """Everything the plan says about a cluster: reason, skipped objects, groups, candidacy."""
    summary = next(c for c in plan.clusters if c.name == cluster)
    lines = [summary.reason, *summary.skipped]
    for decision in plan.decisions:
        if decision.cluster == cluster:
            lines.append(decision.summary)
        lines += [c.detail for c in decision.candidates if c.cluster == cluster]
    return "\n".join(lines)


@pytest.mark.parametrize("cell", _params())
def test_fault_matrix(fleet: Fleet, rig: Rig, cell: Cell, tmp_path: Path) -> None:
    plan = plan_with(fleet, rig, cell, tmp_path)

    broken = {where for where, fault in cell.faults.items() if fault.reason}
    moves = [(d.group, d.cluster, d.target) for d in plan.moves]
    if not broken:
        assert moves == [("ray-pred", "onprem", "cloud")], "control: the move must happen"
    # Nothing moves off a broken cluster, nor onto one.
    touching = [m for m in moves if {m[1], m[2]} & broken]
    assert touching == [], f"moves touch a cluster whose read was broken: {touching}"
    clusters = {c.name: c for c in plan.clusters}
    for where, fault in cell.faults.items():
        if not fault.reason:
            assert clusters[where].known, clusters[where].reason
            continue
        said = said_about(plan, where)
        if not fault.unknown:
            # Only what needs the broken part is affected: with both clusters lacking the
            # KubeRay API, ray-pred is not judged on onprem and so never asks cloud.
            said = "\n".join(said_about(plan, name) for name in broken)
        assert fault.reason.lower() in said.lower(), said
        if fault.unknown:
            assert not clusters[where].known, f"{where} must be unknown ({fault.reason})"
            on_it = [d for d in plan.decisions if d.cluster == where]
            assert on_it and all(d.state == "unknown" for d in on_it), "nothing on it is judged"
    ray = next(d for d in plan.decisions if d.group == "ray-pred")
    if "onprem" in broken:
        assert ray.state == "unknown", "ray-pred must not be judged on a broken onprem"
    elif "cloud" in broken:
        assert ray.action == "report" and ray.state == "upgrade-stalled", ray
    # No credential ever reaches the plan, whatever broke.
    text = json.dumps(plan_json(plan))
    assert not any(token in text for token in KUBE_TOKENS.values())


def test_the_matrix_covers_every_fault_on_each_cluster_and_both() -> None:
    ids = [cell.id for cell in _cells()]
    assert len(ids) == len(set(ids))
    for fault in FAULTS:
        for where in ("onprem", "cloud"):
            assert f"{fault.name}@{where}" in ids
        assert f"{fault.name}@both" in ids
