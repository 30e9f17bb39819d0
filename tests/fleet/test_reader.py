"""Reading a fleet repo: groups, manifests, namespaces, policies and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.problems import InputError
from reconciler.fleet.reader import listed_groups, read_fleet

FLEET = "clusters:\n  - name: onprem\n  - name: cloud\ndefaults: {cooldown: 10m}\n"
DEPLOY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\n"
    "spec:\n  template:\n    spec:\n      containers: [{{name: c, image: i}}]\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_groups_manifests_and_namespaces_are_read(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/onprem/groups/kustomization.yaml": "resources: [./api/]\n",
            "clusters/onprem/groups/api/kustomization.yaml": (
                "namespace: shop\nresources: [d.yaml]\n"
            ),
            "clusters/onprem/groups/api/d.yaml": DEPLOY.format(name="api")
            + "---\n"
            + DEPLOY.format(name="worker"),
            "clusters/onprem/groups/api/placement.yaml": "skipCapacityRelocate: true\n",
            "clusters/onprem/groups/api/notes.yaml": "not: listed\n",
        },
    )
    fleet = read_fleet(root)
    assert fleet.problems == ()
    (group,) = fleet.groups
    assert (group.name, group.cluster, group.path) == (
        "api",
        "onprem",
        "clusters/onprem/groups/api",
    )
    assert [(m.kind, m.name, m.namespace) for m in group.manifests] == [
        ("Deployment", "api", "shop"),
        ("Deployment", "worker", "shop"),
    ]
    assert group.policy.skip_capacity_relocate is True
    assert group.policy.cooldown.total_seconds() == 600


def test_a_group_without_kustomization_uses_every_yaml_but_its_policy(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [web]\n",
            "clusters/cloud/groups/web/a.yaml": DEPLOY.format(name="a"),
            "clusters/cloud/groups/web/placement.yaml": "failback: true\n",
        },
    )
    (group,) = read_fleet(root).groups
    assert [m.name for m in group.manifests] == ["a"]
    assert group.manifests[0].namespace == "default"


def test_an_invalid_policy_keeps_its_group_out_of_the_plan(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [web, ok]\n",
            "clusters/cloud/groups/web/a.yaml": DEPLOY.format(name="a"),
            "clusters/cloud/groups/web/placement.yaml": "cooldown: forever\n",
            "clusters/cloud/groups/ok/a.yaml": DEPLOY.format(name="b"),
        },
    )
    fleet = read_fleet(root)
    assert [g.name for g in fleet.groups] == ["ok"]
    (problem,) = fleet.problems
    assert problem.file == "clusters/cloud/groups/web/placement.yaml"
    assert problem.field == "cooldown" and problem.group == "web"


@pytest.mark.parametrize("name", ["Bad", "-lead", "with space", "a..b", "ünïcode", "x" * 64])
def test_invalid_group_directory_names_are_reported(tmp_path: Path, name: str) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            f"clusters/cloud/groups/{name}/a.yaml": DEPLOY.format(name="a"),
        },
    )
    fleet = read_fleet(root)
    assert fleet.groups == ()
    assert any("is not a valid group name" in p.message for p in fleet.problems)


def test_symlinked_group_is_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"a.yaml": DEPLOY.format(name="secret")})
    root = write(
        tmp_path / "repo",
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [link]\n",
        },
    )
    (root / "clusters/cloud/groups/link").symlink_to(outside, target_is_directory=True)
    fleet = read_fleet(root)
    assert fleet.groups == ()
    assert any("symbolic link" in p.message for p in fleet.problems)


def test_a_resource_pointing_outside_the_repo_is_not_read(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [web]\n",
            "clusters/cloud/groups/web/kustomization.yaml": (
                "resources: [../../../../../etc/passwd, a.yaml]\n"
            ),
            "clusters/cloud/groups/web/a.yaml": DEPLOY.format(name="a"),
        },
    )
    fleet = read_fleet(root)
    assert fleet.groups == ()  # not judged: its render would read outside the repo
    (problem,) = fleet.problems
    assert problem.file == "clusters/cloud/groups/web/kustomization.yaml"
    assert problem.field == "resources[0]"
    assert "leads outside the fleet repo" in problem.message


def test_a_document_without_kind_is_reported(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [web]\n",
            "clusters/cloud/groups/web/a.yaml": "just: data\n---\n" + DEPLOY.format(name="a"),
        },
    )
    fleet = read_fleet(root)
    assert [m.name for m in fleet.groups[0].manifests] == ["a"]
    (problem,) = fleet.problems
    assert (problem.file, problem.field) == ("clusters/cloud/groups/web/a.yaml", "document 1")


def test_binary_and_oversized_files_are_refused(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/cloud/groups/kustomization.yaml": "resources: [web]\n",
            "clusters/cloud/groups/web/kustomization.yaml": "resources: [bin.yaml, big.yaml]\n",
        },
    )
    (root / "clusters/cloud/groups/web/bin.yaml").write_bytes(b"\x00\x01kind: Pod")
    (root / "clusters/cloud/groups/web/big.yaml").write_text("#" * (5 * 1024 * 1024))
    messages = [p.message for p in read_fleet(root).problems]
    assert "is a binary file, not YAML" in messages
    assert any("over the" in m and "byte limit" in m for m in messages)


def test_missing_fleet_yaml_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"fleet\.yaml: is missing"):
        read_fleet(tmp_path)


@pytest.mark.parametrize(
    ("kustomization", "expected"),
    [({"resources": ["a", "./b", "c/"]}, ["a", "b", "c"]), (None, []), ({}, [])],
)
def test_listed_groups_normalises_entries(kustomization: object, expected: list[str]) -> None:
    assert listed_groups(kustomization) == expected


MARKER = "moveInProgress: {from: onprem, to: cloud, started: '2026-11-28T12:10:00Z'}\n"


def two_copies(tmp_path: Path, *, onprem_policy: str, cloud_policy: str) -> Path:
    return write(
        tmp_path,
        {
            "fleet.yaml": FLEET,
            "clusters/onprem/groups/kustomization.yaml": "resources: [api]\n",
            "clusters/cloud/groups/kustomization.yaml": "resources: [api]\n",
            "clusters/onprem/groups/api/a.yaml": DEPLOY.format(name="api"),
            "clusters/cloud/groups/api/a.yaml": DEPLOY.format(name="api"),
            "clusters/onprem/groups/api/placement.yaml": onprem_policy,
            "clusters/cloud/groups/api/placement.yaml": cloud_policy,
        },
    )


def test_a_make_before_break_move_in_progress_is_one_group_at_its_source(tmp_path: Path) -> None:
    fleet = read_fleet(two_copies(tmp_path, onprem_policy=MARKER, cloud_policy=MARKER))
    assert fleet.problems == ()
    (group,) = fleet.groups
    assert (group.cluster, group.moving_to) == ("onprem", "cloud")
    marker = group.policy.move_in_progress
    assert marker is not None and marker.started.isoformat() == "2026-11-28T12:10:00+00:00"


@pytest.mark.parametrize(
    ("onprem_policy", "cloud_policy"),
    [
        (MARKER, ""),  # only one copy marked
        (MARKER, MARKER.replace("from: onprem, to: cloud", "from: cloud, to: onprem")),
        (MARKER.replace("to: cloud", "to: edge"), MARKER.replace("to: cloud", "to: edge")),
    ],
)
def test_two_copies_without_one_matching_marker_are_not_planned(
    tmp_path: Path, onprem_policy: str, cloud_policy: str
) -> None:
    fleet = read_fleet(two_copies(tmp_path, onprem_policy=onprem_policy, cloud_policy=cloud_policy))
    assert fleet.groups == ()
    assert any("is under several clusters" in p.message for p in fleet.problems)
