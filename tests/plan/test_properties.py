"""The planner's invariants over random fleets: no overcommit, no unknown target, no skipped
group moved, and the same decisions for the same input in any listing order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.fleet.model import Fleet
from reconciler.plan.fit import POD_SLOT, free_on_nodes
from reconciler.plan.membership import declared_objects, pods_by_group
from reconciler.plan.planner import Plan, make_plan
from reconciler.status.model import ClusterState, Pod

from .builders import (
    CAPACITY_MESSAGE,
    NOW,
    Taint,
    cluster_config,
    cluster_state,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
)

CLUSTER_NAMES = ("c0", "c1", "c2", "c3")
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclasses.dataclass(frozen=True)
class Scenario:
    fleet: Fleet
    states: Mapping[str, ClusterState]
    last_moves: Mapping[str, dt.datetime]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(1, 4))
    names = CLUSTER_NAMES[:count]
    known = {name: draw(st.booleans()) or name == "c0" for name in names}
    reserves = {
        name: draw(st.sampled_from([{}, {"cpu": "1"}, {"memory": "2Gi"}, {"cpu": "3"}]))
        for name in names
    }
    nodes = {
        name: [
            node(
                f"{name}-n{index}",
                cpu=draw(st.integers(1, 16)),
                memory=f"{draw(st.integers(1, 64))}Gi",
                gpu=draw(st.sampled_from([None, None, 1, 4])),
                pods=draw(st.integers(1, 12)),
                ready=draw(st.booleans()) or draw(st.booleans()),
                unschedulable=draw(st.integers(0, 5)) == 0,
                taints=[Taint("dedicated", "gpu")] if draw(st.integers(0, 4)) == 0 else (),
            )
            for index in range(draw(st.integers(0, 4)))
        ]
        for name in names
    }
    groups = []
    pods: dict[str, list[Pod]] = {name: [] for name in names}
    for index in range(draw(st.integers(1, 5))):
        name = f"g{index}"
        home = draw(st.sampled_from(names))
        cpu = f"{draw(st.integers(1, 16)) * 250}m"
        memory = f"{draw(st.integers(1, 16))}Gi"
        gpu = draw(st.sampled_from([None, None, None, 1]))
        replicas = draw(st.integers(1, 4))
        preferred = draw(st.permutations(names))[: draw(st.integers(0, count))]
        manifests = [deployment_manifest(name, replicas=replicas, cpu=cpu, memory=memory, gpu=gpu)]
        if draw(st.integers(0, 3)) == 0:
            # A ReplicaSet of the same name: its pod shapes share the Deployment's names.
            twin = deployment_manifest(name, kind="ReplicaSet", cpu=cpu, memory=memory)
            manifests.append(twin)
        groups.append(
            group(
                name,
                home,
                manifests,
                skip_capacity_relocate=draw(st.integers(0, 3)) == 0,
                preferred_clusters=tuple(preferred),
            )
        )
        # Some replicas run (on any cluster: leftovers elsewhere), some are stuck at home.
        for cluster in names:
            if cluster != home and draw(st.integers(0, 3)) != 0:
                continue
            if draw(st.booleans()) and nodes[cluster]:
                where = draw(st.sampled_from(nodes[cluster])).name
                pods[cluster] += deployment_pods(
                    name, node=where, cpu=cpu, memory=memory, gpu=gpu, first=len(pods[cluster])
                )
        stuck = draw(st.integers(0, replicas))
        pods[home] += deployment_pods(
            name,
            count=stuck,
            cpu=cpu,
            memory=memory,
            gpu=gpu,
            unschedulable=CAPACITY_MESSAGE,
            since=minutes_ago(draw(st.integers(0, 30))),
            first=100,
        )
    for cluster in names:  # other tenants' pods
        for index in range(draw(st.integers(0, 4))):
            if nodes[cluster]:
                where = draw(st.sampled_from(nodes[cluster])).name
                pods[cluster] += deployment_pods(
                    f"tenant{index}",
                    node=where,
                    cpu=f"{draw(st.integers(1, 8)) * 500}m",
                    memory=f"{draw(st.integers(1, 8))}Gi",
                    first=index,
                )
    states = {
        name: cluster_state(name, nodes[name], pods[name])
        if known[name]
        else ClusterState.unknown(name, "unreachable")
        for name in names
    }
    last_moves = {
        g.name: minutes_ago(draw(st.integers(0, 60))) for g in groups if draw(st.booleans())
    }
    clusters = [cluster_config(name, reserve=reserves[name]) for name in names]
    return Scenario(fleet=fleet(clusters, groups), states=states, last_moves=last_moves)


def plan_for(scenario: Scenario, states: Mapping[str, ClusterState] | None = None) -> Plan:
    return make_plan(
        scenario.fleet,
        states or scenario.states,
        now=NOW,
        last_moves=scenario.last_moves,
    )


@SETTINGS
@given(scenarios())
def test_a_plan_never_overcommits_a_node(scenario: Scenario) -> None:
    plan = plan_for(scenario)
    declared = declared_objects(scenario.fleet.groups)
    free = {name: free_on_nodes(s) for name, s in scenario.states.items() if s.known}
    # A group's own pods already on its target are replaced by the move: they count as free.
    for move in plan.moves:
        own = pods_by_group(scenario.states[move.target], declared).get(move.group, [])
        for pod in own:
            if pod.node in free[move.target] and pod.phase not in {"Succeeded", "Failed"}:
                room = free[move.target][pod.node]
                for resource, amount in pod.shape.requests.items():
                    room[resource] = room.get(resource, 0) + amount
                room["pods"] += POD_SLOT
    touched: set[tuple[str, str, str]] = set()
    for move in plan.moves:
        assert move.demand is not None
        target = next(c for c in move.candidates if c.cluster == move.target)
        assert len(target.placements) == len(move.demand.shapes)
        for shape, placement in zip(move.demand.shapes, target.placements, strict=True):
            room = free[move.target][placement.node]
            for resource, amount in shape.requests.items():
                room[resource] = room.get(resource, 0) - amount
                if amount > 0:
                    touched.add((move.target, placement.node, resource))
            room["pods"] = room.get("pods", 0) - POD_SLOT
            touched.add((move.target, placement.node, "pods"))
    for cluster, node_name, resource in touched:
        assert free[cluster][node_name].get(resource, 0) >= 0, (cluster, node_name, resource)


@SETTINGS
@given(scenarios())
def test_a_plan_never_targets_an_unknown_cluster(scenario: Scenario) -> None:
    plan = plan_for(scenario)
    for move in plan.moves:
        assert scenario.states[move.target].known
        assert move.target != move.cluster
        assert scenario.fleet.config.cluster(move.target) is not None
    for decision in plan.decisions:
        home = scenario.states.get(decision.cluster)
        if home is None or not home.known:
            assert decision.state == "unknown" and decision.action == "report"


@SETTINGS
@given(scenarios())
def test_a_plan_never_moves_a_skip_capacity_relocate_group(scenario: Scenario) -> None:
    plan = plan_for(scenario)
    skipping = {g.name for g in scenario.fleet.groups if g.policy.skip_capacity_relocate}
    assert not skipping & {m.group for m in plan.moves}
    for move in plan.moves:
        assert move.state in {"stuck", "upgrade-stalled"}
        last = scenario.last_moves.get(move.group)
        policy = scenario.fleet.group(move.group)
        assert policy is not None
        assert last is None or NOW - last >= policy.policy.cooldown


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_a_plan_is_deterministic(scenario: Scenario, rng: random.Random) -> None:
    first = plan_for(scenario)
    assert plan_for(scenario) == first
    shuffled = {}
    for name, state in scenario.states.items():
        nodes, pods = list(state.nodes), list(state.pods)
        rng.shuffle(nodes)
        rng.shuffle(pods)
        shuffled[name] = dataclasses.replace(state, nodes=tuple(nodes), pods=tuple(pods))
    again = plan_for(scenario, shuffled)
    assert again.decisions == first.decisions
    assert again.problems == first.problems
