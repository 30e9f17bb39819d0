"""End to end: live objects found by Argo CD's tracking where their identity differs from
the group's manifests (a namespace override), on the template fleet and its snapshots."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW as NOW


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def applied(snapshots: Path, *, namespace: str = "prediction", tracked: bool) -> None:
    """The onprem snapshot with ray-pred's objects in `namespace` (as an overlay with
    `namespace: prediction-prod` would apply them), its RayService tracked or not."""
    path = snapshots / "onprem.yaml"
    document = yaml.safe_load(path.read_text())
    for item in document["items"]:
        metadata = item["metadata"]
        if metadata.get("namespace") != "prediction":
            continue
        metadata["namespace"] = namespace
        annotations = metadata.setdefault("annotations", {})
        annotations.pop("argocd.argoproj.io/tracking-id", None)
        if item["kind"] == "RayService" and tracked:
            annotations["argocd.argoproj.io/tracking-id"] = (
                f"onprem-ray-pred:ray.io/RayService:{namespace}/ray-pred"
            )
    path.write_text(yaml.safe_dump(document))


def ray_pred(fleet: Path, snapshots: Path) -> dict[str, object]:
    code, output = run_cli(
        "plan", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "-o", "json"
    )
    assert code == 0
    return next(d for d in json.loads(output)["decisions"] if d["group"] == "ray-pred")


def test_the_seed_is_found_by_argo_cds_tracking_id(fleet: Path, snapshots: Path) -> None:
    # The demo's snapshot carries the annotation Argo CD wrote on the RayService.
    decided = ray_pred(fleet, snapshots)

    assert (decided["state"], decided["action"]) == ("upgrade-stalled", "move")
    assert decided["membership"] == {"argocd-tracking-id": 6}


def test_without_the_annotation_identity_finds_it(fleet: Path, snapshots: Path) -> None:
    applied(snapshots, tracked=False)

    decided = ray_pred(fleet, snapshots)

    assert (decided["state"], decided["action"]) == ("upgrade-stalled", "move")
    assert decided["membership"] == {"identity": 6}


def test_argo_cds_tracking_finds_the_group_in_another_namespace(
    fleet: Path, snapshots: Path
) -> None:
    applied(snapshots, namespace="prediction-prod", tracked=True)

    decided = ray_pred(fleet, snapshots)

    assert (decided["state"], decided["action"], decided["target"]) == (
        "upgrade-stalled",
        "move",
        "cloud",
    )
    assert decided["membership"] == {"argocd-tracking-id": 6}
    code, told = run_cli(
        "explain", "ray-pred", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW
    )
    assert code == 0
    assert "members:   6 pod(s) by Argo CD's tracking-id annotation" in told


def test_without_tracking_the_group_is_absent_not_moved(fleet: Path, snapshots: Path) -> None:
    applied(snapshots, namespace="prediction-prod", tracked=False)

    decided = ray_pred(fleet, snapshots)

    assert (decided["state"], decided["action"]) == ("absent", "report")
    assert decided["membership"] == {}
