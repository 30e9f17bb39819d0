"""Bad input in the fleet repo: reported with file and reason, the other groups still planned."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import commit_all


def plan_json(fleet: Path, snapshots: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    out = io.StringIO()
    code = main(
        ["plan", "--repo", str(fleet), "--status", str(snapshots), "--now", NOW, "-o", "json"],
        out=out,
    )
    return code, json.loads(out.getvalue()) if code == 0 else {}


def validate(fleet: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["validate", "--repo", str(fleet)], out=out)
    return code, out.getvalue()


def add_group(
    fleet: Path, cluster: str, name: str, files: dict[str, str], *, listed: bool = True
) -> None:
    group = fleet / "clusters" / cluster / "groups" / name
    group.mkdir(parents=True)
    for file, text in files.items():
        (group / file).write_text(text)
    if listed:
        listing = fleet / "clusters" / cluster / "groups" / "kustomization.yaml"
        listing.write_text(listing.read_text() + f"  - {name}\n")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: misc}}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: nginx
          resources: {{requests: {{cpu: "{cpu}", memory: 1Gi}}}}
"""


def manifest_group(name: str, cpu: str = "100m") -> dict[str, str]:
    return {
        "kustomization.yaml": "resources: [deployment.yaml]\n",
        "deployment.yaml": DEPLOYMENT.format(name=name, cpu=cpu),
    }


BROKEN_CASES = {
    "malformed yaml": (
        lambda f: add_group(
            f,
            "cloud",
            "broken",
            {"kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "kind: [unclosed\n"},
        ),
        "clusters/cloud/groups/broken/a.yaml",
        "invalid YAML",
    ),
    "listed but missing": (
        lambda f: (f / "clusters/cloud/groups/kustomization.yaml").write_text(
            (f / "clusters/cloud/groups/kustomization.yaml").read_text() + "  - ghost\n"
        ),
        "clusters/cloud/groups/kustomization.yaml",
        "lists 'ghost' but clusters/cloud/groups/ghost/ does not exist",
    ),
    "same group under two clusters": (
        lambda f: (
            add_group(f, "cloud", "twin", manifest_group("twin")),
            add_group(f, "onprem", "twin", manifest_group("twin")),
        ),
        "clusters/*/groups/twin",
        "is under several clusters",
    ),
    "unknown cluster directory": (
        lambda f: add_group(f, "mars", "rover", manifest_group("rover"), listed=False),
        "clusters/mars",
        "is not a cluster of fleet.yaml",
    ),
    "garbage quantity": (
        lambda f: add_group(f, "cloud", "garbage", manifest_group("garbage", cpu="lots")),
        "clusters/cloud/groups/garbage/deployment.yaml",
        "'lots' is not a quantity",
    ),
    "unlisted group directory": (
        lambda f: add_group(f, "cloud", "stray", manifest_group("stray"), listed=False),
        "clusters/cloud/groups/kustomization.yaml",
        "does not list 'stray'",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_bad_input_is_reported_and_the_others_are_still_planned(
    case: str, fleet: Path, snapshots: Path
) -> None:
    break_it, file, message = BROKEN_CASES[case]
    break_it(fleet)
    commit_all(fleet, f"break: {case}")
    code, plan = plan_json(fleet, snapshots)
    assert code == 0
    assert any(p["file"] == file and message in p["message"] for p in plan["problems"]), plan[
        "problems"
    ]
    decisions = {d["group"]: d for d in plan["decisions"]}
    assert decisions["ray-pred"]["action"] == "move"  # the bad group stops nobody else
    assert decisions["ray-pred"]["target"] == "cloud"
    code, output = validate(fleet)
    assert code == 1
    assert message in output


def test_garbage_quantity_in_a_stuck_group_reports_it_invalid(fleet: Path, snapshots: Path) -> None:
    rayservice = fleet / "clusters/onprem/groups/ray-pred/rayservice.yaml"
    rayservice.write_text(rayservice.read_text().replace('cpu: "6"', 'cpu: "six"', 1))
    commit_all(fleet, "typo")
    code, plan = plan_json(fleet, snapshots)
    assert code == 0
    ray = next(d for d in plan["decisions"] if d["group"] == "ray-pred")
    assert ray["state"] == "invalid" and ray["action"] == "report"
    problem = next(p for p in plan["problems"] if p["group"] == "ray-pred")
    assert problem["file"].endswith("ray-pred/rayservice.yaml")
    assert "'six' is not a quantity" in problem["message"]
    assert "workerGroupSpecs[0]" in problem["field"]


def test_template_validates_clean(fleet: Path) -> None:
    code, output = validate(fleet)
    assert code == 0, output
    assert "0 error(s)" in output


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "name: '{{index .path.segments 1}}-{{.path.basename}}'",
            "name: '{{.path.basename}}'",
            "does not include the cluster segment",
        ),
        (
            "preserveResourcesOnDeletion: false",
            "preserveResourcesOnDeletion: true",
            "the old copy of a moved group would never be removed",
        ),
        (
            "- resources-finalizer.argocd.argoproj.io",
            "- example.com/other",
            "lacks resources-finalizer.argocd.argoproj.io",
        ),
    ],
)
def test_validate_catches_bootstrap_pitfalls(fleet: Path, old: str, new: str, message: str) -> None:
    path = fleet / "bootstrap/argocd/applicationset.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    code, output = validate(fleet)
    assert code == 1
    assert message in output


def test_validate_catches_flux_without_prune(fleet: Path) -> None:
    path = fleet / "bootstrap/flux/onprem/groups.yaml"
    path.write_text(path.read_text().replace("prune: true", "prune: false"))
    code, output = validate(fleet)
    assert code == 1
    finding = next(line for line in output.splitlines() if "spec.prune" in line)
    assert finding.startswith("bootstrap/flux/onprem/groups.yaml")
    assert "spec.prune: is not true" in finding


def test_validate_catches_a_namespace_object_in_a_shared_namespace(fleet: Path) -> None:
    group = fleet / "clusters/onprem/groups/ray-pred"
    # kustomize's namespace transformer renames a group's Namespace object to the group's
    # namespace (prediction), which batch-etl is made to use too.
    (group / "namespace.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: batch}\n"
    )
    kustomization = group / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("resources:\n", "resources:\n  - namespace.yaml\n")
    )
    batch = fleet / "clusters/onprem/groups/batch-etl/kustomization.yaml"
    batch.write_text(batch.read_text().replace("namespace: batch", "namespace: prediction"))
    code, output = validate(fleet)
    assert code == 1
    assert "Namespace prediction: is also used by batch-etl" in output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clusters: []\n", "fleet.yaml: clusters: List should have at least 1 item"),
        (
            "clusters:\n  - name: Bad_Name\n",
            "fleet.yaml: clusters[0].name: 'Bad_Name' is not a valid",
        ),
        (
            "clusters:\n  - name: a\ndefaults: {cooldown: soon}\n",
            "fleet.yaml: defaults.cooldown: 'soon' is not a duration",
        ),
        ("clusters:\n  - name: a\n    reserve: {cpu: lots}\n", "clusters[0].reserve: "),
        ("clusters: [\n", "fleet.yaml: line 2, column 1: invalid YAML"),
        ("- just a list\n", "expected a mapping at the top level"),
    ],
)
def test_invalid_fleet_yaml_exits_2_naming_file_and_field(
    fleet: Path, snapshots: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (fleet / "fleet.yaml").write_text(text)
    commit_all(fleet, "break fleet.yaml")
    for command in (["plan", "--status", str(snapshots)], ["validate"]):
        code = main([command[0], "--repo", str(fleet), *command[1:]], out=io.StringIO())
        err = capsys.readouterr().err
        assert code == 2
        assert expected in err
        assert "Traceback" not in err


def test_missing_fleet_yaml_exits_2(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fleet / "fleet.yaml").unlink()
    commit_all(fleet, "remove fleet.yaml")
    code = main(["validate", "--repo", str(fleet)], out=io.StringIO())
    assert code == 2
    assert "fleet.yaml: is missing" in capsys.readouterr().err


def test_a_directory_that_is_not_a_git_checkout_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").mkdir()
    code = main(["validate", "--repo", str(tmp_path / "plain")], out=io.StringIO())
    assert code == 2
    assert "is not a git checkout" in capsys.readouterr().err
