"""Editing a cluster's groups/kustomization.yaml changes the one entry and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.core.errors import FleetRepoError
from reconciler.gitrepo.kustomization import (
    lists_group,
    with_group,
    without_group,
)
from tests.fleet_repo import cluster_kustomization

COMMENTED = """\
# Groups on onprem. Flux reads this file; keep the comments.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: fleet   # every group's namespace is set in the group
resources:
    # web first, it is the front door
    - web   # the web tier
    - "ray-pred"   # the ray serving group
    # batch jobs run at night
    - 'batch'
# labels for everything on the cluster
commonLabels: {team: platform, "quoted": 'yes'}
"""


def lines_without(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle not in line]


def resources(text: str) -> list[str]:
    return list(YAML(typ="safe", pure=True).load(text).get("resources") or [])


def test_removing_a_group_drops_exactly_its_line() -> None:
    edited = without_group(COMMENTED, "ray-pred")

    assert edited.splitlines() == lines_without(COMMENTED, "ray-pred")
    assert resources(edited) == ["web", "batch"]


def test_adding_a_group_inserts_one_line_after_the_last_entry_in_its_style() -> None:
    edited = with_group(COMMENTED, "gpu-train")

    before = COMMENTED.splitlines()
    after = edited.splitlines()
    added = after.index("    - 'gpu-train'")
    assert after[:added] + after[added + 1 :] == before
    assert after[added - 1] == "    - 'batch'"
    assert resources(edited) == ["web", "ray-pred", "batch", "gpu-train"]


def test_comments_order_and_quoting_survive_a_remove_then_add() -> None:
    edited = with_group(without_group(COMMENTED, "web"), "web")

    assert edited.splitlines()[:5] == COMMENTED.splitlines()[:5]
    assert "# the ray serving group" in edited
    assert """commonLabels: {team: platform, "quoted": 'yes'}""" in edited
    assert resources(edited) == ["ray-pred", "batch", "web"]


def test_flow_style_list_stays_flow_style_with_its_comment() -> None:
    text = cluster_kustomization(["web", "ray-pred", "batch"], flow=True)

    removed = without_group(text, "ray-pred")
    added = with_group(removed, "ray-pred")

    assert removed.splitlines()[:3] == text.splitlines()[:3]
    assert resources(removed) == ["web", "batch"]
    assert resources(added) == ["web", "batch", "ray-pred"]
    assert "[web, batch, ray-pred]" in added
    assert "# one entry per group" in added


def test_removing_the_last_group_leaves_an_empty_list_and_the_comments() -> None:
    text = "resources:   # the groups\n- ray-pred\n# end of list\nnamespace: x\n"

    edited = without_group(text, "ray-pred")

    assert edited == "resources: []   # the groups\n# end of list\nnamespace: x\n"


def test_entries_written_as_paths_count_as_the_group() -> None:
    text = "resources:\n- ./web\n- ray-pred/\n"

    assert lists_group(text, "web")
    assert without_group(text, "ray-pred") == "resources:\n- ./web\n"
    assert with_group(text, "web") == text


def test_a_missing_kustomization_is_created() -> None:
    assert with_group(None, "ray-pred") == (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ray-pred\n"
    )


def test_a_kustomization_without_resources_gains_the_list() -> None:
    text = "# empty cluster\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"

    edited = with_group(text, "ray-pred")

    assert edited.startswith(text)
    assert resources(edited) == ["ray-pred"]


def test_a_name_yaml_would_read_as_a_number_is_quoted() -> None:
    assert resources(with_group("resources:\n- web\n", "1234")) == ["web", "1234"]
    assert resources(with_group(None, "true")) == ["true"]


def test_windows_line_endings_are_kept() -> None:
    text = "resources:\r\n- web\r\n- ray-pred\r\n"

    assert without_group(text, "web") == "resources:\r\n- ray-pred\r\n"
    assert with_group(text, "batch") == "resources:\r\n- web\r\n- ray-pred\r\n- batch\r\n"


def test_a_group_not_listed_cannot_be_removed() -> None:
    with pytest.raises(FleetRepoError, match="not listed"):
        without_group(COMMENTED, "gpu-train")


@pytest.mark.parametrize(
    "text",
    ["resources: [a, b\n", "- just\n- a list\n", "resources: web\n"],
    ids=["broken-yaml", "not-a-mapping", "resources-not-a-list"],
)
def test_a_malformed_kustomization_is_refused(text: str) -> None:
    with pytest.raises(FleetRepoError):
        with_group(text, "ray-pred")


names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)


@given(st.lists(names, min_size=1, max_size=6, unique=True), st.data())
def test_remove_then_add_keeps_every_other_entry_in_order(
    groups: list[str], data: st.DataObject
) -> None:
    moved = data.draw(st.sampled_from(groups))
    text = cluster_kustomization(groups, flow=data.draw(st.booleans()))

    edited = with_group(without_group(text, moved), moved)

    assert resources(edited) == [g for g in groups if g != moved] + [moved]
    assert edited.splitlines()[0] == text.splitlines()[0]


def test_a_text_that_is_not_yaml_is_reported_as_a_fleet_repo_error() -> None:
    with pytest.raises(FleetRepoError, match="not valid YAML"):
        lists_group("resources: [web\n", "web")
