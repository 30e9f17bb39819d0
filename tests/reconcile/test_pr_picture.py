"""The pull request a reviewer reads is the picture `plan -o markdown` prints: same words."""

from __future__ import annotations

import io
from pathlib import Path

from reconciler.cli.main import main
from reconciler.gitrepo.workspace import Workspace
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import PullRequestWriter
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import taken_at
from tests.mermaid_grammar import check_mermaid, mermaid_blocks
from tests.reconcile.github_fleet import WHEN, pulls


def test_the_pull_request_body_is_what_plan_markdown_shows(
    fleet: Path, github: FakeGitHub, snapshots: Path
) -> None:
    status = taken_at(snapshots, WHEN)
    workspace = Workspace.open(str(fleet), branch="main")
    run_pass(
        workspace, status=snapshot_status(status), writer=PullRequestWriter(pulls(github)), now=WHEN
    )
    (pull,) = github.pulls.values()
    evidence, marker = pull.body.rsplit("\n\n<!-- ", 1)
    assert marker.startswith("placement-reconciler:move group=ray-pred")

    out = io.StringIO()
    now = WHEN.strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ["plan", "-o", "markdown", "--offline", "--repo", str(fleet), "--status", str(status)]
    assert main([*args, "--now", now], out=out) == 0

    assert f"## {pull.title}\n\n{evidence}\n" in out.getvalue()
    assert "### Capacity" in evidence and "### Where the pods land on `cloud`" in evidence
    assert [check_mermaid(block) for block in mermaid_blocks(evidence)] == [[]]
