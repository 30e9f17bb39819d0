"""The move drawn for reviewers: flowchart, capacity before and after, where each pod lands."""

from __future__ import annotations

from reconciler.plan.picture import (
    capacity_table,
    mermaid_text,
    placement_flowchart,
    placements_table,
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


def web_plan() -> Plan:
    """web (2 x 2 CPU) stuck on onprem beside one running replica; cloud fits, small not."""
    web = group("web", "onprem", [deployment_manifest("web", replicas=2, cpu="2", memory="4Gi")])
    pods = deployment_pods("web", count=1, node="o1", cpu="2", memory="4Gi")
    pods += deployment_pods(
        "web",
        count=1,
        first=1,
        cpu="2",
        memory="4Gi",
        unschedulable=CAPACITY_MESSAGE,
        since=minutes_ago(7),
    )
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="3", memory="16Gi")], pods),
        "cloud": cluster_state("cloud", [node("c1", cpu="8", memory="32Gi"), node("c2")]),
        "small": cluster_state("small", [node("s1", cpu="1", memory="2Gi")]),
    }
    return make_plan(fleet(["onprem", "cloud", "small"], [web]), states, now=NOW)


def test_the_capacity_table_shows_now_and_after_the_move_in_kubernetes_units() -> None:
    plan = web_plan()
    (move,) = plan.moves
    table = capacity_table(move, clusters=plan.clusters).splitlines()
    assert table[0] == (
        "| cluster | role | fits | CPU allocatable | CPU used now | CPU after the move "
        "| memory allocatable | memory used now | memory after the move |"
    )
    # The source frees the replica bound there; the target takes one whole copy.
    assert (
        table[2]
        == "| `onprem` | source | — | 3 CPU | 2 CPU | **0 CPU** (-2) | 16Gi | 4Gi | **0** (-4Gi) |"
    )
    assert table[3] == (
        "| `cloud` | target | yes | 16 CPU | 0 CPU | **4 CPU** (+4) | 64Gi | 0 | **8Gi** (+8Gi) |"
    )
    assert table[4] == "| `small` | candidate | no | 1 CPU | 0 CPU | 0 CPU | 2Gi | 0 | 0 |"


def test_a_cordoned_node_is_not_capacity_and_an_unknown_cluster_says_so() -> None:
    plan = web_plan()
    (move,) = plan.moves
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")]),
        "cloud": cluster_state("cloud", [node("c1", cpu="8"), node("c2", unschedulable=True)]),
    }
    again = make_plan(fleet(["onprem", "cloud", "small"], []), states, now=NOW)
    table = capacity_table(move, clusters=again.clusters)
    assert "| `cloud` | target | yes | 8 CPU |" in table
    assert "| `small` | candidate | no | unknown | unknown | unknown |" in table


def test_the_flowchart_draws_the_move_and_why_each_other_candidate_was_not_chosen() -> None:
    (move,) = web_plan().moves
    chart = placement_flowchart(move)
    assert 'src ==>|"web: capacity"| dst' in chart
    assert 'dst["cloud"]' in chart and 'c1["small"]' in chart
    assert 'src -.->|"no: short 1 CPU' in chart
    assert chart.startswith("```mermaid\nflowchart LR\n") and chart.endswith("\n```")
    assert [check_mermaid(block) for block in mermaid_blocks(chart)] == [[]]


def test_many_candidates_are_drawn_up_to_a_few_then_counted() -> None:
    (move,) = web_plan().moves
    chart = placement_flowchart(move, others=0)
    assert 'more["1 more candidates (see the tables)"]' in chart
    assert "c1" not in chart
    assert check_mermaid(mermaid_blocks(chart)[0]) == []


def test_labels_keep_mermaid_s_special_characters_as_entity_codes() -> None:
    text = mermaid_text('pull request #12 said "no" | <b>x</b> `y`')
    assert text == ("pull request #35;12 said #quot;no#quot; #124; #lt;b#gt;x#lt;/b#gt; #96;y#96;")
    assert len(mermaid_text("x" * 500)) == 90


def test_the_pods_table_says_where_the_simulation_puts_each_pod() -> None:
    (move,) = web_plan().moves
    assert placements_table(move).splitlines() == [
        "| pod | asks for | lands on |",
        "|---|---|---|",
        "| `default/web replica 1` | 2 CPU, 4Gi | `c1` |",
        "| `default/web replica 2` | 2 CPU, 4Gi | `c2` |",  # c2 has more room left then
    ]
    assert placements_table(move, rows=1).splitlines()[-1] == "| … 1 more pods | | |"


def test_a_make_before_break_copy_keeps_the_source_full_and_says_so_on_the_arrow() -> None:
    import dataclasses

    plan = web_plan()
    (move,) = plan.moves
    copy = dataclasses.replace(move, phase="copy")
    table = capacity_table(copy, clusters=plan.clusters).splitlines()
    assert table[2].startswith("| `onprem` | source | — | 3 CPU | 2 CPU | 2 CPU |")  # both copies
    assert table[3].startswith("| `cloud` | target | yes | 16 CPU | 0 CPU | **4 CPU** (+4) |")
    assert 'src ==>|"web: capacity, make-before-break 1/2: copy"| dst' in placement_flowchart(copy)
