"""The Markdown a reviewer reads: one body for pull request, plan and explain, under the limit."""

from __future__ import annotations

from reconciler.github.pull_requests import MAX_BODY
from reconciler.plan.markdown import (
    BODY_LIMIT,
    decision_markdown,
    group_markdown,
    plan_markdown,
    pull_request_body,
)
from reconciler.plan.planner import Plan, make_plan
from tests.mermaid_grammar import check_mermaid, mermaid_blocks

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
)

CANDIDATES = 100


def hundred_candidates_plan(*, stuck: int = 150) -> Plan:
    """`big` (150 replicas) stuck on onprem; 100 other clusters with long names, the first
    ten roomy enough, the others too small, each with its reason."""
    names = [f"region-{i:03d}-" + "availability-zone-a-pool" for i in range(CANDIDATES)]
    big = group("big", "onprem", [deployment_manifest("big", replicas=stuck, cpu="1")])
    pods = deployment_pods(
        "big", count=stuck, cpu="1", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(9)
    )
    states = {"onprem": cluster_state("onprem", [node("o1", cpu="4")], pods)}
    for index, name in enumerate(names):
        size = "200" if index < 10 else "2"
        roomy = node(f"{name}-n1", cpu=size, memory="1Ti", pods="500")
        states[name] = cluster_state(name, [roomy])
    return make_plan(fleet(["onprem", *names], [big]), states, now=NOW)


def test_a_hundred_candidates_fit_under_github_s_limit_with_the_verdict_whole() -> None:
    plan = hundred_candidates_plan()
    (move,) = plan.moves
    full = decision_markdown(move, clusters=plan.clusters, now=NOW, policy="p")
    body = pull_request_body(move, clusters=plan.clusters, now=NOW, policy="p")
    assert len(full) > BODY_LIMIT  # the whole detail would not fit: rows were left out
    assert len(body) <= BODY_LIMIT < MAX_BODY  # GitHub's own cut (and its limit) never hits
    # The verdict is whole: where it goes, why, and the flowchart of the move.
    assert body.startswith("**big** is stuck on `onprem`. This pull request moves the group")
    assert 'src ==>|"big: capacity"| dst' in body
    assert f'dst["{move.target}"]' in body
    assert "more candidates" in body  # the tables say how many rows they left out
    assert "Close this pull request without merging" in body
    assert [check_mermaid(block) for block in mermaid_blocks(body)] == [[]]


def test_a_small_body_keeps_every_row() -> None:
    plan = hundred_candidates_plan(stuck=3)
    (move,) = plan.moves
    body = pull_request_body(move, clusters=plan.clusters, now=NOW, policy="p")
    assert body == decision_markdown(move, clusters=plan.clusters, now=NOW, policy="p")
    assert body.count("| candidate |") == CANDIDATES - 1
    assert "91 more candidates (see the tables)" in body  # the flowchart draws only a few


def test_plan_markdown_shows_each_move_exactly_as_its_pull_request() -> None:
    plan = hundred_candidates_plan(stuck=3)
    (move,) = plan.moves
    text = plan_markdown(plan, policies={"big": "p"})
    body = pull_request_body(move, clusters=plan.clusters, now=NOW, policy="p")
    assert f"## placement: move big from onprem to {move.target}\n\n{body}\n" in text
    assert group_markdown(move, plan=plan, policy="p") in text  # explain -o markdown's piece
    assert "| `big` | `onprem` | stuck | move: stuck on onprem; move to " in text
    assert all(check_mermaid(block) == [] for block in mermaid_blocks(text))


def test_a_group_held_back_shows_its_candidates_and_why_it_stays() -> None:
    held = group(
        "web", "onprem", [deployment_manifest("web", cpu="2")], skip_capacity_relocate=True
    )
    pods = deployment_pods("web", cpu="2", unschedulable=CAPACITY_MESSAGE, since=minutes_ago(9))
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], pods),
        "cloud": cluster_state("cloud", [node("c1", cpu="8")]),
    }
    plan = make_plan(fleet(["onprem", "cloud"], [held]), states, now=NOW)
    text = plan_markdown(plan, policies={})
    assert "## web: stuck on onprem, not moved" in text
    assert "Not moved: skipCapacityRelocate is set" in text
    assert 'src -.->|"fits one copy"| c1' in text
    assert "after the move" not in text  # nothing moves: no 'after' columns
    assert "Close this pull request" not in text
