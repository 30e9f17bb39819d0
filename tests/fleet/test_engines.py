"""The engines' names of each group, read from the fleet repo's Argo CD and Flux bootstrap."""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.fleet.engines import with_engine_names
from reconciler.fleet.reader import read_fleet


def names_of(repo: Path) -> tuple[dict[str, str], dict[str, dict[tuple[str, str], str]]]:
    engines = with_engine_names(read_fleet(repo), root=repo).engines
    return dict(engines.argo_apps), {c: dict(k) for c, k in engines.flux.items()}


def test_the_template_names_every_group_for_argo_cd_and_flux(fleet: Path) -> None:
    apps, flux = names_of(fleet)

    assert apps == {
        "onprem-ray-pred": "ray-pred",
        "onprem-batch-etl": "batch-etl",
        "cloud-web-frontend": "web-frontend",
    }
    for cluster in ("onprem", "cloud"):
        assert flux[cluster][("flux-system", "group-ray-pred")] == "ray-pred"
        assert len(flux[cluster]) == 3


def test_a_moved_group_gets_its_new_application_name(fleet: Path) -> None:
    groups = fleet / "clusters"
    shutil.move(groups / "onprem/groups/ray-pred", groups / "cloud/groups/ray-pred")
    listing = groups / "cloud/groups/kustomization.yaml"
    listing.write_text(listing.read_text() + "  - ray-pred\n")
    onprem = groups / "onprem/groups/kustomization.yaml"
    onprem.write_text(onprem.read_text().replace("  - ray-pred\n", ""))

    apps, _ = names_of(fleet)

    # The old Application is gone: leftovers tracked as onprem-ray-pred fall back to identity.
    assert apps["cloud-ray-pred"] == "ray-pred" and "onprem-ray-pred" not in apps


def test_a_kustomization_of_one_group_directory_is_that_groups(fleet: Path) -> None:
    flux_dir = fleet / "bootstrap/flux/onprem"
    (flux_dir / "groups.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata: {name: ray-pred, namespace: fleet}\n"
        "spec: {path: ./clusters/onprem/groups/ray-pred, prune: true}\n"
        "---\n"
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata: {name: all-groups}\n"
        "spec: {path: ./clusters/onprem/groups, prune: true}\n"
    )

    _, flux = names_of(fleet)

    # The Kustomization of every group names none of them: identity decides there.
    assert flux["onprem"] == {("fleet", "ray-pred"): "ray-pred"}


def test_an_unreadable_bootstrap_gives_no_names(fleet: Path) -> None:
    (fleet / "bootstrap/argocd/applicationset.yaml").write_text("spec: [unclosed\n")
    (fleet / "bootstrap/flux/cloud/groups.yaml").write_bytes(b"\xff\xfe")

    apps, flux = names_of(fleet)

    assert apps == {} and "cloud" not in flux and len(flux["onprem"]) == 3


def test_the_namer_follows_the_generators_and_trusts_only_known_actions() -> None:
    from reconciler.fleet.appset import ApplicationNamer

    def appset(name: str) -> dict[str, object]:
        directories = [
            {"path": "clusters/*/groups/*"},
            {"path": "clusters/lab/groups/*", "exclude": True},
        ]
        return {
            "kind": "ApplicationSet",
            "spec": {
                "generators": [{"git": {"directories": directories}}],
                "template": {"metadata": {"name": name}},
            },
        }

    namer = ApplicationNamer.of(appset("{{index .path.segments 1}}-{{.path.basename}}"))
    assert namer.name_of("clusters/onprem/groups/ray-pred") == "onprem-ray-pred"
    assert namer.name_of("clusters/lab/groups/ray-pred") == ""  # excluded
    assert namer.name_of("bases/ray-pred") == ""  # not generated
    unknown = ApplicationNamer.of(appset("{{.path.basename | upper}}"))
    assert unknown.name_of("clusters/onprem/groups/ray-pred") == ""
