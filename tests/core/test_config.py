"""fleet.yaml and placement.yaml: defaults, layering, and errors that name file and field."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.core.config import (
    format_duration,
    load_fleet_config,
    load_policy,
    parse_duration,
    resolve_policy,
)

MINIMAL = {"clusters": [{"name": "onprem"}, {"name": "cloud", "labels": {"site": "cloud"}}]}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("24h", 86400),
        ("2d", 172800),
        ("1.5h", 5400),
        ("500ms", 0.5),
        (45, 45),
    ],
)
def test_durations_parse_like_users_write_them(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "m5", "five minutes", "-5m", True, None, [1]])
def test_garbage_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    for text in ("5m", "1h30m", "45s", "24h"):
        assert format_duration(parse_duration(text)) == text


def test_defaults_apply_when_fleet_yaml_is_minimal() -> None:
    config, problems = load_fleet_config(MINIMAL, file="fleet.yaml")
    assert problems == [] and config is not None
    policy = resolve_policy(config.defaults, None)
    assert policy.pending_grace_period == dt.timedelta(minutes=5)
    assert policy.cooldown == dt.timedelta(minutes=30)
    assert policy.veto_window == dt.timedelta(hours=24)
    assert policy.skip_capacity_relocate is False
    assert policy.strategy == "auto"
    assert config.git.branch == "main"
    assert config.mode == "direct"  # no GitHub repo named


def test_mode_defaults_to_pr_when_a_github_repo_is_named() -> None:
    config, _ = load_fleet_config({**MINIMAL, "git": {"github": {"repo": "org/fleet"}}}, file="f")
    assert config is not None and config.mode == "pr"


def test_placement_yaml_overrides_fleet_defaults_field_by_field() -> None:
    config, _ = load_fleet_config(
        {**MINIMAL, "defaults": {"cooldown": "1h", "preferredClusters": ["onprem", "cloud"]}},
        file="fleet.yaml",
    )
    fields, problems = load_policy(
        {"skipCapacityRelocate": True, "clusterSelector": {"matchLabels": {"site": "cloud"}}},
        file="placement.yaml",
    )
    assert config is not None and fields is not None and problems == []
    policy = resolve_policy(config.defaults, fields)
    assert policy.skip_capacity_relocate is True
    assert policy.cooldown == dt.timedelta(hours=1)  # from the defaults
    assert policy.preferred_clusters == ("onprem", "cloud")
    assert policy.allows(config.clusters[1]) and not policy.allows(config.clusters[0])


def test_allowed_clusters_limit_the_targets() -> None:
    config, _ = load_fleet_config(MINIMAL, file="fleet.yaml")
    fields, _ = load_policy({"allowedClusters": ["onprem"]}, file="placement.yaml")
    assert config is not None
    policy = resolve_policy(config.defaults, fields)
    assert policy.allows(config.clusters[0]) and not policy.allows(config.clusters[1])


def test_an_empty_placement_yaml_is_an_empty_policy() -> None:
    fields, problems = load_policy(None, file="placement.yaml")
    assert fields is not None and problems == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"clusters": [{"name": "a"}, {"name": "a"}]}, "", "clusters[1].name: 'a' is listed twice"),
        ({"clusters": [{"name": "UPPER"}]}, "clusters[0].name", "is not a valid cluster name"),
        (
            {"clusters": [{"name": "a", "reserve": {"cpu": "-1"}}]},
            "clusters[0].reserve",
            "cpu: must not be negative",
        ),
        (
            {"clusters": [{"name": "a", "reserve": {"memory": "4 Gi"}}]},
            "clusters[0].reserve",
            "memory: '4 Gi' is not a quantity",
        ),
        ({"clusters": [{"context": "x"}]}, "clusters[0].name", "is required"),
        ({"clusters": "onprem"}, "clusters", "Input should be a valid list"),
        ({"clusters": [{"name": "a"}], "git": {"mode": "yolo"}}, "git.mode", "'pr', 'direct'"),
        (
            {"clusters": [{"name": "a"}], "defaults": {"skipCapacityRelocate": "maybe"}},
            "defaults.skipCapacityRelocate",
            "valid boolean",
        ),
    ],
)
def test_invalid_fleet_yaml_names_the_field(data: object, field: str, message: str) -> None:
    config, problems = load_fleet_config(data, file="fleet.yaml")
    assert config is None
    assert any(
        p.file == "fleet.yaml" and p.field.startswith(field) and message in str(p) for p in problems
    ), [str(p) for p in problems]


def test_unknown_keys_are_warned_not_fatal() -> None:
    data = {"clusters": [{"name": "a", "colour": "blue"}], "defualts": {}}
    config, problems = load_fleet_config(data, file="fleet.yaml")
    assert config is not None
    assert {(p.field, p.severity) for p in problems} == {
        ("clusters[0].colour", "warning"),
        ("defualts", "warning"),
    }


@pytest.mark.parametrize("data", [[], "text", 3])
def test_a_policy_that_is_not_a_mapping_is_an_error(data: object) -> None:
    fields, problems = load_policy(data, file="g/placement.yaml")
    assert fields is None
    assert "expected a mapping at the top level" in problems[0].message


@pytest.mark.parametrize(
    "text", ["86400000000000.0", 1e300, "99999999d", float("inf"), float("nan")]
)
def test_absurdly_long_durations_are_refused_not_overflowed(text: object) -> None:
    with pytest.raises(ValueError, match=r"maximum|not a duration"):
        parse_duration(text)
