"""Fuzzing the planner with hostile input: garbage manifests and garbage cluster objects.

tests/plan/test_properties.py holds the planner's invariants on well-formed scenarios;
this adds what is new: whatever the manifests and the snapshot items hold, a plan is made,
every group gets exactly one decision, and nothing is moved onto or off an unknown cluster.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.plan.planner import make_plan
from reconciler.status.model import ClusterState
from reconciler.status.parse import cluster_state_from_items
from tests.fuzz.strategies import kube_objects, nested
from tests.plan import builders

EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STUCK = builders.pod("web-0", cpu="2", unschedulable="0/1 nodes are available: 1 Insufficient cpu.")


def _not_web(body: object) -> bool:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return "web" not in str(metadata.get("name") if isinstance(metadata, dict) else "")


@EXAMPLES
@given(
    manifests=st.lists(st.one_of(kube_objects(), nested(8)), max_size=3),
    edge_items=st.lists(kube_objects(), max_size=3),
    cloud_unknown=st.booleans(),
)
def test_garbage_in_manifests_and_status_still_gives_one_decision_per_group(
    manifests: list[Any], edge_items: list[Any], cloud_unknown: bool
) -> None:
    bodies = [m for m in manifests if isinstance(m, dict) and _not_web(m)]
    groups = [
        builders.group("web", "onprem", [builders.pod_manifest("web-0", cpu="2")]),
        builders.group("junk", "onprem", bodies),
    ]
    fleet = builders.fleet(clusters=("onprem", "cloud", "edge"), groups=groups)
    onprem = builders.cluster_state(
        "onprem", nodes=[builders.node("onprem-1", cpu="1")], pods=[STUCK]
    )
    cloud = (
        ClusterState.unknown("cloud", "fuzzed: unreachable")
        if cloud_unknown
        else builders.cluster_state("cloud", nodes=[builders.node("cloud-1", cpu="8")])
    )
    edge = cluster_state_from_items([i for i in edge_items if _not_web(i)], cluster="edge")
    states = {"onprem": onprem, "cloud": cloud, "edge": edge}
    plan = make_plan(fleet, states, now=builders.NOW)
    assert sorted(d.group for d in plan.decisions) == ["junk", "web"]
    for decision in plan.decisions:
        if decision.action == "move":
            assert states[decision.target].known and decision.target != decision.cluster
    web = next(d for d in plan.decisions if d.group == "web")
    if not cloud_unknown:
        assert web.action == "move", web
