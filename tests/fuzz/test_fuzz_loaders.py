"""Fuzzing the loaders: any text or structure in any fleet or snapshot file becomes Problems.

Nothing but InputError (for an unusable fleet.yaml) may leave read_fleet, and nothing at
all may leave the snapshot parser, the demand computation or validate.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.problems import InputError
from reconciler.core.yaml_files import parse_yaml_documents
from reconciler.fleet.reader import read_fleet
from reconciler.fleet.validate import validate_repo
from reconciler.plan.demand import group_demand
from reconciler.status.parse import cluster_state_from_items
from tests.fuzz.strategies import kube_objects, nested, yaml_text


def examples(count: int) -> settings:
    """Bounded fuzzing: a fixed number of examples, no per-example deadline."""
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


EXAMPLES = examples(300)
FLEET = "clusters:\n  - name: onprem\n  - name: cloud\n"
GROUP = "clusters/onprem/groups/web"


def dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


@EXAMPLES
@given(yaml_text)
def test_any_text_parses_or_is_an_input_error(text: str) -> None:
    for lines in (False, True):
        try:
            parse_yaml_documents(text, shown_as="x.yaml", lines=lines)
        except InputError as error:
            assert error.problem.file == "x.yaml"
            assert error.problem.message


def read_and_validate(files: dict[str, str]) -> None:
    """Write a fleet repo, read it and validate it: problems are fine, exceptions are not."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            fleet = read_fleet(root)
        except InputError as error:
            assert error.problem.file == "fleet.yaml"
            return
        for group in fleet.groups:
            group_demand(group)
        for problem in [*fleet.problems, *validate_repo(root, fleet=fleet)]:
            assert problem.file and problem.message
            str(problem)


text_or_structure = st.one_of(yaml_text, nested().map(dump))


@EXAMPLES
@given(text_or_structure)
def test_any_fleet_yaml_is_read_or_rejected_with_a_problem(fleet_yaml: str) -> None:
    read_and_validate({"fleet.yaml": fleet_yaml})


@examples(150)
@given(
    listing=text_or_structure,
    kustomization=st.one_of(text_or_structure, st.just("resources: [a.yaml]\n")),
    policy=st.one_of(text_or_structure, nested().map(lambda v: dump({"cooldown": v}))),
)
def test_any_listing_kustomization_and_placement_become_problems(
    listing: str, kustomization: str, policy: str
) -> None:
    read_and_validate(
        {
            "fleet.yaml": FLEET,
            "clusters/onprem/groups/kustomization.yaml": listing,
            f"{GROUP}/kustomization.yaml": kustomization,
            f"{GROUP}/placement.yaml": policy,
            f"{GROUP}/a.yaml": "kind: ConfigMap\nmetadata: {name: a}\n",
        }
    )


@examples(100)
@given(st.lists(st.one_of(kube_objects(), nested(10)), min_size=1, max_size=3), yaml_text)
def test_any_manifests_become_problems(documents: list[Any], text: str) -> None:
    read_and_validate(
        {
            "fleet.yaml": FLEET,
            "clusters/onprem/groups/kustomization.yaml": "resources: [web]\n",
            f"{GROUP}/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
            f"{GROUP}/a.yaml": yaml.safe_dump_all(documents, allow_unicode=True),
            f"{GROUP}/b.yaml": text,
            "bootstrap/argocd/set.yaml": dump({**documents[0], "kind": "ApplicationSet"})
            if isinstance(documents[0], dict)
            else text,
            "bootstrap/flux/onprem/k.yaml": dump(
                {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"}
                | ({"spec": documents[-1]} if documents else {})
            ),
        }
    )


@examples(200)
@given(st.lists(st.one_of(kube_objects(), nested(8)), max_size=4))
def test_any_snapshot_items_give_a_known_cluster_with_reasons(items: list[Any]) -> None:
    state = cluster_state_from_items(items, cluster="edge")
    assert state.known
    assert all(isinstance(reason, str) and reason for reason in state.skipped)
