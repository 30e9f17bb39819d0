"""Decisions in plain words: the commit message and its trailers, plan text, plan JSON."""

from __future__ import annotations

import json

from reconciler.plan.explain import amounts, commit_message, plan_json, plan_text
from reconciler.plan.planner import Decision, Plan, make_plan
from reconciler.status.model import ClusterState

from .builders import (
    CAPACITY_MESSAGE,
    GI,
    NOW,
    cluster_state,
    cores,
    deployment_manifest,
    deployment_pods,
    fleet,
    group,
    minutes_ago,
    node,
    stalled_ray_group,
    stalled_ray_onprem,
)


def web_plan() -> Plan:
    groups = [
        group("web", "onprem", [deployment_manifest("web", replicas=2, cpu="2")]),
        group("idle", "onprem", [deployment_manifest("idle", cpu="lots")]),
        group("far", "edge", [deployment_manifest("far")]),
    ]
    states = {
        "onprem": cluster_state(
            "onprem",
            [node("o1", cpu="1")],
            deployment_pods(
                "web", count=2, cpu="2", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(7)
            ),
        ),
        "cloud": cluster_state("cloud", [node("c1", cpu="8")]),
        "small": cluster_state("small", [node("s1", cpu="2")]),
        "edge": ClusterState.unknown("edge", "connection refused"),
    }
    return make_plan(fleet(["onprem", "cloud", "small", "edge"], groups), states, now=NOW)


def web_move() -> Decision:
    (move,) = web_plan().moves
    return move


def test_amounts_read_like_people_write_them() -> None:
    assert amounts({"memory": 48 * GI, "cpu": cores(12), "nvidia.com/gpu": 2000}) == (
        "12 CPU, 48Gi memory, 2 nvidia.com/gpu"
    )
    assert amounts({}) == "nothing"


def test_commit_message_title_and_trailers() -> None:
    message = commit_message(web_move(), now=NOW)
    assert message.splitlines()[0] == "placement: move web from onprem to cloud"
    assert message.splitlines()[1] == ""
    trailers = message.rstrip("\n").split("\n\n")[-1]
    assert trailers.splitlines() == [
        "Placement-Group: web",
        "Placement-From: onprem",
        "Placement-To: cloud",
        "Placement-Reason: capacity",
    ]


def test_commit_message_carries_the_evidence() -> None:
    message = commit_message(web_move(), now=NOW)
    assert "group web: stuck, 2 pods unschedulable for 7m" in message
    assert "Insufficient cpu" in message
    assert "preemption" not in message  # the scheduler's second sentence is noise here
    assert "cloud fits one copy (4 CPU, 2Gi memory)" in message
    assert "small" in message  # the other candidates, and why not
    assert "short" in message


def test_commit_message_of_a_stalled_ray_service() -> None:
    states = {
        "onprem": stalled_ray_onprem(),
        "cloud": cluster_state("cloud", [node("c1", cpu="8", memory="32Gi")]),
    }
    (move,) = make_plan(fleet(["onprem", "cloud"], [stalled_ray_group()]), states, now=NOW).moves
    message = commit_message(move, now=NOW)
    assert message.startswith("placement: move ray-pred from onprem to cloud\n\n")
    assert "RayService prediction/ray-pred: upgrade stalled, 2 pods unschedulable for 7m" in message
    assert "cloud fits one copy (6 CPU, 24Gi memory)" in message
    assert message.endswith("Placement-Reason: upgrade-stalled\n")


def test_plan_text_names_stuck_pods_candidates_and_problems() -> None:
    text = plan_text(web_plan())
    assert "web on onprem: MOVE" in text
    assert "pending default/web-5d8f7-00000 for 7m" in text
    assert "pending default/web-5d8f7-00001 for 7m" in text
    assert "candidate cloud: fits" in text
    assert "candidate small: no: short" in text
    assert "candidate edge: no: status unknown" in text
    assert "edge: UNKNOWN (connection refused)" in text
    assert "far on edge: report: not judged" in text
    assert "containers[0].resources.requests.cpu" in text  # the invalid manifest of "idle"
    assert text.rstrip().endswith("1 move decided.")


def test_plan_json_is_serialisable_and_complete() -> None:
    plan = web_plan()
    data = plan_json(plan)
    again = json.loads(json.dumps(data))
    assert again == data
    assert again["now"] == "2025-06-01T12:00:00Z"
    decisions = {d["group"]: d for d in again["decisions"]}
    web = decisions["web"]
    assert (web["action"], web["target"], web["reason"]) == ("move", "cloud", "capacity")
    assert [p["name"] for p in web["stuckPods"]] == ["web-5d8f7-00000", "web-5d8f7-00001"]
    assert web["stuckPods"][0]["pendingSeconds"] == 420
    assert web["demand"] == {
        "pods": 2,
        "total": {"cpu": "4", "memory": "2Gi"},
        "stateful": False,
        "perNode": [],
        "notes": [],
    }
    assert [c["cluster"] for c in web["candidates"]] == ["cloud", "small", "edge"]
    assert web["candidates"][0]["placements"] == [
        {"pod": "default/web replica 1", "node": "c1"},
        {"pod": "default/web replica 2", "node": "c1"},
    ]
    assert decisions["far"]["state"] == "unknown" and decisions["far"]["target"] is None
    assert [c["known"] for c in again["clusters"]] == [True, True, True, False]
    assert any(p["group"] == "idle" for p in again["problems"])


def test_pull_request_body_explains_the_move_for_reviewers() -> None:
    from reconciler.core.config import GroupPolicy
    from reconciler.plan.explain import policy_summary, pull_request_title
    from reconciler.plan.markdown import pull_request_body
    from reconciler.plan.planner import make_plan

    from .builders import NOW, cluster_state, fleet, node, stalled_ray_group, stalled_ray_onprem

    states = {
        "onprem": stalled_ray_onprem(),
        "cloud": cluster_state("cloud", [node(f"c{i}", cpu="16", memory="64Gi") for i in range(3)]),
    }
    plan = make_plan(fleet(groups=[stalled_ray_group()]), states, now=NOW)
    (move,) = plan.moves
    body = pull_request_body(
        move, clusters=plan.clusters, now=NOW, policy=policy_summary(GroupPolicy())
    )
    assert pull_request_title(move) == f"placement: move {move.group} from onprem to cloud"
    assert "upgrade-stalled" in body
    assert "| pod | pending for | scheduler says |" in body
    assert all(f"`{p.namespace}/{p.name}`" in body for p in move.stuck_pods)
    assert "| `cloud` (chosen) | yes |" in body
    assert "cooldown 30m; veto window 24h; strategy auto" in body
    # No pod of the active RayCluster is Ready: auto recreates, and the body says why.
    assert "Strategy recreate: nothing of the group serves on its cluster" in body
    assert "Close this pull request without merging to refuse the move" in body
