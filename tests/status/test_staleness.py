"""Stale status: a cluster read longer ago than maxStatusAge is unknown for the pass."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

from reconciler.cli.main import main
from reconciler.status.model import ClusterState, mark_stale

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def state(name: str, *, read_minutes_ago: float | None, known: bool = True) -> ClusterState:
    read_at = None if read_minutes_ago is None else NOW - dt.timedelta(minutes=read_minutes_ago)
    return ClusterState(name=name, known=known, read_at=read_at, reason="" if known else "down")


def test_only_known_clusters_older_than_their_limit_turn_unknown() -> None:
    states = {
        "fresh": state("fresh", read_minutes_ago=2),
        "old": state("old", read_minutes_ago=25),
        "patient": state("patient", read_minutes_ago=25),
        "future": state("future", read_minutes_ago=-60),  # a what-if with --now in the past
        "untimed": state("untimed", read_minutes_ago=None),
        "down": state("down", read_minutes_ago=90, known=False),
    }
    limits = dict.fromkeys(states, dt.timedelta(minutes=10)) | {"patient": dt.timedelta(hours=1)}
    marked = mark_stale(states, now=NOW, max_age=limits)
    assert {name: s.known for name, s in marked.items()} == {
        "fresh": True,
        "old": False,
        "patient": True,
        "future": True,
        "untimed": True,
        "down": False,
    }
    assert marked["old"].reason == "stale: status read 25m ago, over the 0:10:00 limit"
    assert marked["down"].reason == "down"


def test_a_stale_snapshot_moves_nothing(tmp_path: Path) -> None:
    from reconciler.demo import DEMO_DIR, build_fleet_repo

    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    fleet, _ = build_fleet_repo(tmp_path / "work", when=NOW - dt.timedelta(days=1))
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    for name in ("onprem", "cloud"):
        target = snapshots / f"{name}.yaml"
        target.write_text((DEMO_DIR / "snapshots" / f"{name}.yaml").read_text())
    read = NOW.timestamp() - 3600  # cloud's snapshot was taken an hour before --now
    os.utime(snapshots / "cloud.yaml", (read, read))
    os.utime(snapshots / "onprem.yaml", (NOW.timestamp(), NOW.timestamp()))
    out = io.StringIO()
    code = main(
        [
            "plan",
            "--repo",
            str(fleet),
            "--status",
            str(snapshots),
            "--now",
            "2026-11-28T12:10:00Z",
            "-o",
            "json",
        ],
        out=out,
    )
    assert code == 0
    plan = json.loads(out.getvalue())
    cloud = next(c for c in plan["clusters"] if c["name"] == "cloud")
    assert not cloud["known"] and cloud["reason"].startswith("stale: status read 70m ago")
    assert not [d for d in plan["decisions"] if d["action"] == "move"]
