"""The demo's walkthrough: the move as a reviewer sees it, and the history as a timeline."""

from __future__ import annotations

import io
import re
from pathlib import Path

from reconciler.cli.main import main
from reconciler.demo import DEMO_DIR
from tests.fleet_repo import DEMO_NOW as NOW
from tests.mermaid_grammar import check_mermaid, mermaid_blocks


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_the_demo_walkthrough_shows_the_pull_request_picture_and_the_timeline(
    tmp_path: Path,
) -> None:
    code, told = run_cli("demo", "--workdir", str(tmp_path / "demo"))
    assert code == 0
    # The demo prints the commands to run next; run them as a new user would.
    [plan_line] = [line for line in told.splitlines() if "plan -o markdown" in line]
    [history_line] = [line for line in told.splitlines() if "--format mermaid" in line]
    plan_args = plan_line.split("placement-reconciler ", 1)[1].split()
    history_args = history_line.split("placement-reconciler ", 1)[1].split()
    assert plan_args[plan_args.index("--repo") + 1] == str(tmp_path / "demo" / "before-move")
    assert plan_args[plan_args.index("--status") + 1] == str(DEMO_DIR / "snapshots")

    code, markdown = run_cli(*plan_args)
    assert code == 0
    assert "## placement: move ray-pred from onprem to cloud" in markdown
    assert 'src ==>|"ray-pred: upgrade-stalled"| dst' in markdown
    # The capacity table, in Kubernetes units: cloud takes one copy (14.5 CPU, 56.5Gi).
    cloud = next(line for line in markdown.splitlines() if line.startswith("| `cloud` | target"))
    assert "| 24 CPU | 2.2 CPU | **16.7 CPU** (+14.5) |" in cloud
    assert "(+56.5Gi)" in cloud
    assert re.search(
        r"\| `prediction/ray-pred head` \| 2.5 CPU, 8.5Gi \| `cloud-node-\d` \|", markdown
    )
    assert all(check_mermaid(block) == [] for block in mermaid_blocks(markdown))

    where = plan_args[plan_args.index("--repo") :]  # --repo, --status and --now, as plan's
    assert where[-2:] == ["--now", NOW]
    code, explained = run_cli("explain", "ray-pred", "-o", "markdown", *where)
    assert code == 0 and explained in markdown  # the same pieces, word for word

    code, timeline = run_cli(*history_args)
    assert code == 0 and check_mermaid(timeline) == []
    assert "    section ray-pred" in timeline
    assert " : move onprem → cloud : upgrade-stalled : on cloud" in timeline
