"""Rollout surge: what a change makes the cluster hold at once, by each controller's rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.plan.surge import rollout_of


def deployment(*, replicas: int, image: str = "app:1", strategy: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "template": {
            "spec": {
                "containers": [
                    {"name": "app", "image": image, "resources": {"requests": {"cpu": "1"}}}
                ]
            }
        },
    }
    if strategy is not None:
        spec["strategy"] = strategy
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": spec,
    }


def ray_service(
    *, worker_cpu: str = "4", replicas: int = 2, strategy: str | None = None, groups: int = 1
) -> dict[str, Any]:
    def pod(cpu: str) -> dict[str, Any]:
        return {"spec": {"containers": [{"name": "ray", "resources": {"requests": {"cpu": cpu}}}]}}

    spec: dict[str, Any] = {
        "rayClusterConfig": {
            "headGroupSpec": {"template": pod("2")},
            "workerGroupSpecs": [
                {
                    "groupName": f"g{i}",
                    "replicas": replicas,
                    "minReplicas": 1,
                    "maxReplicas": 4,
                    "template": pod(worker_cpu),
                }
                for i in range(groups)
            ],
        }
    }
    if strategy is not None:
        spec["upgradeStrategy"] = {"type": strategy}
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "rs"},
        "spec": spec,
    }


def cpus(rollout: Any) -> list[int]:
    return [shape.requests["cpu"] for shape in rollout.new]


def test_a_ray_cluster_config_change_needs_a_whole_second_copy() -> None:
    rollout = rollout_of(ray_service(worker_cpu="6"), base=ray_service(), namespace="ns")
    assert rollout is not None
    # head + 2 workers of the new config (the workers carry KubeRay's wait-gcs-ready init).
    assert cpus(rollout) == [2000, 6000, 6000]
    assert rollout.released == 0
    assert rollout.key == ("RayService", "ns", "rs")


def test_replicas_only_scale_the_active_ray_cluster_in_place() -> None:
    rollout = rollout_of(ray_service(replicas=3), base=ray_service(), namespace="ns")
    assert rollout is not None
    assert cpus(rollout) == [4000]  # one more worker, no second cluster


def test_an_appended_worker_group_is_added_in_place() -> None:
    rollout = rollout_of(ray_service(groups=2), base=ray_service(), namespace="ns")
    assert rollout is not None
    assert cpus(rollout) == [4000, 4000]


@pytest.mark.parametrize(("strategy", "zero_downtime"), [("None", True), (None, False)])
def test_no_upgrade_means_no_surge(strategy: str | None, zero_downtime: bool) -> None:
    rollout = rollout_of(
        ray_service(worker_cpu="6", strategy=strategy),
        base=ray_service(strategy=strategy),
        namespace="ns",
        zero_downtime=zero_downtime,
    )
    assert rollout is not None and rollout.new == ()


def test_an_explicit_new_cluster_strategy_upgrades_even_with_the_env_off() -> None:
    rollout = rollout_of(
        ray_service(worker_cpu="6", strategy="NewCluster"),
        base=ray_service(strategy="NewCluster"),
        namespace="ns",
        zero_downtime=False,
    )
    assert rollout is not None and len(rollout.new) == 3


def test_an_incremental_upgrade_starts_from_the_head_and_min_replicas() -> None:
    head = ray_service(worker_cpu="6", strategy="NewClusterWithIncrementalUpgrade")
    base = ray_service(strategy="NewClusterWithIncrementalUpgrade")
    rollout = rollout_of(head, base=base, namespace="ns")
    assert rollout is not None
    assert cpus(rollout) == [2000, 6000]  # minReplicas 1, not replicas 2
    assert head == ray_service(worker_cpu="6", strategy="NewClusterWithIncrementalUpgrade")


@pytest.mark.parametrize(
    ("replicas", "rolling", "new", "released"),
    [
        (3, None, 1, 0),  # 25%/25%: surge ceil(0.75)=1, unavailable floor(0.75)=0
        (10, None, 1, 2),  # unavailable floor(2.5)=2: a new pod once 2 old ones are gone
        (4, {"maxSurge": "50%", "maxUnavailable": 0}, 2, 0),
        (4, {"maxSurge": 0, "maxUnavailable": 0}, 1, 1),  # kube makes maxUnavailable 1
        (4, {"maxSurge": 3, "maxUnavailable": "0%"}, 3, 0),
    ],
)
def test_rolling_update_fenceposts(replicas: int, rolling: Any, new: int, released: int) -> None:
    strategy = None if rolling is None else {"type": "RollingUpdate", "rollingUpdate": rolling}
    head = deployment(replicas=replicas, image="app:2", strategy=strategy)
    rollout = rollout_of(
        head, base=deployment(replicas=replicas, strategy=strategy), namespace="ns"
    )
    assert rollout is not None
    assert (len(rollout.new), rollout.released) == (new, released)


def test_recreate_lets_every_old_pod_go_first() -> None:
    strategy = {"type": "Recreate"}
    head = deployment(replicas=3, image="app:2", strategy=strategy)
    rollout = rollout_of(head, base=deployment(replicas=3, strategy=strategy), namespace="ns")
    assert rollout is not None
    assert (len(rollout.new), rollout.released) == (3, 3)


def test_a_stateful_set_replaces_one_pod_at_a_time() -> None:
    old = deployment(replicas=3)
    old["kind"] = "StatefulSet"
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "app:2"
    rollout = rollout_of(new, base=old, namespace="ns")
    assert rollout is not None
    assert (len(rollout.new), rollout.released) == (1, 1)


def test_scaling_a_deployment_adds_only_the_new_replicas() -> None:
    rollout = rollout_of(deployment(replicas=5), base=deployment(replicas=3), namespace="ns")
    assert rollout is not None
    assert (len(rollout.new), rollout.released) == (2, 0)


def test_unchanged_or_podless_manifests_start_no_rollout() -> None:
    assert rollout_of(deployment(replicas=2), base=deployment(replicas=2), namespace="ns") is None
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert rollout_of({**config_map, "data": {"a": "1"}}, base=config_map, namespace="ns") is None
