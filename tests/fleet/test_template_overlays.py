"""repo-template's overlay pattern: groups made from a shared base under bases/ render and plan.

The template's own groups stay plain (the demo runs without kustomize); its overlay
examples, put in place as a user would, are rendered by the real kustomize, validate
cleanly and are planned with what kustomize prints.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.fleet.reader import read_fleet
from reconciler.fleet.validate import validate_repo
from reconciler.gitrepo.kustomization import with_group
from reconciler.plan.demand import group_demand

TEMPLATE = Path(__file__).parents[2] / "repo-template"
PLACES = {"api-eu": "onprem", "api-us": "cloud"}


def with_overlays(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(TEMPLATE, repo)
    for group, cluster in PLACES.items():
        groups = repo / "clusters" / cluster / "groups"
        shutil.copytree(repo / "examples/overlays" / group, groups / group)
        listing = groups / "kustomization.yaml"
        listing.write_text(with_group(listing.read_text(), group))
    return repo


def test_the_template_groups_are_plain() -> None:
    assert read_fleet(TEMPLATE).renderer == ""  # read in-process: the demo needs no kustomize


def test_the_overlay_examples_render_from_the_shared_base(tmp_path: Path) -> None:
    repo = with_overlays(tmp_path)
    fleet = read_fleet(repo)
    assert "kustomize" in fleet.renderer
    errors = [
        p for p in [*fleet.problems, *validate_repo(repo, fleet=fleet)] if p.severity == "error"
    ]
    assert [str(p) for p in errors] == []
    for group, cluster in PLACES.items():
        found = fleet.group(group)
        assert found is not None and found.cluster == cluster
        names = sorted((m.kind, m.namespace, m.name) for m in found.manifests)
        prefix = group.split("-")[1]
        assert names == [
            ("Deployment", "web", f"{prefix}-api"),
            ("Service", "web", f"{prefix}-api"),
        ]
        for manifest in found.manifests:
            assert manifest.body["metadata"]["labels"]["placement.fleet/group"] == group
    demand = {g: group_demand(fleet.group(g)) for g in PLACES}  # type: ignore[arg-type]
    assert [len(d.shapes) for d in (demand["api-eu"], demand["api-us"])] == [2, 4]
    assert {p.requests["cpu"] for p in demand["api-us"].shapes} == {2000}
    assert {p.requests["cpu"] for p in demand["api-eu"].shapes} == {500}
