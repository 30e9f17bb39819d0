"""One pass of decisions: guards, capacity shared between moves, and the evidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.config import ClusterConfig
from reconciler.fleet.model import Group
from reconciler.plan.fit import free_on_nodes
from reconciler.plan.planner import Decision, Plan, make_plan
from reconciler.status.model import ClusterState, Pod

from .builders import (
    CAPACITY_MESSAGE,
    GI,
    NOW,
    cluster_config,
    cluster_state,
    cores,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
    owner,
    pod,
    pvc_manifest,
    stalled_ray_group,
    stalled_ray_onprem,
    stateful_set_manifest,
)

VOLUME_AFFINITY = "0/1 nodes are available: 1 node(s) had volume node affinity conflict."


def web_group(name: str = "web", *, cpu: str = "2", replicas: int = 1, **policy: Any) -> Group:
    return group(name, "onprem", [deployment_manifest(name, replicas=replicas, cpu=cpu)], **policy)


def stuck(name: str = "web", *, cpu: str = "2", minutes: float = 10, count: int = 1) -> list[Pod]:
    return deployment_pods(
        name,
        count=count,
        cpu=cpu,
        unschedulable=CAPACITY_MESSAGE,
        since=minutes_ago(minutes),
    )


def onprem(*pods: Pod) -> ClusterState:
    return cluster_state("onprem", [node("o1", cpu="1")], pods)


def cloud(cpu: str = "8", memory: str = "32Gi", *pods: Pod) -> ClusterState:
    return cluster_state("cloud", [node("c1", cpu=cpu, memory=memory)], pods)


def plan_of(
    groups: Sequence[Group],
    states: Sequence[ClusterState],
    *,
    clusters: Sequence[ClusterConfig | str] = ("onprem", "cloud"),
    last_moves: Mapping[str, dt.datetime] | None = None,
) -> Plan:
    return make_plan(
        fleet(clusters, groups), {s.name: s for s in states}, now=NOW, last_moves=last_moves
    )


def decision_of(plan: Plan, group_name: str) -> Decision:
    return next(d for d in plan.decisions if d.group == group_name)


# ---- the ordinary move -----------------------------------------------------------------


def test_a_stuck_group_moves_to_a_cluster_that_fits_it() -> None:
    plan = plan_of([web_group()], [onprem(*stuck()), cloud()])
    (decision,) = plan.decisions
    assert (decision.state, decision.action, decision.target) == ("stuck", "move", "cloud")
    assert decision.reason == "capacity"
    assert plan.moves == (decision,)


def test_a_running_group_stays() -> None:
    running = deployment_pods("web", node="o1", cpu="500m")
    (decision,) = plan_of([web_group()], [onprem(*running), cloud()]).decisions
    assert (decision.state, decision.action) == ("running", "stay")
    assert decision.demand is None and not decision.candidates


def test_within_grace_the_group_waits_where_it_is() -> None:
    (decision,) = plan_of([web_group()], [onprem(*stuck(minutes=2)), cloud()]).decisions
    assert (decision.state, decision.action) == ("waiting", "report")
    assert "grace period" in decision.summary


def test_pending_for_other_reasons_is_reported_not_moved() -> None:
    pending = deployment_pods("web", unschedulable=VOLUME_AFFINITY, since=minutes_ago(60))
    (decision,) = plan_of([web_group()], [onprem(*pending), cloud()]).decisions
    assert (decision.state, decision.action) == ("pending-other", "report")
    assert "volume node affinity conflict" in decision.summary


# ---- guards ----------------------------------------------------------------------------


def test_skip_capacity_relocate_reports_and_still_lists_candidates() -> None:
    group_ = web_group(skip_capacity_relocate=True)
    (decision,) = plan_of([group_], [onprem(*stuck()), cloud()]).decisions
    assert decision.state == "stuck"
    assert decision.action == "report"
    assert decision.target == ""
    assert any("skipCapacityRelocate" in g for g in decision.guards)
    (candidate,) = decision.candidates
    assert candidate.cluster == "cloud" and candidate.fits


def test_no_move_within_the_cooldown() -> None:
    states = [onprem(*stuck()), cloud()]
    recent = plan_of([web_group()], states, last_moves={"web": minutes_ago(10)})
    (decision,) = recent.decisions
    assert decision.action == "report"
    assert any("cooldown until 2025-06-01T12:20:00Z" in g for g in decision.guards)
    assert decision.candidates and decision.candidates[0].fits
    later = plan_of([web_group()], states, last_moves={"web": minutes_ago(31)})
    assert later.decisions[0].action == "move"


def test_cooldown_comes_from_the_group_policy() -> None:
    slow = web_group(cooldown=dt.timedelta(hours=2))
    plan = plan_of([slow], [onprem(*stuck()), cloud()], last_moves={"web": minutes_ago(90)})
    assert plan.decisions[0].action == "report"
    other = plan_of([web_group()], [onprem(*stuck()), cloud()], last_moves={"api": NOW})
    assert other.decisions[0].action == "move"


def test_a_group_with_a_claim_is_not_moved() -> None:
    manifests = [deployment_manifest("web", cpu="2"), pvc_manifest("data")]
    stateful = group("web", "onprem", manifests)
    (decision,) = plan_of([stateful], [onprem(*stuck()), cloud()]).decisions
    assert decision.action == "report"
    assert decision.demand is not None and decision.demand.stateful
    assert any("persistent volumes" in g for g in decision.guards)
    allowed = group("web", "onprem", manifests, allow_stateful=True)
    assert plan_of([allowed], [onprem(*stuck()), cloud()]).decisions[0].action == "move"


def test_a_stateful_set_with_claim_templates_is_not_moved() -> None:
    db = group("db", "onprem", [stateful_set_manifest("db", cpu="2")])
    pending = [
        pod(
            "db-0",
            cpu="2",
            unschedulable=CAPACITY_MESSAGE,
            owners=[owner("StatefulSet", "db")],
        )
    ]
    (decision,) = plan_of([db], [onprem(*pending), cloud()]).decisions
    assert decision.state == "stuck" and decision.action == "report"
    assert any("allowStateful" in g for g in decision.guards)


def test_no_cluster_fits_reports_why_per_candidate() -> None:
    clusters = ["onprem", "cloud", "edge"]
    states = [onprem(*stuck(cpu="6")), cloud(cpu="4"), cluster_state("edge", [node("e1", cpu="2")])]
    (decision,) = plan_of([web_group(cpu="6")], states, clusters=clusters).decisions
    assert decision.action == "report"
    assert [c.detail for c in decision.candidates] == [
        "short 2 CPU on the best node (c1) for default/web replica 1; "
        "0/1 nodes are available: 1 Insufficient cpu.",
        "short 4 CPU on the best node (e1) for default/web replica 1; "
        "0/1 nodes are available: 1 Insufficient cpu.",
    ]


def test_the_reserve_of_a_target_is_respected() -> None:
    clusters: list[ClusterConfig | str] = ["onprem", cluster_config("cloud", reserve={"cpu": "4"})]
    (decision,) = plan_of(
        [web_group(cpu="6")], [onprem(*stuck(cpu="6")), cloud(cpu="8")], clusters=clusters
    ).decisions
    assert decision.action == "report"
    assert decision.candidates[0].detail == "would leave 2 CPU free, under the reserve of 4"


# ---- unknown clusters and invalid manifests -------------------------------------------


def test_a_group_on_an_unknown_cluster_is_not_judged() -> None:
    states = [
        ClusterState.unknown("onprem", "timed out after 10s"),
        cloud(),
    ]
    (decision,) = plan_of([web_group()], states).decisions
    assert (decision.state, decision.action) == ("unknown", "report")
    assert "timed out after 10s" in decision.summary
    assert not decision.stuck_pods and not decision.candidates


def test_a_group_on_a_cluster_without_status_is_not_judged() -> None:
    (decision,) = plan_of([web_group()], [cloud()]).decisions
    assert decision.state == "unknown"
    assert "no status read" in decision.summary


def test_invalid_manifests_are_reported_and_other_groups_still_planned() -> None:
    bad = deployment_manifest("broken", cpu="lots")
    broken = group("broken", "onprem", [bad])
    states = [
        onprem(*stuck(), *stuck("broken", cpu="1")),
        cluster_state("cloud", [node("c1", cpu="8"), node("c2", cpu="8")]),
    ]
    plan = plan_of([broken, web_group()], states)
    assert decision_of(plan, "web").action == "move"
    invalid = decision_of(plan, "broken")
    assert (invalid.state, invalid.action) == ("invalid", "report")
    (problem,) = [p for p in plan.problems if p.group == "broken"]
    assert problem.file == broken.manifests[0].file
    assert "spec.template.spec.containers[0].resources.requests.cpu" in problem.field
    assert "'lots'" in problem.message


def test_invalid_manifests_of_a_group_not_stuck_are_still_problems() -> None:
    broken = group("broken", "onprem", [deployment_manifest("broken", cpu="lots")])
    plan = plan_of([broken], [onprem(), cloud()])
    assert plan.decisions[0].state == "absent"  # no pods of it on onprem: never "running"
    assert [p.group for p in plan.problems] == ["broken"]


# ---- capacity shared in one pass -------------------------------------------------------


def test_two_groups_that_each_fit_alone_do_not_both_take_the_same_room() -> None:
    groups = [web_group("alpha", cpu="5"), web_group("beta", cpu="5")]
    states = [
        onprem(*stuck("alpha", cpu="5", minutes=9), *stuck("beta", cpu="5", minutes=20)),
        cloud(cpu="8"),
    ]
    for each in groups:  # alone, each fits
        alone = plan_of([each], states)
        assert alone.decisions[0].action == "move"
    plan = plan_of(groups, states)
    assert [m.group for m in plan.moves] == ["beta"]  # stuck longest, chose first
    left = decision_of(plan, "alpha")
    assert left.action == "report"
    assert left.candidates[0].fits is False
    assert left.candidates[0].detail.startswith("short 2 CPU on the best node (c1)")


def test_capacity_left_after_one_move_is_used_by_the_next() -> None:
    groups = [web_group("alpha", cpu="3"), web_group("beta", cpu="3")]
    states = [onprem(*stuck("alpha", cpu="3"), *stuck("beta", cpu="3")), cloud(cpu="8")]
    assert sorted(m.group for m in plan_of(groups, states).moves) == ["alpha", "beta"]


def test_same_named_pods_of_two_workloads_are_each_charged_where_they_land() -> None:
    # A Deployment and a ReplicaSet may share a name; their shapes share names too.
    twins = group(
        "twins",
        "onprem",
        [
            deployment_manifest("x", cpu="3"),
            deployment_manifest("x", cpu="3", kind="ReplicaSet"),
        ],
    )
    after = web_group("after", cpu="3")
    states = [
        onprem(*stuck("x", cpu="3", minutes=30), *stuck("after", cpu="3", minutes=5)),
        cluster_state("cloud", [node("a", cpu="4"), node("b", cpu="4")]),
    ]
    plan = plan_of([twins, after], states)
    assert decision_of(plan, "twins").action == "move"
    # One 3-CPU replica on each node leaves 1 CPU per node: "after" must not fit.
    assert decision_of(plan, "after").action == "report"


def test_own_leftover_pods_on_the_target_make_room() -> None:
    # Pods of the group still on cloud (an earlier placement being pruned) do not compete.
    leftovers = deployment_pods("web", node="c1", cpu="6", first=7)
    states = [onprem(*stuck(cpu="6")), cloud("8", "32Gi", *leftovers)]
    assert plan_of([web_group(cpu="6")], states).decisions[0].action == "move"
    strangers = deployment_pods("other", node="c1", cpu="6")
    states = [onprem(*stuck(cpu="6")), cloud("8", "32Gi", *strangers)]
    assert plan_of([web_group(cpu="6")], states).decisions[0].action == "report"


# ---- a RayService counts one copy ------------------------------------------------------


def test_a_stalled_ray_service_moves_where_one_copy_fits() -> None:
    # cloud holds one copy (6 CPU, 24Gi) but not the two a second upgrade attempt would need.
    plan = plan_of([stalled_ray_group()], [stalled_ray_onprem(), cloud(cpu="8", memory="32Gi")])
    (decision,) = plan.decisions
    assert (decision.state, decision.action, decision.target) == (
        "upgrade-stalled",
        "move",
        "cloud",
    )
    assert decision.reason == "upgrade-stalled"
    assert decision.ray_service == "prediction/ray-pred"
    assert decision.demand is not None
    assert len(decision.demand.shapes) == 2
    assert decision.demand.total["cpu"] == cores(6)
    assert decision.demand.total["memory"] == 24 * GI
    assert {p.name for p in decision.stuck_pods} == {"ray-pred-bbbbb-head", "ray-pred-bbbbb-worker"}


def test_a_stalled_ray_service_stays_when_one_copy_does_not_fit() -> None:
    plan = plan_of([stalled_ray_group()], [stalled_ray_onprem(), cloud(cpu="5", memory="64Gi")])
    (decision,) = plan.decisions
    assert (decision.state, decision.action) == ("upgrade-stalled", "report")
    assert decision.candidates[0].detail.startswith("short 1 CPU on the best node (c1)")


# ---- evidence and shape of the plan ----------------------------------------------------


def test_a_move_carries_its_evidence() -> None:
    states = [onprem(*stuck(count=2, minutes=12)), cloud()]
    (decision,) = plan_of([web_group(replicas=2)], states, clusters=["onprem", "cloud"]).decisions
    assert [p.name for p in decision.stuck_pods] == ["web-5d8f7-00000", "web-5d8f7-00001"]
    assert all(p.message == CAPACITY_MESSAGE for p in decision.stuck_pods)
    assert decision.demand is not None and decision.demand.total["cpu"] == cores(4)
    (candidate,) = decision.candidates
    assert candidate.fits
    assert candidate.detail == "fits one copy (2 pods on c1)"
    assert [p.node for p in candidate.placements] == ["c1", "c1"]
    assert 0 < candidate.headroom < 1


def test_decisions_come_in_group_name_order_with_every_cluster_summarised() -> None:
    groups = [web_group("zeta"), web_group("alpha")]
    states = [onprem(), ClusterState.unknown("cloud", "forbidden")]
    plan = plan_of(groups, states, clusters=["onprem", "cloud", "edge"])
    assert [d.group for d in plan.decisions] == ["alpha", "zeta"]
    summary = {c.name: (c.known, c.reason) for c in plan.clusters}
    assert summary == {
        "onprem": (True, ""),
        "cloud": (False, "forbidden"),
        "edge": (False, "no status read"),
    }


def test_planning_does_not_change_its_input() -> None:
    states = [onprem(*stuck()), cloud()]
    before = {s.name: free_on_nodes(s) for s in states}
    first = plan_of([web_group()], states)
    assert {s.name: free_on_nodes(s) for s in states} == before
    assert plan_of([web_group()], states) == first
    assert dataclasses.asdict(first) == dataclasses.asdict(plan_of([web_group()], states))


NO_KUBERAY = frozenset({"RayService", "RayCluster", "RayJob"})


def test_a_partial_kuberay_install_serves_the_groups_whose_kinds_it_has() -> None:
    """A RayService group needs RayService and RayCluster; a missing RayJob kind is no matter."""
    import dataclasses as dc

    from .builders import stalled_ray_group, stalled_ray_onprem

    no_rayjob = frozenset({"RayJob"})
    cloud_ = dc.replace(
        cluster_state("cloud", [node(f"c{i}", cpu="16", memory="64Gi") for i in range(3)]),
        unserved_kinds=no_rayjob,
    )
    onprem_ = dc.replace(stalled_ray_onprem(), unserved_kinds=no_rayjob)
    (decision,) = plan_of([stalled_ray_group()], [onprem_, cloud_]).decisions
    assert (decision.action, decision.target) == ("move", "cloud")
    no_raycluster = dc.replace(cloud_, unserved_kinds=frozenset({"RayCluster", "RayJob"}))
    (refused,) = plan_of([stalled_ray_group()], [onprem_, no_raycluster]).decisions
    assert refused.action == "report"
    assert "ray.io/v1 RayCluster not served" in refused.candidates[0].detail


def test_a_cluster_without_kuberay_is_no_target_for_a_ray_group_and_does_not_judge_one() -> None:
    import dataclasses as dc

    from .builders import stalled_ray_group, stalled_ray_onprem

    cloud_ = dc.replace(
        cluster_state("cloud", [node(f"c{i}", cpu="16", memory="64Gi") for i in range(3)]),
        unserved_kinds=NO_KUBERAY,
    )
    plan = plan_of([stalled_ray_group()], [stalled_ray_onprem(), cloud_])
    (decision,) = plan.decisions
    assert decision.action == "report"
    assert "KubeRay is not installed" in decision.candidates[0].detail
    onprem_ = dc.replace(stalled_ray_onprem(), unserved_kinds=NO_KUBERAY)
    (on_it,) = plan_of([stalled_ray_group()], [onprem_, cloud_]).decisions
    assert (on_it.state, on_it.action) == ("unknown", "report")
    assert "does not serve ray.io/v1" in on_it.summary
