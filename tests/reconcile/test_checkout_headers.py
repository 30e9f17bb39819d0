"""A checkout that already authenticates to GitHub (actions/checkout's stored header) is
refused with what to do, before git would send two Authorization headers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.github.credentials import git_host_url
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import DEMO_NOW, git, taken_at
from tests.reconcile.github_fleet import TOKEN, WHEN


def test_run_in_mode_pr_refuses_a_checkout_with_actions_checkouts_header(
    fleet: Path,
    github: FakeGitHub,
    snapshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    key = f"http.{git_host_url(github.base_url)}/.extraheader"
    git(fleet, "config", key, "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2NoZWNrb3V0")
    run = ["run", "--repo", str(fleet), "--status", str(taken_at(snapshots, WHEN))]

    code = main([*run, "--now", DEMO_NOW], out=io.StringIO())

    err = capsys.readouterr().err
    assert code == 2, err
    assert f"the checkout at {fleet} already sends an Authorization header" in err
    assert "persist-credentials: false" in err and f"git config --unset-all {key}" in err
    assert github.pulls == {} and github.branch_sha("placement/ray-pred") is None
