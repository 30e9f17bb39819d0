"""When every cluster is unknown, plan and run --once say so and exit 3 (issue 12 item 10).

Before, both exited 0: a cron job looked green while it saw nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW


@pytest.mark.parametrize("command", [["plan"], ["run", "--once", "--mode", "direct"]])
def test_a_pass_that_saw_no_cluster_exits_3_with_one_line_why(
    command: list[str], fleet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "no-snapshots"
    empty.mkdir()
    out = io.StringIO()

    code = main(
        [*command, "--repo", str(fleet), "--status", str(empty), "--now", DEMO_NOW], out=out
    )

    assert code == 3
    why = [
        line for line in capsys.readouterr().err.splitlines() if "nothing could be judged" in line
    ]
    assert len(why) == 1
    assert "every cluster's status is unknown (onprem: no snapshot file onprem.yaml" in why[0]


def test_one_known_cluster_is_enough_to_judge(fleet: Path, snapshots: Path) -> None:
    (snapshots / "cloud.yaml").unlink()

    assert main(["plan", "--repo", str(fleet), "--status", str(snapshots), "--now", DEMO_NOW]) == 0
