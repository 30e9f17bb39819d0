"""repo-template, rendered by kustomize and checked against the real CRDs, before and after a move.

Every state a move passes through is built on a copy of the template the way the reconciler
builds it (the group directory moves or is copied, the two groups listings are edited with
the reconciler's own kustomization functions, placement.yaml carries moveInProgress during a
make-before-break move), then:

- every group directory and listing renders, and its KubeRay objects match the KubeRay CRDs;
- Argo CD: the ApplicationSets match their CRD; the Applications they would generate
  (reconciler.fleet.appset, a small evaluator of the generator and template actions the
  template uses) match the Application CRD, are exactly one per (cluster, group) and per
  cluster's infrastructure, and every namespace a group's objects use is created by the
  infrastructure of the Application's destination cluster;
- Flux: the bootstrap matches the Kustomization and GitRepository CRDs, and each per-group
  Kustomization, built the way Flux builds it (its spec.patches over the cluster's listing),
  yields exactly its group's objects on the group's cluster and nothing elsewhere;
- `validate` finds no error.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.fleet.appset import generated_applications
from reconciler.fleet.flux import GROUP_LABEL
from reconciler.fleet.namespaces import CLUSTER_SCOPED
from reconciler.fleet.reader import read_fleet
from reconciler.fleet.validate import validate_repo
from reconciler.gitrepo.kustomization import with_group, without_group
from tests.fleet.real_tools import CRDS, check_against_crd, kustomize_version, render

TEMPLATE = Path(__file__).parents[2] / "repo-template"
CLUSTERS = ("onprem", "cloud")
PLACED = {"ray-pred": {"onprem"}, "batch-etl": {"onprem"}, "web-frontend": {"cloud"}}
STARTED = "2026-11-28T12:00:00Z"


def _listing(repo: Path, cluster: str) -> Path:
    return repo / "clusters" / cluster / "groups" / "kustomization.yaml"


def _group_dir(repo: Path, cluster: str, group: str) -> Path:
    return repo / "clusters" / cluster / "groups" / group


def _leave(repo: Path, cluster: str, group: str) -> None:
    shutil.rmtree(_group_dir(repo, cluster, group))
    _listing(repo, cluster).write_text(without_group(_listing(repo, cluster).read_text(), group))


def _join(repo: Path, cluster: str, group: str) -> None:
    _listing(repo, cluster).write_text(with_group(_listing(repo, cluster).read_text(), group))


def _mark(repo: Path, cluster: str, group: str, marker: dict[str, str] | None) -> None:
    path = _group_dir(repo, cluster, group) / "placement.yaml"
    policy = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    policy.pop("moveInProgress", None)
    if marker is not None:
        policy["moveInProgress"] = marker
    path.write_text(yaml.safe_dump(policy) if policy else "{}\n")


def placed(repo: Path) -> dict[str, set[str]]:
    """As the template ships."""
    return {g: set(c) for g, c in PLACED.items()}


def moved(repo: Path) -> dict[str, set[str]]:
    """The one-commit move of ray-pred from onprem to cloud."""
    shutil.move(_group_dir(repo, "onprem", "ray-pred"), _group_dir(repo, "cloud", "ray-pred"))
    _listing(repo, "onprem").write_text(
        without_group(_listing(repo, "onprem").read_text(), "ray-pred")
    )
    _join(repo, "cloud", "ray-pred")
    return {**placed(repo), "ray-pred": {"cloud"}}


def copied(repo: Path) -> dict[str, set[str]]:
    """Make-before-break, phase one: ray-pred on both clusters, both copies marked."""
    shutil.copytree(_group_dir(repo, "onprem", "ray-pred"), _group_dir(repo, "cloud", "ray-pred"))
    _join(repo, "cloud", "ray-pred")
    marker = {"from": "onprem", "to": "cloud", "started": STARTED}
    for cluster in ("onprem", "cloud"):
        _mark(repo, cluster, "ray-pred", marker)
    return {**placed(repo), "ray-pred": {"onprem", "cloud"}}


def finished(repo: Path) -> dict[str, set[str]]:
    """Make-before-break, phase two: the source copy leaves, the marker is cleared."""
    copied(repo)
    _leave(repo, "onprem", "ray-pred")
    _mark(repo, "cloud", "ray-pred", None)
    return {**placed(repo), "ray-pred": {"cloud"}}


def reverted(repo: Path) -> dict[str, set[str]]:
    """Make-before-break, given up: the target copy leaves, the marker is cleared."""
    copied(repo)
    _leave(repo, "cloud", "ray-pred")
    _mark(repo, "onprem", "ray-pred", None)
    return placed(repo)


STATES: dict[str, Callable[[Path], dict[str, set[str]]]] = {
    "placed": placed,
    "moved": moved,
    "copied": copied,
    "finished": finished,
    "reverted": reverted,
}


@pytest.fixture(params=list(STATES))
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    """A copy of the template in one state of a move, and where each group then is."""
    repo = tmp_path / "fleet"
    shutil.copytree(TEMPLATE, repo)
    _stand_in_for_kuberay(repo)
    return repo, STATES[request.param](repo)


def _stand_in_for_kuberay(repo: Path) -> None:
    """The KubeRay base is pulled from GitHub by a pinned tag; render a local stand-in.

    The stand-in holds the names of KubeRay's CRDs (tests/data/crds), not their megabytes of
    schema: the infrastructure is rendered for its namespaces, and a full CRD would only
    make kustomize slow.
    """
    base = repo / "bases" / "infrastructure" / "kuberay"
    text = (base / "kustomization.yaml").read_text()
    assert "github.com/ray-project/kuberay/ray-operator/config/default?ref=v" in text
    stand_in = [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": crd.stem.split("_", 1)[1] + "." + crd.stem.split("_", 1)[0]},
        }
        for crd in sorted(CRDS.glob("ray.io_*.yaml"))
    ]
    (base / "crds.yaml").write_text(yaml.safe_dump_all(stand_in))
    (base / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["crds.yaml"]}))


def _namespaces(objects: list[dict[str, Any]]) -> set[str]:
    return {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}


def _used_namespaces(objects: list[dict[str, Any]]) -> set[str]:
    return {
        o["metadata"].get("namespace", "default")
        for o in objects
        if o["kind"] not in CLUSTER_SCOPED
    }


def _labelled(objects: list[dict[str, Any]]) -> set[str]:
    return {o["metadata"].get("labels", {}).get(GROUP_LABEL, "") for o in objects}


def test_every_group_and_listing_renders_and_matches_the_kuberay_crds(
    fleet: tuple[Path, dict[str, set[str]]],
) -> None:
    repo, where = fleet
    for cluster in CLUSTERS:
        on_cluster = {g for g, clusters in where.items() if cluster in clusters}
        listing = render(repo / "clusters" / cluster / "groups")
        assert _labelled(listing) == on_cluster
        for group in on_cluster:
            objects = render(_group_dir(repo, cluster, group))
            assert objects and _labelled(objects) == {group}
            for obj in objects:
                if obj["apiVersion"].startswith("ray.io/"):
                    check_against_crd(obj)
    rayservices = [
        o for o in render(_group_dir(repo, *_where(where, "ray-pred"))) if o["kind"] == "RayService"
    ]
    assert len(rayservices) == 1


def _where(where: dict[str, set[str]], group: str) -> tuple[str, str]:
    return sorted(where[group])[0], group


def test_argocd_applications_are_one_per_cluster_and_group_and_find_their_namespaces(
    fleet: tuple[Path, dict[str, set[str]]],
) -> None:
    repo, where = fleet
    sets = render(repo / "bootstrap" / "argocd")
    assert {s["metadata"]["name"] for s in sets} == {"fleet-groups", "fleet-infrastructure"}
    applications = []
    for application_set in sets:
        check_against_crd(application_set)
        assert application_set["spec"]["syncPolicy"]["preserveResourcesOnDeletion"] is False
        assert "applicationsSync" not in application_set["spec"]["syncPolicy"]
        for generated in generated_applications(application_set, root=repo):
            assert generated.unknown == ()
            application = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                **generated.body,
                "metadata": {**generated.body["metadata"], "namespace": "argocd"},
            }
            check_against_crd(application)
            applications.append(application)
    expected = {f"{c}-{g}" for g, clusters in where.items() for c in clusters}
    expected |= {f"{c}-infrastructure" for c in CLUSTERS}
    assert sorted(a["metadata"]["name"] for a in applications) == sorted(expected)
    infrastructure = {
        c: _namespaces(render(repo / "clusters" / c / "infrastructure")) for c in CLUSTERS
    }
    for application in applications:
        spec = application["spec"]
        cluster = spec["destination"]["name"]
        assert spec["syncPolicy"]["automated"]["prune"] is True
        assert "resources-finalizer.argocd.argoproj.io" in application["metadata"]["finalizers"]
        if spec["source"]["path"].endswith("/infrastructure"):
            continue
        objects = render(repo / spec["source"]["path"])
        created = infrastructure[cluster] | {"default"}
        assert _used_namespaces(objects) <= created, application["metadata"]["name"]


def test_flux_kustomizations_apply_each_group_on_its_cluster_only(
    fleet: tuple[Path, dict[str, set[str]]],
) -> None:
    repo, where = fleet
    for cluster in CLUSTERS:
        objects = render(repo / "bootstrap" / "flux" / cluster)
        for obj in objects:
            check_against_crd(obj)
        kustomizations = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Kustomization"}
        infrastructure = kustomizations.pop("infrastructure")
        assert infrastructure["spec"]["path"] == f"./clusters/{cluster}/infrastructure"
        namespaces = _namespaces(render(repo / infrastructure["spec"]["path"]))
        assert set(kustomizations) == {f"group-{g}" for g in where}
        for name, kustomization in kustomizations.items():
            group = name.removeprefix("group-")
            spec = kustomization["spec"]
            assert (spec["prune"], spec["wait"], spec["timeout"]) == (True, True, "10m")
            assert spec["dependsOn"] == [{"name": "infrastructure"}]
            built = _flux_build(repo, spec, name=f"{cluster}-{name}")
            if cluster in where[group]:
                assert built == render(_group_dir(repo, cluster, group)), name
                assert _used_namespaces(built) <= namespaces | {"default"}
            else:
                assert built == [], name


def _flux_build(repo: Path, spec: dict[str, Any], *, name: str) -> list[dict[str, Any]]:
    """What Flux builds for a Kustomization: its spec.patches over the kustomization at path."""
    build = repo / ".flux-build" / name
    build.mkdir(parents=True)
    source = repo / spec["path"]
    (build / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [str(Path("../..") / source.relative_to(repo))],
                "patches": spec["patches"],
            }
        )
    )
    return render(build)


def test_validate_finds_no_error(fleet: tuple[Path, dict[str, set[str]]]) -> None:
    repo, _ = fleet
    fleet_read = read_fleet(repo)
    problems = list(fleet_read.problems) + validate_repo(repo, fleet=fleet_read)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert errors == []


def test_the_template_is_rendered_by_kubectls_kustomize_v5() -> None:
    assert "Kustomize Version: v5." in kustomize_version()
