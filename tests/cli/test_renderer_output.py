"""plan, explain and validate say which renderer they used; validate reports render failures."""

from __future__ import annotations

import io
import json
from pathlib import Path

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all

WEB = "clusters/cloud/groups/web-frontend"


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def web_as_overlay(fleet: Path) -> None:
    """web-frontend becomes an overlay on a base under bases/, as the README shows."""
    base = fleet / "bases/apps/web"
    base.mkdir(parents=True)
    for name in ("deployment.yaml", "service.yaml"):
        (fleet / WEB / name).rename(base / name)
    (base / "kustomization.yaml").write_text("resources: [deployment.yaml, service.yaml]\n")
    kustomization = fleet / WEB / "kustomization.yaml"
    text = kustomization.read_text().replace("  - deployment.yaml\n  - service.yaml\n", "")
    kustomization.write_text(
        text.replace("resources:", "resources:\n  - ../../../../bases/apps/web")
    )
    commit_all(fleet, "web-frontend: an overlay on bases/apps/web")


def test_plain_groups_are_read_in_process(fleet: Path, snapshots: Path) -> None:
    code, output = run_cli("plan", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW)
    assert code == 0
    assert "Rendered by: in-process (every group is plain)" in output


def test_plan_explain_and_validate_name_kustomize_and_its_version(
    fleet: Path, snapshots: Path
) -> None:
    web_as_overlay(fleet)
    common = ("--repo", str(fleet), "--status", str(snapshots), "--now", NOW)
    code, output = run_cli("plan", *common, "-o", "json")
    assert code == 0
    renderer = json.loads(output)["renderer"]
    assert "kustomize" in renderer and "(kustomize v5." in renderer
    assert not [p for p in json.loads(output)["problems"] if p["group"] == "web-frontend"]
    for argv in (("explain", "web-frontend", *common), ("validate", "--repo", str(fleet))):
        code, output = run_cli(*argv)
        assert code == 0, output
        assert f"Rendered by: {renderer}" in output


def test_validate_reports_a_group_that_does_not_render(fleet: Path) -> None:
    (fleet / WEB / "kustomization.yaml").write_text("resources: [deployment.yaml]\npatches: [{}]\n")
    commit_all(fleet, "a broken kustomization")
    code, output = run_cli("validate", "--repo", str(fleet))
    assert code == 1
    (line,) = [line for line in output.splitlines() if line.startswith(WEB)]
    assert "kustomize could not render it" in line and "install kustomize 5+" in line


def test_validate_warns_when_a_group_reads_inside_another_group(fleet: Path) -> None:
    kustomization = fleet / "clusters/onprem/groups/batch-etl/kustomization.yaml"
    text = kustomization.read_text().replace(
        "resources:", "resources:\n  - ../../../cloud/groups/web-frontend"
    )
    kustomization.write_text(text)
    commit_all(fleet, "batch-etl borrows web-frontend")
    _, output = run_cli("validate", "--repo", str(fleet))
    warnings = [line for line in output.splitlines() if "inside group 'web-frontend'" in line]
    assert len(warnings) == 1, output
    assert warnings[0].startswith("warning: clusters/onprem/groups/batch-etl/kustomization.yaml")
    assert "moving 'web-frontend' would break this group's render" in warnings[0]
