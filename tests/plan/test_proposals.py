"""Memory between passes: open move pull requests hold capacity; closed ones veto the move."""

from __future__ import annotations

import datetime as dt

from reconciler.plan.planner import Veto, make_plan

from .builders import NOW, cluster_state, fleet, node
from .test_planner import cloud, decision_of, onprem, stuck, web_group


def three_clusters() -> list[str]:
    return ["onprem", "cloud", "edge"]


def test_an_open_proposal_holds_its_target_against_a_longer_stuck_group() -> None:
    groups = [web_group("alpha", cpu="5"), web_group("beta", cpu="5")]
    states = [
        onprem(*stuck("alpha", cpu="5", minutes=9), *stuck("beta", cpu="5", minutes=20)),
        cloud(cpu="8"),
    ]
    plan = make_plan(
        fleet(groups=groups), {s.name: s for s in states}, now=NOW, proposed={"alpha": "cloud"}
    )
    assert [m.group for m in plan.moves] == ["alpha"]  # beta was stuck longer, alpha's PR holds
    assert decision_of(plan, "beta").action == "report"


def test_a_proposal_keeps_its_target_while_it_fits_even_if_another_is_preferred() -> None:
    group_ = web_group("alpha", cpu="2", preferredClusters=["cloud", "edge"])
    states = {
        "onprem": onprem(*stuck("alpha", cpu="2")),
        "cloud": cloud(cpu="8"),
        "edge": cluster_state("edge", [node("e1", cpu="8")]),
    }
    config = fleet(groups=[group_], clusters=three_clusters())
    assert make_plan(config, states, now=NOW).moves[0].target == "cloud"  # preferred
    sticky = make_plan(config, states, now=NOW, proposed={"alpha": "edge"})
    assert sticky.moves[0].target == "edge"  # the open PR's target still fits: no churn


def test_a_proposal_whose_target_no_longer_fits_is_rebuilt_elsewhere() -> None:
    group_ = web_group("alpha", cpu="6")
    states = {
        "onprem": onprem(*stuck("alpha", cpu="6")),
        "cloud": cloud(cpu="8"),
        "edge": cluster_state("edge", [node("e1", cpu="4")]),
    }
    plan = make_plan(
        fleet(groups=[group_], clusters=three_clusters()),
        states,
        now=NOW,
        proposed={"alpha": "edge"},
    )
    assert plan.moves[0].target == "cloud"


def test_a_vetoed_move_is_not_proposed_again_within_the_window() -> None:
    group_ = web_group("alpha", cpu="2")
    states = {"onprem": onprem(*stuck("alpha", cpu="2")), "cloud": cloud(cpu="8")}
    veto = Veto(target="cloud", until=NOW + dt.timedelta(hours=3), pull_request=7)
    plan = make_plan(fleet(groups=[group_]), states, now=NOW, vetoes={"alpha": [veto]})
    decision = decision_of(plan, "alpha")
    assert decision.action == "report"
    (candidate,) = decision.candidates
    assert not candidate.fits
    assert "pull request #7 for this move was closed without merging" in candidate.detail


def test_a_veto_only_covers_its_target_and_its_window() -> None:
    group_ = web_group("alpha", cpu="2")
    states = {
        "onprem": onprem(*stuck("alpha", cpu="2")),
        "cloud": cloud(cpu="8"),
        "edge": cluster_state("edge", [node("e1", cpu="8")]),
    }
    config = fleet(groups=[group_], clusters=three_clusters())
    vetoed = {"alpha": [Veto(target="cloud", until=NOW + dt.timedelta(hours=1))]}
    assert make_plan(config, states, now=NOW, vetoes=vetoed).moves[0].target == "edge"
    expired = {"alpha": [Veto(target="cloud", until=NOW - dt.timedelta(seconds=1))]}
    assert make_plan(config, states, now=NOW, vetoes=expired).moves[0].target == "cloud"
