"""explain GROUP on the demo: a stalled, a held-back and a running group, told in full."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.demo import DEMO_DIR, template_dir
from reconciler.fleet.reader import read_fleet
from reconciler.plan.explain_group import explain_group
from reconciler.plan.planner import make_plan
from reconciler.status.snapshot import read_snapshots

NOW = dt.datetime(2026, 11, 28, 12, 10, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def story() -> dict[str, str]:
    fleet = read_fleet(Path(template_dir()))
    states = read_snapshots(DEMO_DIR / "snapshots", clusters=["onprem", "cloud"])
    plan = make_plan(fleet, states, now=NOW)
    told = {}
    for decision in plan.decisions:
        group = fleet.group(decision.group)
        assert group is not None
        told[decision.group] = explain_group(group, decision, states=states, now=NOW)
    return told


def test_a_stalled_group_shows_pods_demand_per_shape_and_node_classes(
    story: dict[str, str],
) -> None:
    text = story["ray-pred"]
    assert "state:     upgrade-stalled" in text
    assert "decision:  MOVE: upgrade stalled on onprem; move to cloud" in text
    assert "Pods pending (3):" in text and "Insufficient cpu" in text
    assert "1 x prediction/ray-pred head: 2.5 CPU, 8.5Gi memory" in text
    assert "2 x prediction/ray-pred cpu-workers worker: 6 CPU, 24Gi memory" in text
    assert "2 x [16 CPU, 64Gi memory]" in text  # onprem's node class
    assert "cpu-workers worker: short 3.6 CPU on the best node (onprem-node-1)" in text
    assert "cloud (candidate): fits: fits one copy" in text


def test_a_held_back_group_names_the_guard(story: dict[str, str]) -> None:
    text = story["batch-etl"]
    assert "decision:  REPORT" in text
    assert "Guards:\n  skipCapacityRelocate is set" in text


def test_a_running_group_still_shows_where_it_would_fit(story: dict[str, str]) -> None:
    text = story["web-frontend"]
    assert "decision:  STAY: running on cloud" in text
    assert "Pods: none pending" in text
    assert "web/web-frontend replica: fits on 2 of 2 now" in text
    assert "none held this group back" in text
