"""Landing: after a move a group is arriving, then landed or not-arrived; nothing seen is absent."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pytest

from reconciler.fleet.model import Group
from reconciler.plan.explain import plan_json, plan_text
from reconciler.plan.landing import judge_landing
from reconciler.plan.planner import Decision, make_plan
from reconciler.status.model import ClusterState, Condition, KubeObject, Pod

from .builders import (
    CAPACITY_MESSAGE,
    NOW,
    cluster_state,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
    owner,
    pod,
    ray_service_manifest,
    worker,
)


def web_on_cloud(**policy: object) -> Group:
    """Group web, just moved to cloud (its current cluster in the fleet repo)."""
    return group("web", "cloud", [deployment_manifest("web", cpu="2")], **policy)


def onprem(*pods: Pod) -> ClusterState:
    return cluster_state("onprem", [node("o1", cpu="8")], pods)


def cloud(*pods: Pod, objects: Sequence[KubeObject] = ()) -> ClusterState:
    return cluster_state("cloud", [node("c1", cpu="1")], pods, objects)


def decide(
    states: Sequence[ClusterState], *, moved: float | None, grp: Group | None = None
) -> Decision:
    """The decision for the one group, its last move `moved` minutes ago (None: never)."""
    chosen = grp or web_on_cloud()
    last = {} if moved is None else {chosen.name: minutes_ago(moved)}
    plan = make_plan(
        fleet(["onprem", "cloud"], [chosen]),
        {s.name: s for s in states},
        now=NOW,
        last_moves=last,
    )
    (decision,) = plan.decisions
    return decision


RUNNING = deployment_pods("web", node="c1", cpu="500m")
UNSCHEDULABLE = deployment_pods(
    "web", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(10), cpu="2"
)


@pytest.mark.parametrize(
    ("cloud_pods", "moved", "state", "action"),
    [
        pytest.param([], 5, "arriving", "report", id="moved 5m ago, nothing seen yet"),
        pytest.param(RUNNING, 5, "landed", "stay", id="moved 5m ago, its pods Running"),
        pytest.param(RUNNING, 0, "landed", "stay", id="landed at once when seen Running"),
        pytest.param(UNSCHEDULABLE, 10, "arriving", "report", id="unschedulable, in time"),
        pytest.param([], 20, "not-arrived", "report", id="past the deadline, nothing seen"),
        pytest.param(UNSCHEDULABLE, 20, "not-arrived", "report", id="past it, unschedulable"),
        pytest.param([], None, "absent", "report", id="never moved, nothing seen"),
        pytest.param([], 31, "absent", "report", id="moved long ago, nothing seen"),
        pytest.param(RUNNING, 31, "running", "stay", id="moved long ago, running"),
        pytest.param(RUNNING, None, "running", "stay", id="never moved, running"),
    ],
)
def test_landing_states(
    cloud_pods: list[Pod], moved: float | None, state: str, action: str
) -> None:
    decision = decide([onprem(), cloud(*cloud_pods)], moved=moved)
    assert (decision.state, decision.action) == (state, action)


def test_arriving_becomes_landed_once_its_pods_are_seen_scheduled() -> None:
    arriving = decide([onprem(), cloud()], moved=3)
    assert arriving.state == "arriving"
    assert arriving.landing is not None
    assert arriving.landing.moved_at == minutes_ago(3)
    assert arriving.landing.deadline == minutes_ago(3) + dt.timedelta(minutes=15)
    assert "arriving on cloud: moved 3m ago, given until 12:12Z to land" in arriving.summary
    landed = decide([onprem(), cloud(*RUNNING)], moved=4)
    assert (landed.state, landed.action) == ("landed", "stay")
    assert landed.summary == "landed on cloud: moved 4m ago, every pod seen there is scheduled"
    assert landed.landing is not None and landed.landing.evidence == ()


def test_not_arrived_with_nothing_seen_says_the_engine_did_not_apply_it() -> None:
    decision = decide([onprem(), cloud()], moved=20)
    assert decision.state == "not-arrived"
    assert "past the 15m arrival deadline" in decision.summary
    assert decision.landing is not None
    (evidence,) = decision.landing.evidence
    assert evidence.startswith("no object of web seen on cloud: the GitOps engine has not")
    assert "Argo CD's Application cloud-web" in evidence and "Flux" in evidence


def test_not_arrived_with_unschedulable_pods_quotes_the_scheduler() -> None:
    decision = decide([onprem(), cloud(*UNSCHEDULABLE)], moved=20)
    assert decision.state == "not-arrived"
    assert decision.landing is not None
    (evidence,) = decision.landing.evidence
    assert evidence == (
        "1 pod(s) unschedulable on cloud (default/web-5d8f7-00000); the scheduler says: "
        "0/2 nodes are available: 2 Insufficient cpu"
    )
    assert "(1 pod(s) unschedulable on cloud" in decision.summary


def test_an_arriving_group_is_not_judged_stuck_on_its_target() -> None:
    # Its pods have been unschedulable on cloud past the grace period, and onprem fits it:
    # without the landing it would move straight back.
    decision = decide([onprem(), cloud(*UNSCHEDULABLE)], moved=10)
    assert (decision.state, decision.action, decision.target) == ("arriving", "report", "")
    assert decision.guards[0] == "it is arriving: not judged stuck on cloud before 12:05Z"
    assert any("cooldown until" in guard for guard in decision.guards)
    (candidate,) = decision.candidates  # shown, not taken
    assert candidate.cluster == "onprem" and candidate.fits


def test_a_not_arrived_group_is_judged_as_usual_once_the_cooldown_is_over() -> None:
    within = decide([onprem(), cloud(*UNSCHEDULABLE)], moved=29)
    assert (within.state, within.action) == ("not-arrived", "report")
    after = decide([onprem(), cloud(*UNSCHEDULABLE)], moved=31)
    assert (after.state, after.action, after.target) == ("stuck", "move", "onprem")


def test_the_landing_window_is_the_longer_of_deadline_and_cooldown() -> None:
    patient = web_on_cloud(arrival_deadline=dt.timedelta(hours=1))
    decision = decide([onprem(), cloud()], moved=45, grp=patient)
    assert decision.state == "arriving"
    assert decision.landing is not None
    assert decision.landing.window_end == minutes_ago(45) + dt.timedelta(hours=1)


def test_the_old_copy_still_pruned_on_the_source_is_not_the_group() -> None:
    old_copy = deployment_pods("web", node="o1", cpu="500m")
    pending_old = deployment_pods("web", unschedulable=CAPACITY_MESSAGE, first=5)
    decision = decide([onprem(*old_copy, *pending_old), cloud()], moved=2)
    assert decision.state == "arriving"  # Running on onprem is not landed on cloud
    assert decision.stuck_pods == ()  # and onprem's pending pods are not its stuck pods
    assert decision.landing is not None
    assert decision.landing.evidence[0].startswith("no object of web seen on cloud")


def test_an_absent_group_is_never_running() -> None:
    decision = decide([onprem(), cloud()], moved=None)
    assert decision.state == "absent"
    assert decision.summary == (
        "absent: nothing of it is seen on cloud and it did not move there recently"
    )


def test_pods_not_scheduled_yet_keep_it_arriving() -> None:
    # Just created by its ReplicaSet: no PodScheduled condition yet.
    created = pod("web-5d8f7-00000", cpu="2", owners=[owner("ReplicaSet", "web-5d8f7")])
    decision = decide([onprem(), cloud(created)], moved=1)
    assert decision.state == "arriving"
    assert decision.landing is not None
    assert decision.landing.evidence == ("1 pod(s) not scheduled yet on cloud",)


def test_finished_pods_do_not_hold_the_landing_back() -> None:
    finished = pod("web-5d8f7-00001", cpu="2", owners=[owner("ReplicaSet", "web-5d8f7")])
    done = dataclasses.replace(finished, phase="Succeeded")
    decision = decide([onprem(), cloud(*RUNNING, done)], moved=1)
    assert decision.state == "landed"


def ray_on_cloud() -> Group:
    manifest = ray_service_manifest("ray-pred", namespace="prediction", workers=[worker()])
    return group("ray-pred", "cloud", [manifest])


def ray_service(*, ready: bool) -> KubeObject:
    condition = Condition(type="Ready", status="True" if ready else "False")
    return KubeObject(
        kind="RayService", namespace="prediction", name="ray-pred", conditions=(condition,)
    )


def ray_pods() -> list[Pod]:
    return [
        pod(f"ray-pred-c10ud-{role}", namespace="prediction", node="c1", cpu="100m",
            labels={"ray.io/cluster": "ray-pred-c10ud"})
        for role in ("head", "worker")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("ready", "state"), [(False, "arriving"), (True, "landed")], ids=["not Ready", "Ready"]
)
def test_a_ray_service_lands_when_ready(ready: bool, state: str) -> None:
    states = [onprem(), cloud(*ray_pods(), objects=[ray_service(ready=ready)])]
    decision = decide(states, moved=5, grp=ray_on_cloud())
    assert decision.state == state
    if not ready:
        assert decision.landing is not None
        assert decision.landing.evidence == ("RayService prediction/ray-pred not Ready on cloud",)


def test_a_group_the_status_cannot_see_is_not_observed() -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "data": {"a": "b"},
    }
    only_config = group("settings", "cloud", [config_map])
    decision = decide([onprem(), cloud()], moved=None, grp=only_config)
    assert (decision.state, decision.action) == ("not-observed", "stay")
    assert "no kind the status reads" in decision.summary


def test_a_move_in_the_future_of_now_is_not_recent() -> None:
    # A what-if run with --now before the move: the move has not happened at that time.
    verdict = judge_landing(
        web_on_cloud(), pods=RUNNING, objects=(), last_move=NOW + dt.timedelta(minutes=5), now=NOW
    )
    assert verdict.state == ""


def test_plan_text_and_json_show_the_landing_and_its_evidence() -> None:
    plan = make_plan(
        fleet(["onprem", "cloud"], [web_on_cloud()]),
        {"onprem": onprem(), "cloud": cloud(*UNSCHEDULABLE)},
        now=NOW,
        last_moves={"web": minutes_ago(20)},
    )
    text = plan_text(plan)
    assert "  web on cloud: report: not arrived on cloud: moved 20m ago" in text
    assert "    evidence: 1 pod(s) unschedulable on cloud (default/web-5d8f7-00000)" in text
    (decision,) = plan_json(plan)["decisions"]
    assert decision["state"] == "not-arrived"
    assert decision["landing"] == {
        "state": "not-arrived",
        "movedAt": "2025-06-01T11:40:00Z",
        "deadline": "2025-06-01T11:55:00Z",
        "evidence": [
            "1 pod(s) unschedulable on cloud (default/web-5d8f7-00000); the scheduler says: "
            "0/2 nodes are available: 2 Insufficient cpu"
        ],
    }
    running = make_plan(
        fleet(["onprem", "cloud"], [web_on_cloud()]),
        {"onprem": onprem(), "cloud": cloud(*RUNNING)},
        now=NOW,
    )
    assert plan_json(running)["decisions"][0]["landing"] is None
