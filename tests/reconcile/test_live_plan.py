"""`plan` through the real kubernetes client against two fake API servers on 127.0.0.1.

A live read of the clusters plans exactly as the snapshots of the same objects do, and a
cluster that cannot be read moves nothing off it or onto it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer

from reconciler.cli.main import main
from reconciler.demo import DEMO_DIR
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all
from tests.status.fake_apiserver import FakeApiServer, start_servers, write_kubeconfig

TOKENS = {"onprem": "onprem-token-0123456789abcdef", "cloud": "cloud-token-fedcba9876543210"}


@pytest.fixture
def live(fleet: Path, tmp_path: Path) -> Iterator[tuple[Path, dict[str, FakeApiServer]]]:
    """The demo's objects served by two fake API servers; fleet.yaml pointed at them."""
    servers: list[HTTPServer] = list(start_servers(2))
    fakes = {}
    for (name, token), server in zip(TOKENS.items(), servers, strict=True):
        fake = FakeApiServer(server, token=token)
        snapshot = yaml.safe_load((DEMO_DIR / "snapshots" / f"{name}.yaml").read_text())
        fake.add(*snapshot["items"])
        fakes[name] = fake
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {name: (fake.url, fake.token) for name, fake in fakes.items()}
    )
    config = fleet / "fleet.yaml"
    config.write_text(
        config.read_text()
        .replace("context: onprem ", "context: ctx-onprem ")
        .replace("context: cloud", "context: ctx-cloud")
    )
    commit_all(fleet, "contexts of the fake clusters")
    yield kubeconfig, fakes
    for server in servers:
        server.check_handler_errors()
        server.stop()


def plan(fleet: Path, *status: str) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    assert main(["plan", "--repo", str(fleet), "--now", NOW, "-o", "json", *status], out=out) == 0
    return json.loads(out.getvalue())


def test_a_live_read_plans_exactly_like_the_snapshots(
    fleet: Path, live: tuple[Path, dict[str, FakeApiServer]]
) -> None:
    kubeconfig, _ = live
    from_api = plan(fleet, "--kubeconfig", str(kubeconfig))  # --status live is the default
    from_files = plan(fleet, "--status", str(DEMO_DIR / "snapshots"))
    assert from_api["decisions"] == from_files["decisions"]
    assert [c["known"] for c in from_api["clusters"]] == [True, True]
    ray = next(d for d in from_api["decisions"] if d["group"] == "ray-pred")
    assert (ray["action"], ray["target"]) == ("move", "cloud")


def test_a_cluster_that_cannot_be_read_is_neither_judged_nor_a_target(
    fleet: Path, live: tuple[Path, dict[str, FakeApiServer]]
) -> None:
    kubeconfig, fakes = live
    fakes["cloud"].fail("nodes", status=403, times=10)
    result = plan(fleet, "--kubeconfig", str(kubeconfig))
    cloud = next(c for c in result["clusters"] if c["name"] == "cloud")
    assert cloud["known"] is False and "forbidden (403)" in cloud["reason"]
    decisions = {d["group"]: d for d in result["decisions"]}
    assert decisions["ray-pred"]["action"] == "report"  # nothing moves onto the unknown cloud
    assert decisions["web-frontend"]["state"] == "unknown"  # nothing on it is judged
    assert not [d for d in result["decisions"] if d["action"] == "move"]
    assert TOKENS["cloud"] not in json.dumps(result)


def test_snapshot_command_writes_a_file_that_plans_like_the_live_read(
    fleet: Path, live: tuple[Path, dict[str, FakeApiServer]], tmp_path: Path
) -> None:
    kubeconfig, _ = live
    out_dir = tmp_path / "dumped"
    for name in TOKENS:
        code = main(
            [
                "snapshot",
                "--context",
                f"ctx-{name}",
                "--name",
                name,
                "-o",
                str(out_dir),
                "--kubeconfig",
                str(kubeconfig),
            ],
            out=io.StringIO(),
        )
        assert code == 0
    assert (
        plan(fleet, "--status", str(out_dir))["decisions"]
        == plan(fleet, "--kubeconfig", str(kubeconfig))["decisions"]
    )
