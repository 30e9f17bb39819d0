"""The render cache: a pass re-renders only the groups whose inputs changed in git."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.fleet import render_groups
from reconciler.fleet.reader import read_fleet
from reconciler.fleet.render import Rendered, Renderer
from reconciler.fleet.render import render as real_render
from tests.fleet.test_render_features import DEPLOYMENT, kustomization
from tests.fleet_repo import commit_all, write_repo

FLEET = "clusters:\n  - {name: onprem}\n  - {name: cloud}\n"


def overlay(replicas: int) -> str:
    return kustomization(
        resources=["../../../../bases/web"], replicas=[{"name": "web", "count": replicas}]
    )


def fleet_repo(root: Path) -> Path:
    files = {
        "fleet.yaml": FLEET,
        "bases/web/kustomization.yaml": kustomization(resources=["deployment.yaml"]),
        "bases/web/deployment.yaml": DEPLOYMENT,
        "clusters/onprem/groups/kustomization.yaml": kustomization(resources=["a", "b"]),
        "clusters/onprem/groups/a/kustomization.yaml": overlay(2),
        "clusters/onprem/groups/b/kustomization.yaml": overlay(3),
        "clusters/cloud/groups/kustomization.yaml": kustomization(resources=["c"]),
        "clusters/cloud/groups/c/kustomization.yaml": kustomization(
            resources=["deployment.yaml"], namePrefix="c-"
        ),
        "clusters/cloud/groups/c/deployment.yaml": DEPLOYMENT,
    }
    return write_repo(root, files)


def commit(root: Path) -> None:
    commit_all(root, "fleet")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The group directories kustomize really renders (the real render, counted)."""
    seen: list[str] = []

    def counted(renderer: Renderer, directory: Path, *, helm: bool) -> Rendered:
        seen.append(directory.name)
        return real_render(renderer, directory, helm=helm)

    monkeypatch.setattr(render_groups, "render", counted)
    return seen


def replicas(root: Path) -> dict[str, int]:
    return {
        g.name: next(m.body["spec"]["replicas"] for m in g.manifests)
        for g in read_fleet(root).groups
    }


def test_a_warm_pass_renders_nothing_and_reads_the_same(tmp_path: Path, renders: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    cold = replicas(root)
    assert sorted(renders) == ["a", "b", "c"]
    renders.clear()
    assert replicas(root) == cold == {"a": 2, "b": 3, "c": 1}
    assert renders == []
    stored = list((tmp_path / "cache/placement-reconciler/render").rglob("*.json"))
    assert len(stored) == 3  # under $XDG_CACHE_HOME, as the clones are


def test_a_change_to_a_shared_base_re_renders_its_overlays_only(
    tmp_path: Path, renders: list[str]
) -> None:
    root = fleet_repo(tmp_path / "repo")
    read_fleet(root)
    renders.clear()
    base = root / "bases/web/deployment.yaml"
    base.write_text(base.read_text().replace("nginx:1.25", "nginx:1.26"))
    commit(root)
    read_fleet(root)
    assert sorted(renders) == ["a", "b"]
    renders.clear()
    (root / "clusters/onprem/groups/a/kustomization.yaml").write_text(overlay(7))
    commit(root)
    assert replicas(root)["a"] == 7
    assert renders == ["a"]


def test_uncommitted_changes_are_rendered_fresh_and_not_stored(
    tmp_path: Path, renders: list[str]
) -> None:
    root = fleet_repo(tmp_path / "repo")
    read_fleet(root)
    renders.clear()
    (root / "clusters/onprem/groups/b/kustomization.yaml").write_text(overlay(9))
    assert replicas(root)["b"] == 9
    assert replicas(root)["b"] == 9
    assert renders == ["b", "b"]


def test_outside_a_git_checkout_nothing_is_cached(tmp_path: Path, renders: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    shutil.rmtree(root / ".git")  # the same files, no git
    read_fleet(root)
    read_fleet(root)
    assert sorted(renders) == ["a", "a", "b", "b", "c", "c"]
    assert not (tmp_path / "cache/placement-reconciler/render").exists()
