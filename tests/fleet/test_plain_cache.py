"""The plain-group cache: a pass reads again only the plain groups that changed in git."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.core.yaml_files import YamlMap
from reconciler.fleet import reader
from reconciler.fleet.model import Fleet
from reconciler.fleet.plain import PlainRead, read_plain
from reconciler.fleet.plain_source import Source
from reconciler.fleet.reader import read_fleet
from tests.fleet.test_render_features import DEPLOYMENT
from tests.fleet_repo import commit_all, write_repo

FLEET = "clusters:\n  - {name: onprem}\n"
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"


def fleet_repo(root: Path) -> Path:
    files = {
        "fleet.yaml": FLEET,
        "clusters/onprem/groups/kustomization.yaml": "resources: [a, b]\n",
        "clusters/onprem/groups/a/deployment.yaml": DEPLOYMENT,
        "clusters/onprem/groups/a/config.yaml": CONFIG,
        "clusters/onprem/groups/b/kustomization.yaml": "namespace: shop\nresources: [web.yaml]\n",
        "clusters/onprem/groups/b/web.yaml": DEPLOYMENT,
    }
    return write_repo(root, files)


def commit(root: Path) -> None:
    commit_all(root, "fleet")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The group directories whose files are really read (read_plain, counted)."""
    seen: list[str] = []

    def counted(path: Path, source: Source, *, shown: str) -> PlainRead:
        seen.append(path.name)
        return read_plain(path, source, shown=shown)

    monkeypatch.setattr(reader, "read_plain", counted)
    return seen


def stored(tmp_path: Path) -> int:
    return len(list((tmp_path / "cache/placement-reconciler/plain").rglob("*.json")))


def cached(root: Path) -> Fleet:
    return read_fleet(root, cache_plain=True)


def test_a_cached_group_reads_exactly_as_a_fresh_read(tmp_path: Path, reads: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    cold = cached(root)
    assert sorted(reads) == ["a", "b"]
    assert stored(tmp_path) == 2
    reads.clear()
    warm = cached(root)
    assert reads == []
    fresh = read_fleet(root)
    assert warm == cold == fresh
    assert [m.file for g in warm.groups for m in g.manifests] == [
        "clusters/onprem/groups/a/config.yaml",
        "clusters/onprem/groups/a/deployment.yaml",
        "clusters/onprem/groups/b/web.yaml",
    ]
    assert {m.namespace for m in warm.group("b").manifests} == {"shop"}  # type: ignore[union-attr]


def test_a_read_without_the_cache_keeps_its_lines(tmp_path: Path, reads: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    cached(root)
    reads.clear()
    fresh = read_fleet(root)  # validate reads like this: its findings name file:line
    assert sorted(reads) == ["a", "b"]
    assert all(isinstance(m.body, YamlMap) for g in fresh.groups for m in g.manifests)


def test_a_group_changed_by_a_commit_is_read_again(tmp_path: Path, reads: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    cached(root)
    reads.clear()
    web = root / "clusters/onprem/groups/b/web.yaml"
    web.write_text(DEPLOYMENT.replace("replicas: 1", "replicas: 4"))
    commit(root)
    fleet = cached(root)
    assert reads == ["b"]
    assert fleet.group("b").manifests[0].body["spec"]["replicas"] == 4  # type: ignore[union-attr]
    assert fleet == read_fleet(root)


def test_a_group_with_local_changes_is_read_and_not_stored(
    tmp_path: Path, reads: list[str]
) -> None:
    root = fleet_repo(tmp_path / "repo")
    (root / "clusters/onprem/groups/a/extra.yaml").write_text(CONFIG.replace("settings", "more"))
    fleet = cached(root)
    assert stored(tmp_path) == 1  # b only
    reads.clear()
    assert cached(root) == fleet
    assert reads == ["a"]
    assert fleet == read_fleet(root)
    assert len(fleet.group("a").manifests) == 3  # type: ignore[union-attr]


def test_a_group_with_a_problem_is_not_stored(tmp_path: Path, reads: list[str]) -> None:
    root = fleet_repo(tmp_path / "repo")
    (root / "clusters/onprem/groups/a/notes.yaml").write_text("hello: world\n")
    commit(root)
    first = cached(root)
    assert stored(tmp_path) == 1  # b only
    reads.clear()
    second = cached(root)
    assert reads == ["a"]
    assert second == first == read_fleet(root)
    assert [str(p) for p in second.problems if p.group == "a"] == [
        str(p) for p in first.problems if p.group == "a"
    ]
    assert any(p.file.endswith("notes.yaml") and p.line == 1 for p in second.problems)


def test_outside_git_nothing_is_stored(tmp_path: Path) -> None:
    root = fleet_repo(tmp_path / "repo")
    shutil.rmtree(root / ".git")
    assert cached(root) == read_fleet(root)
    assert stored(tmp_path) == 0


def test_what_another_release_stored_is_never_served(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The key carries a digest of the reading code: a release that reads plain groups
    # differently reads them afresh instead of trusting an older entry.
    from reconciler.fleet import plain_cache

    root = fleet_repo(tmp_path / "repo")
    cached(root)
    reads.clear()
    plain_cache._reading_code.cache_clear()
    monkeypatch.setattr(plain_cache, "FORMAT", "plain-manifests-next")
    try:
        cached(root)
    finally:
        plain_cache._reading_code.cache_clear()
    assert sorted(reads) == ["a", "b"]
